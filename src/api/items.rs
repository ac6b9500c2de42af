//! Items and content parts: the conversation vocabulary shared by input, output and stored history.

mod content;

pub use self::content::{ContentPart, MessageContent};

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
mod tests;
