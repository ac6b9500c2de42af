//! The `chat.completion` body and its `chat.completion.chunk` frames: written by the front door,
//! read from Azure OpenAI and compatible upstreams. Reading is tolerant (unknown fields ignored,
//! `null` accepted wherever upstreams send it); fields the reading side never looked at (`id`,
//! `object`, `created`, a call's `type`, a message's `role`) are write-only, so an odd value
//! there cannot fail a read. Also the lenient reading of upstream error envelopes.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::nullable;

/// A `chat.completion` or a `chat.completion.chunk` (same envelope; `message` vs `delta`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct ChatCompletion {
    /// `chatcmpl-…` (the same for every chunk of a stream); written only.
    #[serde(skip_deserializing)]
    pub id: String,
    /// `chat.completion` or `chat.completion.chunk`; written only.
    #[serde(skip_deserializing)]
    pub object: &'static str,
    /// Unix seconds; written only.
    #[serde(skip_deserializing)]
    pub created: u64,
    /// The model that answered (Azure: the underlying snapshot; empty on the pre-chunk).
    #[serde(deserialize_with = "nullable")]
    pub model: String,
    /// Choices (none on Azure's prompt-filter frame and on the usage chunk).
    #[serde(deserialize_with = "nullable")]
    pub choices: Vec<Choice>,
    /// Usage: always written on a completion; on chunks only with `include_usage` (`null`
    /// until the last chunk, as OpenAI does). Read as `Some(Some(_))` when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Option<ChatUsage>>,
    /// An in-band error (`data: {"error": …}` frames, some compatible upstreams on 200); read
    /// only (the front door writes its errors as an `ErrorBody`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
}

/// One choice.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct Choice {
    /// Choice index (always 0 written; only 0 read).
    #[serde(deserialize_with = "nullable")]
    pub index: u32,
    /// The whole message (completions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<Delta>,
    /// The increment (chunks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta: Option<Delta>,
    /// Written as `null` (this gateway returns none); never read, so an upstream's token lists
    /// (sent on every chunk when `top_logprobs` is asked for) are skipped, not built.
    #[serde(skip_deserializing)]
    pub logprobs: Option<Value>,
    /// `stop`, `length`, `tool_calls`, `content_filter`, `function_call`; `null` on chunks
    /// before the last. Borrowed when written.
    pub finish_reason: Option<Cow<'static, str>>,
}

/// A message or delta.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct Delta {
    /// `assistant` (on the message and the first delta); written only.
    #[serde(skip_serializing_if = "Option::is_none", skip_deserializing)]
    pub role: Option<&'static str>,
    /// Text: a string, or (read from some compatible upstreams) text parts, see
    /// [`content_text`]; written as a string, or `null` on a message that only calls tools.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<Value>,
    /// Refusal text (`Some(None)` writes `null`; a `null` read is `None`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<Option<String>>,
    /// Raw reasoning text some compatible upstreams send (DeepSeek, vLLM); read only, and used
    /// only if a string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<Value>,
    /// Tool calls (whole on a message, fragments keyed by `index` on deltas).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCallDelta>>,
}

/// A tool call or a fragment of one.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct ToolCallDelta {
    /// Position among the turn's calls (on deltas).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// Call id (first fragment, or whole).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `function` (first fragment, or whole); written only.
    #[serde(
        rename = "type",
        skip_serializing_if = "Option::is_none",
        skip_deserializing
    )]
    pub kind: Option<&'static str>,
    /// Name and arguments (or an argument piece).
    #[serde(deserialize_with = "nullable")]
    pub function: FunctionDelta,
}

/// Function name and arguments (or pieces of them).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct FunctionDelta {
    /// Name (first fragment, or whole).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Arguments or a piece of them (empty when missing or `null`).
    #[serde(deserialize_with = "nullable")]
    pub arguments: String,
}

/// `usage` (a missing or `null` count reads as 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct ChatUsage {
    /// Prompt tokens (cached included).
    #[serde(deserialize_with = "nullable")]
    pub prompt_tokens: u64,
    /// Generated tokens (reasoning included).
    #[serde(deserialize_with = "nullable")]
    pub completion_tokens: u64,
    /// Both; written only (the gateway sums them itself).
    #[serde(skip_deserializing)]
    pub total_tokens: u64,
    /// Prompt breakdown.
    #[serde(deserialize_with = "nullable")]
    pub prompt_tokens_details: PromptDetails,
    /// Completion breakdown.
    #[serde(deserialize_with = "nullable")]
    pub completion_tokens_details: CompletionDetails,
}

/// `prompt_tokens_details`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct PromptDetails {
    /// Tokens read from the prompt cache.
    #[serde(deserialize_with = "nullable")]
    pub cached_tokens: u64,
}

/// `completion_tokens_details`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct CompletionDetails {
    /// Tokens spent reasoning.
    #[serde(deserialize_with = "nullable")]
    pub reasoning_tokens: u64,
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
