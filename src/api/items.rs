//! Items and content parts: the conversation vocabulary shared by input, output and stored history.

use serde::{Deserialize, Deserializer, Serialize, de::Error as _};
use serde_json::{Map, Value};

/// One conversation item (spec `ItemParam` on input, `ItemField` on output).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Item status; always set on output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ItemStatus>,
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
    fn unknown_item_type_is_rejected() {
        let err = serde_json::from_value::<Wrapper>(json!({"type":"web_search_call","id":"x"}));
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
