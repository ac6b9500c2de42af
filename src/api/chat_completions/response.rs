//! The `chat.completion` body and its `chat.completion.chunk` frames: written by the front door,
//! read from Azure OpenAI and compatible upstreams. Reading is tolerant (unknown fields ignored,
//! `null` accepted wherever upstreams send it); fields the reading side never looked at (`id`,
//! `object`, `created`, a call's `type`, a message's `role`) are write-only, so an odd value
//! there cannot fail a read.

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
    /// Text: a string, or (read from some compatible upstreams) text parts, which the Azure
    /// upstream joins; written as a string, or `null` on a message that only calls tools.
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
