//! Chat Completions wire types as a *server* sees them: the request clients send (tolerant:
//! unknown fields ignored) and the `chat.completion` / `chat.completion.chunk` bodies we write.
//! `providers::azure::wire` holds the opposite directions (what we send upstream, what we read
//! back), whose shapes differ: serialize-only requests with fixed tags, read-only replies.
//! Reference: https://platform.openai.com/docs/api-reference/chat

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::ProviderKind;

// === request ===

/// `POST /v1/chat/completions` body.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ChatCompletionRequest {
    /// Model name (routing as for `/v1/responses`).
    #[serde(default)]
    pub model: Option<String>,
    /// The conversation.
    #[serde(default)]
    pub messages: Option<Vec<InMessage>>,
    /// Output cap (current name).
    #[serde(default)]
    pub max_completion_tokens: Option<u32>,
    /// Output cap (deprecated name).
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// Sampling temperature.
    #[serde(default)]
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    #[serde(default)]
    pub top_p: Option<f64>,
    /// Presence penalty.
    #[serde(default)]
    pub presence_penalty: Option<f64>,
    /// Frequency penalty.
    #[serde(default)]
    pub frequency_penalty: Option<f64>,
    /// Number of choices (only 1 is supported).
    #[serde(default)]
    pub n: Option<u32>,
    /// Stop sequences (no Open Responses equivalent: ignored).
    #[serde(default)]
    pub stop: Option<Value>,
    /// Log probabilities (not returned by this gateway).
    #[serde(default)]
    pub logprobs: Option<bool>,
    /// Top log probabilities per token.
    #[serde(default)]
    pub top_logprobs: Option<u32>,
    /// Function tools.
    #[serde(default)]
    pub tools: Option<Vec<InTool>>,
    /// How the model picks tools.
    #[serde(default)]
    pub tool_choice: Option<Value>,
    /// Whether several tool calls may come at once.
    #[serde(default)]
    pub parallel_tool_calls: Option<bool>,
    /// Legacy function definitions (rejected: use `tools`).
    #[serde(default)]
    pub functions: Option<Value>,
    /// Structured output.
    #[serde(default)]
    pub response_format: Option<InResponseFormat>,
    /// Reasoning effort.
    #[serde(default)]
    pub reasoning_effort: Option<String>,
    /// `low`, `medium`, `high`.
    #[serde(default)]
    pub verbosity: Option<String>,
    /// SSE when true.
    #[serde(default)]
    pub stream: Option<bool>,
    /// `include_usage`.
    #[serde(default)]
    pub stream_options: Option<InStreamOptions>,
    /// End-user id (deprecated name of `safety_identifier`).
    #[serde(default)]
    pub user: Option<String>,
    /// Stable end-user id.
    #[serde(default)]
    pub safety_identifier: Option<String>,
    /// Prompt cache key.
    #[serde(default)]
    pub prompt_cache_key: Option<String>,
    /// Service tier.
    #[serde(default)]
    pub service_tier: Option<String>,
    /// Up to 16 string pairs.
    #[serde(default)]
    pub metadata: Option<BTreeMap<String, String>>,
    /// Gateway extension: pin the provider.
    #[serde(default)]
    pub provider: Option<ProviderKind>,
}

/// `stream_options`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct InStreamOptions {
    /// Send a final chunk with usage.
    #[serde(default)]
    pub include_usage: Option<bool>,
}

/// One message, tagged by `role`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum InMessage {
    /// System guidance.
    System {
        /// Text or text parts.
        content: InContent,
    },
    /// Developer guidance.
    Developer {
        /// Text or text parts.
        content: InContent,
    },
    /// The user.
    User {
        /// Text or parts.
        content: InContent,
    },
    /// An earlier model turn.
    Assistant {
        /// Text, text/refusal parts, or null when it only calls tools.
        #[serde(default)]
        content: Option<InContent>,
        /// A refusal.
        #[serde(default)]
        refusal: Option<String>,
        /// Tool calls made in the turn.
        #[serde(default)]
        tool_calls: Option<Vec<InToolCall>>,
    },
    /// A tool result.
    Tool {
        /// The call this answers.
        tool_call_id: String,
        /// The result.
        content: InContent,
    },
    /// Legacy function result (rejected: use `tool`).
    Function {},
}

/// Message content: a string or parts.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum InContent {
    /// Plain text.
    Text(String),
    /// Content parts.
    Parts(Vec<InPart>),
}

/// A content part.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InPart {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// An image by URL or data URL.
    ImageUrl {
        /// The image.
        image_url: InImageUrl,
    },
    /// A file inline or by provider id.
    File {
        /// The file.
        file: InFile,
    },
    /// Audio input (not supported).
    InputAudio {},
    /// An assistant refusal.
    Refusal {
        /// The refusal text.
        refusal: String,
    },
}

/// `image_url` of an image part.
#[derive(Debug, Clone, Deserialize)]
pub struct InImageUrl {
    /// URL or `data:` URL.
    pub url: String,
    /// `low`, `high`, `auto`.
    #[serde(default)]
    pub detail: Option<String>,
}

/// `file` of a file part.
#[derive(Debug, Clone, Deserialize)]
pub struct InFile {
    /// Base64 data URL.
    #[serde(default)]
    pub file_data: Option<String>,
    /// Provider file id.
    #[serde(default)]
    pub file_id: Option<String>,
    /// File name.
    #[serde(default)]
    pub filename: Option<String>,
}

/// A tool call inside an assistant message.
#[derive(Debug, Clone, Deserialize)]
pub struct InToolCall {
    /// The call id.
    pub id: String,
    /// Name and arguments.
    pub function: InFunctionCall,
}

/// Function name and JSON-string arguments.
#[derive(Debug, Clone, Deserialize)]
pub struct InFunctionCall {
    /// Function name.
    pub name: String,
    /// Arguments as a JSON string.
    #[serde(default)]
    pub arguments: String,
}

/// A tool definition.
#[derive(Debug, Clone, Deserialize)]
pub struct InTool {
    /// `function` (anything else is rejected).
    #[serde(rename = "type")]
    pub kind: String,
    /// The function.
    #[serde(default)]
    pub function: Option<InFunction>,
}

/// A function definition.
#[derive(Debug, Clone, Deserialize)]
pub struct InFunction {
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// JSON Schema of the arguments.
    #[serde(default)]
    pub parameters: Option<Value>,
    /// Strict schema adherence.
    #[serde(default)]
    pub strict: Option<bool>,
}

/// `response_format`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InResponseFormat {
    /// Free text.
    Text,
    /// Any JSON object.
    JsonObject,
    /// JSON matching a schema.
    JsonSchema {
        /// The schema and its name.
        json_schema: InJsonSchema,
    },
}

/// `response_format.json_schema`.
#[derive(Debug, Clone, Deserialize)]
pub struct InJsonSchema {
    /// Schema name.
    pub name: String,
    /// Schema description.
    #[serde(default)]
    pub description: Option<String>,
    /// The JSON Schema.
    #[serde(default)]
    pub schema: Option<Value>,
    /// Strict adherence.
    #[serde(default)]
    pub strict: Option<bool>,
}

// === response and chunks ===

/// A `chat.completion` or `chat.completion.chunk`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Completion {
    /// `chatcmpl-…` (the same for every chunk of a stream).
    pub id: String,
    /// `chat.completion` or `chat.completion.chunk`.
    pub object: &'static str,
    /// Unix seconds.
    pub created: u64,
    /// The model that answered.
    pub model: String,
    /// One choice (none on the usage chunk).
    pub choices: Vec<OutChoice>,
    /// Usage: always on a completion; on chunks only with `include_usage` (`null` until the
    /// last chunk), as OpenAI does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Option<OutUsage>>,
}

/// One choice.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutChoice {
    /// Always 0.
    pub index: u32,
    /// The whole message (completions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<OutMessage>,
    /// The increment (chunks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta: Option<OutMessage>,
    /// Not returned by this gateway.
    pub logprobs: Option<Value>,
    /// `stop`, `length`, `tool_calls`, `content_filter`; `null` on chunks before the last.
    pub finish_reason: Option<&'static str>,
}

/// A message or delta.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OutMessage {
    /// `assistant` (on the message and the first delta).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'static str>,
    /// Text (`null` on a message that only calls tools).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<Option<String>>,
    /// Refusal text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<Option<String>>,
    /// Tool calls (whole on a message, fragments keyed by `index` on deltas).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<OutToolCall>>,
}

/// A tool call or a fragment of one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutToolCall {
    /// Position among the turn's calls (always on deltas).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// Call id (first fragment, or whole).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `function` (first fragment, or whole).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    /// Name and arguments (or an argument piece).
    pub function: OutFunction,
}

/// Function name and arguments.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutFunction {
    /// Name (first fragment, or whole).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Arguments or a piece of them.
    pub arguments: String,
}

/// `usage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OutUsage {
    /// Input tokens.
    pub prompt_tokens: u64,
    /// Output tokens.
    pub completion_tokens: u64,
    /// Both.
    pub total_tokens: u64,
    /// Input breakdown.
    pub prompt_tokens_details: OutPromptDetails,
    /// Output breakdown.
    pub completion_tokens_details: OutCompletionDetails,
}

/// `prompt_tokens_details`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OutPromptDetails {
    /// Tokens read from a prompt cache.
    pub cached_tokens: u64,
}

/// `completion_tokens_details`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OutCompletionDetails {
    /// Tokens spent reasoning.
    pub reasoning_tokens: u64,
}
