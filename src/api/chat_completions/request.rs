//! The Chat Completions request (`POST …/chat/completions`): read from clients by the front door,
//! written to Azure OpenAI. Fields only clients send (`n`, `stop`, `functions`, `user`, …) are
//! never set upstream and so never written.

use std::{borrow::Cow, collections::BTreeMap};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::ProviderKind;

/// `POST …/chat/completions` body. Unknown fields are ignored.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct ChatRequest {
    /// The model (routing on the front door; Azure ignores it on the deployment path).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The conversation (an `Option` so a missing one gets the front door's own message).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<ChatMessage>>,
    /// Output cap, reasoning included (current name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u32>,
    /// Output cap (deprecated name; read, never written).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Sampling temperature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Presence penalty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    /// Frequency penalty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    /// Number of choices (the front door supports only 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    /// Stop sequences (no Open Responses equivalent: ignored by the front door).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop: Option<Value>,
    /// Whether to return log probabilities.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<bool>,
    /// How many top log probabilities per token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_logprobs: Option<u32>,
    /// Function tools (never written as an empty list: upstreams reject `tools: []`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<ChatTool>>,
    /// How the model picks tools.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
    /// Whether several tool calls may come at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// Legacy function definitions (the front door rejects them: use `tools`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub functions: Option<Value>,
    /// Structured output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
    /// `low`, `medium`, `high`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verbosity: Option<String>,
    /// Reasoning effort.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<String>,
    /// End-user id (deprecated name of `safety_identifier`; read, never written).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Stable end-user id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safety_identifier: Option<String>,
    /// Prompt cache key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_cache_key: Option<String>,
    /// Service tier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
    /// Up to 16 string pairs (never written: upstream only takes them with `store: true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
    /// `true` for SSE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// `include_usage` (always `true` upstream when streaming).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    /// Gateway extension on the front door: pin the provider (never written upstream).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<ProviderKind>,
}

/// `stream_options`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct StreamOptions {
    /// Send (or ask for) a final chunk with usage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_usage: Option<bool>,
}

/// One message, tagged by `role`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum ChatMessage {
    /// System guidance.
    System {
        /// Text or text parts.
        content: ChatContent,
    },
    /// Developer guidance (newer models).
    Developer {
        /// Text or text parts.
        content: ChatContent,
    },
    /// The user.
    User {
        /// Text or parts.
        content: ChatContent,
    },
    /// An earlier model turn.
    Assistant(AssistantMessage),
    /// A tool result.
    Tool {
        /// The call this answers.
        tool_call_id: String,
        /// The result.
        content: ChatContent,
    },
    /// Legacy function result (read so the front door can reject it by name: use `tool`).
    Function {},
}

/// An assistant turn: text, refusal and tool calls.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct AssistantMessage {
    /// Text, text/refusal parts, or none when the turn only calls tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<ChatContent>,
    /// A refusal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// Tool calls made in this turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ChatToolCall>>,
}

/// Message content: a string or parts.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum ChatContent {
    /// Plain text.
    Text(String),
    /// Content parts.
    Parts(Vec<ChatPart>),
}

/// A content part.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChatPart {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// An image by URL or data URL.
    ImageUrl {
        /// The image.
        image_url: ImageUrl,
    },
    /// A file (PDF) inline or by provider id.
    File {
        /// The file.
        file: FileData,
    },
    /// Audio input (read so the front door can reject it by name).
    InputAudio {},
    /// An assistant refusal.
    Refusal {
        /// The refusal text.
        refusal: String,
    },
}

/// `image_url` of an image part.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct ImageUrl {
    /// URL or `data:` URL.
    pub url: String,
    /// `low`, `high`, `auto`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// `file` of a file part.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct FileData {
    /// Base64 data (a `data:` URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_data: Option<String>,
    /// Provider file id (OpenAI only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    /// File name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

/// A tool call inside an assistant message.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct ChatToolCall {
    /// The call id (our `call_id`).
    pub id: String,
    /// Always `function`: written, never read (clients may omit it or send anything).
    #[serde(rename = "type", skip_deserializing, default = "function")]
    pub kind: &'static str,
    /// Name and arguments.
    pub function: ChatFunctionCall,
}

/// The `type` of every tool call.
fn function() -> &'static str {
    "function"
}

/// Function name and JSON-string arguments.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct ChatFunctionCall {
    /// Function name.
    pub name: String,
    /// Arguments as a JSON string.
    #[serde(default)]
    pub arguments: String,
}

/// A tool definition.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct ChatTool {
    /// `function` (the front door rejects anything else by name); borrowed when written.
    #[serde(rename = "type")]
    pub kind: Cow<'static, str>,
    /// The function (always there when written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<ChatFunction>,
}

/// A function definition.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct ChatFunction {
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Strict schema adherence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

/// `response_format`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    /// Free text.
    Text,
    /// Any JSON object.
    JsonObject,
    /// JSON matching a schema.
    JsonSchema {
        /// The schema and its name.
        json_schema: JsonSchema,
    },
}

/// `response_format.json_schema`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct JsonSchema {
    /// Schema name.
    pub name: String,
    /// Schema description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON Schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
    /// Strict adherence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}
