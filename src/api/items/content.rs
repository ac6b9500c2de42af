//! Message content: a plain string or content parts (text, refusal, images, files, video,
//! reasoning text), and the text a part carries.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Role;

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
