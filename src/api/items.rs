//! Items and content parts: the conversation vocabulary shared by input, output and stored history.

use serde::{Deserialize, Deserializer, Serialize, de::Error as _};
use serde_json::{Map, Value};

/// One conversation item (spec `ItemParam` on input, `ItemField` on output).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Item {
    /// A message from the user, the assistant, or the system/developer.
    Message(MessageItem),
    /// A tool call produced by the model.
    FunctionCall(FunctionCallItem),
    /// The caller's result for an earlier tool call.
    FunctionCallOutput(FunctionCallOutputItem),
    /// Reasoning produced by the model (summary, raw text, opaque encrypted state).
    Reasoning(ReasoningItem),
    /// A compacted window of earlier conversation.
    Compaction(CompactionItem),
    /// A reference to an item stored by the server.
    ItemReference(ItemReference),
    /// A freeform tool call (OpenAI's dialect; only produced when the request has `custom` tools).
    CustomToolCall(CustomToolCallItem),
    /// The caller's result for a `custom_tool_call`.
    CustomToolCallOutput(CustomToolCallOutputItem),
    /// Any other item type of OpenAI's dialect (`web_search_call`, `tool_search_call`, …), kept
    /// verbatim with its `type`: passed to OpenAI, and a 400 naming it where a provider cannot
    /// represent it.
    #[serde(untagged)]
    Other(Map<String, Value>),
}

/// OpenAI's other input item types (https://platform.openai.com/docs/api-reference/responses/create,
/// `input`), kept verbatim; anything else is a typo and a 400 here, never an upstream's problem.
const OPENAI_ITEM_TYPES: &[&str] = &[
    "web_search_call",
    "file_search_call",
    "computer_call",
    "computer_call_output",
    "code_interpreter_call",
    "image_generation_call",
    "local_shell_call",
    "local_shell_call_output",
    "shell_call",
    "shell_call_output",
    "apply_patch_call",
    "apply_patch_call_output",
    "mcp_list_tools",
    "mcp_approval_request",
    "mcp_approval_response",
    "mcp_call",
    "tool_search_call",
    "tool_search_output",
];

/// The types named in an unknown-type error.
const KNOWN_ITEM_TYPES: &[&str] = &[
    "message",
    "function_call",
    "function_call_output",
    "reasoning",
    "compaction",
    "item_reference",
    "custom_tool_call",
    "custom_tool_call_output",
    "web_search_call",
    "tool_search_call",
    "tool_search_output",
];

/// By `type`: a known type must match its shape (a malformed `function_call` is an error, not
/// an `Other`); only unknown types are kept verbatim.
impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use super::tagged::parse;
        let (kind, map) = super::tagged::split(Map::<String, Value>::deserialize(deserializer)?)?;
        Ok(match kind.as_str() {
            "message" => Self::Message(parse(map)?),
            "function_call" => Self::FunctionCall(parse(map)?),
            "function_call_output" => Self::FunctionCallOutput(parse(map)?),
            "reasoning" => Self::Reasoning(parse(map)?),
            "compaction" => Self::Compaction(parse(map)?),
            "item_reference" => Self::ItemReference(parse(map)?),
            "custom_tool_call" => Self::CustomToolCall(parse(map)?),
            "custom_tool_call_output" => Self::CustomToolCallOutput(parse(map)?),
            other if OPENAI_ITEM_TYPES.contains(&other) => Self::Other(map),
            other => return Err(D::Error::unknown_variant(other, KNOWN_ITEM_TYPES)),
        })
    }
}

/// Lifecycle of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// Still being produced.
    InProgress,
    /// Finished normally.
    Completed,
    /// Cut off (token budget, content filter).
    Incomplete,
}

/// Who authored a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The end user.
    User,
    /// The model.
    Assistant,
    /// System-level guidance.
    System,
    /// Developer-level guidance.
    Developer,
}

/// A message item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageItem {
    /// Item id (`msg_…`); always set on output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Item status; always set on output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ItemStatus>,
    /// Author.
    pub role: Role,
    /// A string or a list of content parts.
    pub content: MessageContent,
    /// `commentary` or `final_answer` for assistant messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
}

/// Message content: a plain string or a list of parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MessageContent {
    /// Shorthand for one text part.
    Text(String),
    /// Explicit content parts.
    Parts(Vec<ContentPart>),
}

impl MessageContent {
    /// The content as parts; a plain string becomes one text part of the kind the role implies.
    pub fn to_parts(&self, role: Role) -> Vec<ContentPart> {
        match self {
            Self::Parts(parts) => parts.clone(),
            Self::Text(text) if role == Role::Assistant => vec![ContentPart::output_text(text)],
            Self::Text(text) => vec![ContentPart::InputText { text: text.clone() }],
        }
    }

    /// All text in the content joined without separators (text, output_text, input_text, refusal).
    pub fn joined_text(&self) -> String {
        match self {
            Self::Text(text) => text.clone(),
            Self::Parts(parts) => parts.iter().filter_map(ContentPart::text).collect(),
        }
    }
}

/// A content part inside a message, tool output or reasoning item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentPart {
    /// User-provided text.
    InputText {
        /// The text.
        text: String,
    },
    /// An image by URL or `data:` URL.
    InputImage {
        /// URL or data URL of the image.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        image_url: Option<String>,
        /// Provider file id (OpenAI only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file_id: Option<String>,
        /// `low`, `high` or `auto`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// A file (PDF etc.) inline or by URL.
    InputFile {
        /// File name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        filename: Option<String>,
        /// Base64 data, optionally as a data URL.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file_data: Option<String>,
        /// URL of the file.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file_url: Option<String>,
        /// Provider file id (OpenAI only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file_id: Option<String>,
    },
    /// A video by URL (tool outputs only).
    InputVideo {
        /// URL of the video.
        video_url: String,
    },
    /// Model-generated text.
    OutputText {
        /// The text.
        text: String,
        /// URL citations.
        #[serde(default)]
        annotations: Vec<Value>,
        /// Token log probabilities, when requested.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        logprobs: Option<Vec<Value>>,
    },
    /// A refusal by the model.
    Refusal {
        /// The refusal text.
        refusal: String,
    },
    /// Plain text.
    Text {
        /// The text.
        text: String,
    },
    /// A reasoning summary chunk.
    SummaryText {
        /// The text.
        text: String,
    },
    /// Raw reasoning text.
    ReasoningText {
        /// The text.
        text: String,
    },
}

impl ContentPart {
    /// An `output_text` part with no annotations.
    pub fn output_text(text: &str) -> Self {
        Self::OutputText {
            text: text.to_owned(),
            annotations: Vec::new(),
            logprobs: None,
        }
    }

    /// The text this part carries, if it is textual.
    pub fn text(&self) -> Option<&str> {
        match self {
            Self::InputText { text }
            | Self::OutputText { text, .. }
            | Self::Text { text }
            | Self::SummaryText { text }
            | Self::ReasoningText { text } => Some(text),
            Self::Refusal { refusal } => Some(refusal),
            Self::InputImage { .. } | Self::InputFile { .. } | Self::InputVideo { .. } => None,
        }
    }
}

/// A function call produced by the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCallItem {
    /// Item id (`fc_…`); always set on output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The id the caller answers with in `function_call_output`.
    pub call_id: String,
    /// Function name.
    pub name: String,
    /// Arguments as a JSON string.
    pub arguments: String,
    /// The `namespace` tool the function belongs to (OpenAI's dialect); absent at top level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Item status; always set on output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ItemStatus>,
}

/// A call of a `custom` tool: its input is a free string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomToolCallItem {
    /// Item id (`ctc_…`); always set on output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The id the caller answers with in `custom_tool_call_output`.
    pub call_id: String,
    /// Tool name.
    pub name: String,
    /// The `namespace` tool it belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The input string.
    pub input: String,
    /// Item status; always set on output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ItemStatus>,
}

/// The caller's answer to a custom tool call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomToolCallOutputItem {
    /// Item id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The call this answers.
    pub call_id: String,
    /// The result.
    pub output: FunctionOutput,
}

/// The caller's answer to a function call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCallOutputItem {
    /// Item id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The call this answers.
    pub call_id: String,
    /// The result.
    pub output: FunctionOutput,
    /// Item status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ItemStatus>,
}

/// A tool result: a string or content parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FunctionOutput {
    /// Text result (usually JSON).
    Text(String),
    /// Rich result.
    Parts(Vec<ContentPart>),
}

impl FunctionOutput {
    /// The result as one string (text parts joined).
    pub fn joined_text(&self) -> String {
        match self {
            Self::Text(text) => text.clone(),
            Self::Parts(parts) => parts.iter().filter_map(ContentPart::text).collect(),
        }
    }
}

/// Reasoning produced by the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReasoningItem {
    /// Item id (`rs_…`); always set on output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Summary parts (`summary_text`).
    #[serde(default)]
    pub summary: Vec<ContentPart>,
    /// Raw reasoning parts (`reasoning_text`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Vec<ContentPart>>,
    /// Opaque provider state to round-trip (never `null` on output: omitted instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted_content: Option<String>,
    /// Item status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ItemStatus>,
}

/// A compacted conversation window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompactionItem {
    /// Item id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The opaque compacted state.
    pub encrypted_content: String,
}

/// A reference to a stored item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemReference {
    /// The referenced item id.
    pub id: String,
}

/// Deserializes one input item, accepting the common shorthand `{"role": …, "content": …}`
/// without a `type` (the OpenAI SDKs' "easy input message").
pub fn deserialize_item_lenient<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Item, D::Error> {
    let mut map = Map::<String, Value>::deserialize(deserializer)?;
    if !map.contains_key("type") && map.contains_key("role") {
        map.insert("type".to_owned(), Value::String("message".to_owned()));
    }
    if matches!(map.get("type"), Some(Value::Null)) {
        map.remove("type");
        if !map.contains_key("role") {
            map.insert(
                "type".to_owned(),
                Value::String("item_reference".to_owned()),
            );
        } else {
            map.insert("type".to_owned(), Value::String("message".to_owned()));
        }
    }
    Item::deserialize(Value::Object(map)).map_err(D::Error::custom)
}

impl Item {
    /// The item's id, if it has one.
    pub fn id(&self) -> Option<&str> {
        match self {
            Self::Message(m) => m.id.as_deref(),
            Self::FunctionCall(f) => f.id.as_deref(),
            Self::FunctionCallOutput(f) => f.id.as_deref(),
            Self::Reasoning(r) => r.id.as_deref(),
            Self::Compaction(c) => c.id.as_deref(),
            Self::ItemReference(r) => Some(&r.id),
            Self::CustomToolCall(c) => c.id.as_deref(),
            Self::CustomToolCallOutput(c) => c.id.as_deref(),
            Self::Other(map) => map.get("id").and_then(Value::as_str),
        }
    }

    /// The `type` of an item kept verbatim (`Other`), for error messages.
    pub fn other_kind(&self) -> Option<&str> {
        match self {
            Self::Other(map) => Some(map.get("type").and_then(Value::as_str).unwrap_or("")),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[derive(Deserialize)]
    struct Wrapper(#[serde(deserialize_with = "deserialize_item_lenient")] Item);

    #[test]
    fn shorthand_message_without_type_is_a_message() {
        let Wrapper(item) = serde_json::from_value(json!({"role":"user","content":"hi"})).unwrap();
        assert!(matches!(
            item,
            Item::Message(MessageItem {
                role: Role::User,
                ..
            })
        ));
    }

    #[test]
    fn dialect_item_types_are_kept_verbatim() {
        let value = json!({"type":"web_search_call","id":"ws_1","status":"completed",
            "action":{"type":"search","query":"rust"}});
        let Wrapper(item) = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(item.other_kind(), Some("web_search_call"));
        assert_eq!(serde_json::to_value(&item).unwrap(), value);
        let custom = json!({"type":"custom_tool_call","call_id":"c1","name":"apply_patch","input":"*** Begin"});
        let Wrapper(item) = serde_json::from_value(custom.clone()).unwrap();
        assert!(matches!(item, Item::CustomToolCall(_)));
        assert_eq!(serde_json::to_value(&item).unwrap(), custom);
    }

    #[test]
    fn a_malformed_known_item_is_rejected() {
        let err = serde_json::from_value::<Wrapper>(json!({"type":"function_call","name":"f"}));
        assert!(err.is_err());
    }

    #[test]
    fn output_message_round_trips() {
        let value = json!({"type":"message","id":"msg_1","status":"completed","role":"assistant",
            "content":[{"type":"output_text","text":"hello","annotations":[]}]});
        let item: Item = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(serde_json::to_value(&item).unwrap(), value);
    }
}
