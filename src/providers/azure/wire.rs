//! Chat Completions wire types: the request we send (ours, `Serialize`) and the completion and
//! chunk shapes we read (tolerant: unknown fields ignored, nulls accepted wherever upstreams send them).
//! Reference: https://platform.openai.com/docs/api-reference/chat/create

use serde::{Deserialize, Serialize};
use serde_json::Value;

// === request ===

/// `POST …/chat/completions` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ChatRequest {
    /// The upstream model (Azure ignores it on the deployment path).
    pub model: String,
    /// The conversation.
    pub messages: Vec<ChatMessage>,
    /// Output cap, reasoning included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u32>,
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
    /// Whether to return log probabilities.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<bool>,
    /// How many top log probabilities per token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_logprobs: Option<u32>,
    /// Function tools (never an empty list: upstreams reject `tools: []`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<ChatTool>>,
    /// How the model picks tools.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
    /// Whether several tool calls may come at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// Structured output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<Value>,
    /// `low`, `medium`, `high`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verbosity: Option<String>,
    /// Reasoning effort.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<String>,
    /// Stable end-user id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safety_identifier: Option<String>,
    /// Prompt cache key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_cache_key: Option<String>,
    /// Service tier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
    /// `true` for SSE; omitted otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Always `include_usage: true` when streaming.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
}

/// `stream_options`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StreamOptions {
    /// Ask for the final usage chunk.
    pub include_usage: bool,
}

/// One message, tagged by `role`.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
}

/// An assistant turn: text, refusal and tool calls.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AssistantMessage {
    /// The text (omitted when the turn only calls tools).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// A refusal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// Tool calls made in this turn.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ChatToolCall>,
}

/// Message content: a string or parts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ChatContent {
    /// Plain text.
    Text(String),
    /// Content parts.
    Parts(Vec<ChatPart>),
}

/// A content part.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
}

/// `image_url` of an image part.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageUrl {
    /// URL or `data:` URL.
    pub url: String,
    /// `low`, `high`, `auto`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// `file` of a file part.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileData {
    /// Base64 data (a `data:` URL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_data: Option<String>,
    /// Provider file id (OpenAI only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    /// File name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

/// A tool call inside an assistant message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatToolCall {
    /// The call id (our `call_id`).
    pub id: String,
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Name and arguments.
    pub function: ChatFunctionCall,
}

/// Function name and JSON-string arguments.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatFunctionCall {
    /// Function name.
    pub name: String,
    /// Arguments as a JSON string.
    pub arguments: String,
}

/// A function tool definition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatTool {
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The function.
    pub function: ChatFunction,
}

/// A function definition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatFunction {
    /// Name.
    pub name: String,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the arguments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Strict schema adherence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

// === response and stream chunks ===

/// A `chat.completion` or a `chat.completion.chunk` (same envelope; `message` vs `delta`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ChatCompletion {
    /// The model that answered (Azure: the underlying snapshot; empty on the pre-chunk).
    pub model: Option<String>,
    /// Choices (empty on Azure's prompt-filter frame and on the usage chunk).
    pub choices: Option<Vec<Choice>>,
    /// Token usage (the last chunk when streaming with `include_usage`).
    pub usage: Option<ChatUsage>,
    /// An in-band error (`data: {"error": …}` frames, some compatible upstreams on 200).
    pub error: Option<Value>,
}

/// One choice.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Choice {
    /// Choice index (we only read 0).
    pub index: Option<u32>,
    /// The full message (non-streaming).
    pub message: Option<Delta>,
    /// The increment (streaming).
    pub delta: Option<Delta>,
    /// `stop`, `length`, `tool_calls`, `content_filter`, `function_call`.
    pub finish_reason: Option<String>,
}

/// Message or delta content.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Delta {
    /// Text: a string (or, on some compatible upstreams, text parts; see [`content_text`]).
    pub content: Option<Value>,
    /// Refusal text.
    pub refusal: Option<String>,
    /// Raw reasoning text some compatible upstreams send (DeepSeek, vLLM); read only if a string.
    pub reasoning_content: Option<Value>,
    /// Tool calls (whole, or fragments keyed by `index` when streaming).
    pub tool_calls: Option<Vec<ToolCallDelta>>,
}

/// A tool call or a fragment of one.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ToolCallDelta {
    /// Position among the turn's calls (streaming).
    pub index: Option<u32>,
    /// Call id (first fragment).
    pub id: Option<String>,
    /// Name (first fragment) and argument pieces.
    pub function: Option<FunctionDelta>,
}

/// Function name and arguments (or pieces of them).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FunctionDelta {
    /// Name.
    pub name: Option<String>,
    /// Arguments or a piece of them.
    pub arguments: Option<String>,
}

/// `usage`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default)]
pub struct ChatUsage {
    /// Prompt tokens (cached included).
    pub prompt_tokens: Option<u64>,
    /// Generated tokens (reasoning included).
    pub completion_tokens: Option<u64>,
    /// Prompt breakdown.
    pub prompt_tokens_details: Option<PromptDetails>,
    /// Completion breakdown.
    pub completion_tokens_details: Option<CompletionDetails>,
}

/// `prompt_tokens_details`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default)]
pub struct PromptDetails {
    /// Tokens read from the prompt cache.
    pub cached_tokens: Option<u64>,
}

/// `completion_tokens_details`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default)]
pub struct CompletionDetails {
    /// Tokens spent reasoning.
    pub reasoning_tokens: Option<u64>,
}

/// The `error` object of an error body or frame, read leniently: `code` is a string on OpenAI,
/// `"429"` on Azure and sometimes a number elsewhere; a bare string error becomes the message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorDetail {
    /// Human-readable message.
    pub message: Option<String>,
    /// Category (`invalid_request_error`, `insufficient_quota`, …; `null` on Azure).
    pub kind: Option<String>,
    /// The upstream parameter at fault.
    pub param: Option<String>,
    /// Machine-readable code (`content_filter`, `429`, `rate_limit_exceeded`, …).
    pub code: Option<String>,
}

impl ErrorDetail {
    /// Reads an `error` value (object or string).
    pub fn from_value(value: &Value) -> Self {
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
        match value {
            Value::String(message) => Self {
                message: Some(message.clone()),
                ..Self::default()
            },
            Value::Object(_) => Self {
                message: text("message"),
                kind: text("type"),
                param: text("param"),
                code: match value.get("code") {
                    Some(Value::String(code)) => Some(code.clone()),
                    Some(Value::Number(code)) => Some(code.to_string()),
                    _ => None,
                },
            },
            _ => Self::default(),
        }
    }

    /// Reads the `error` of a JSON error body, if it has one.
    pub fn from_body(body: &[u8]) -> Option<Self> {
        let value: Value = serde_json::from_slice(body).ok()?;
        value
            .get("error")
            .filter(|e| !e.is_null())
            .map(Self::from_value)
    }
}

/// The text of a `content` value: a string, or the `text` of each part of an array.
pub fn content_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter(|p| {
                p.get("type")
                    .and_then(Value::as_str)
                    .is_none_or(|t| t == "text")
            })
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect(),
        _ => String::new(),
    }
}
