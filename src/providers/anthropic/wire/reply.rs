//! What Anthropic sends back: complete messages, stream events and error bodies. Tolerant:
//! unknown fields are ignored and unknown enum values land in an `Unknown` variant.

use serde::Deserialize;
use serde_json::Value;

use crate::api::Usage;

// === response ===

/// A complete (non-streaming) Messages response.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AnthropicResponse {
    /// `message` (or `error` for an in-band error body).
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Upstream message id (`msg_…`), for logs.
    #[serde(default)]
    pub id: String,
    /// The model that answered.
    #[serde(default)]
    pub model: String,
    /// Content blocks in order.
    #[serde(default)]
    pub content: Vec<AnthropicContentBlock>,
    /// Why generation stopped.
    #[serde(default)]
    pub stop_reason: Option<AnthropicStopReason>,
    /// Refusal details.
    #[serde(default)]
    pub stop_details: Option<AnthropicStopDetails>,
    /// Token usage.
    #[serde(default)]
    pub usage: AnthropicUsage,
    /// Set when `type` is `error`.
    #[serde(default)]
    pub error: Option<AnthropicErrorDetail>,
}

/// A response content block (also `content_block_start.content_block`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AnthropicContentBlock {
    /// Visible text.
    Text {
        /// The text (empty at `content_block_start`).
        #[serde(default)]
        text: String,
        /// Sources of this text (web search results, documents).
        #[serde(default)]
        citations: Option<Vec<AnthropicCitation>>,
    },
    /// Summarized thinking with its signature.
    Thinking {
        /// The thinking text.
        #[serde(default)]
        thinking: String,
        /// The signature needed to replay it.
        #[serde(default)]
        signature: String,
    },
    /// Encrypted thinking.
    RedactedThinking {
        /// The opaque data.
        #[serde(default)]
        data: String,
    },
    /// A client tool call.
    ToolUse {
        /// `toolu_…`.
        id: String,
        /// Tool name.
        name: String,
        /// Arguments (`{}` at `content_block_start`).
        #[serde(default)]
        input: Value,
    },
    /// A server tool call (`web_search` with `{query}`).
    ServerToolUse {
        /// `srvtoolu_…`.
        id: String,
        /// The server tool's name.
        #[serde(default)]
        name: String,
        /// Its input (`{}` at `content_block_start`).
        #[serde(default)]
        input: Value,
    },
    /// The results of a server web search: a list of results, or an error object.
    WebSearchToolResult {
        /// The `server_tool_use` it answers.
        tool_use_id: String,
        /// `[{type: web_search_result, url, title, …}]` or `{type: web_search_tool_result_error, error_code}`.
        #[serde(default)]
        content: Value,
    },
    /// Other server-tool blocks and anything newer: skipped.
    #[serde(other)]
    Unknown,
}

/// A citation on a text block; only web search results carry a URL.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct AnthropicCitation {
    /// `web_search_result_location`, `char_location`, …
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The cited page.
    #[serde(default)]
    pub url: Option<String>,
    /// The cited page's title.
    #[serde(default)]
    pub title: Option<String>,
}

/// `stop_reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnthropicStopReason {
    /// Natural stop.
    EndTurn,
    /// Hit `max_tokens`.
    MaxTokens,
    /// Hit a stop sequence.
    StopSequence,
    /// Called tools.
    ToolUse,
    /// A long server-tool turn paused.
    PauseTurn,
    /// Safety classifiers stopped the output.
    Refusal,
    /// The context window filled up.
    ModelContextWindowExceeded,
    /// Anything newer.
    #[serde(other)]
    Unknown,
}

/// `stop_details`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct AnthropicStopDetails {
    /// Human-readable explanation of a refusal.
    #[serde(default)]
    pub explanation: Option<String>,
}

/// `usage` (message, `message_start` and cumulative `message_delta`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct AnthropicUsage {
    /// Uncached input tokens.
    #[serde(default)]
    pub input_tokens: Option<u64>,
    /// Generated tokens (thinking included).
    #[serde(default)]
    pub output_tokens: Option<u64>,
    /// Input tokens written to the cache.
    #[serde(default)]
    pub cache_creation_input_tokens: Option<u64>,
    /// Input tokens read from the cache.
    #[serde(default)]
    pub cache_read_input_tokens: Option<u64>,
    /// Output breakdown (newer API versions).
    #[serde(default)]
    pub output_tokens_details: Option<AnthropicOutputTokensDetails>,
}

/// `usage.output_tokens_details`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct AnthropicOutputTokensDetails {
    /// Tokens spent thinking.
    #[serde(default)]
    pub thinking_tokens: Option<u64>,
}

impl AnthropicUsage {
    /// Overlays the counts `newer` carries (stream usage is cumulative; absent counts keep theirs).
    pub fn merge(&mut self, newer: &Self) {
        let keep = |old: &mut Option<u64>, new: Option<u64>| {
            if new.is_some() {
                *old = new;
            }
        };
        keep(&mut self.input_tokens, newer.input_tokens);
        keep(&mut self.output_tokens, newer.output_tokens);
        keep(
            &mut self.cache_creation_input_tokens,
            newer.cache_creation_input_tokens,
        );
        keep(
            &mut self.cache_read_input_tokens,
            newer.cache_read_input_tokens,
        );
        if newer.output_tokens_details.is_some() {
            self.output_tokens_details = newer.output_tokens_details;
        }
    }

    /// Open Responses usage: input counts cache reads and writes too (Anthropic's
    /// `input_tokens` is only the uncached part).
    pub fn to_usage(&self) -> Usage {
        let cached = self.cache_read_input_tokens.unwrap_or(0);
        let input =
            self.input_tokens.unwrap_or(0) + self.cache_creation_input_tokens.unwrap_or(0) + cached;
        let reasoning = self
            .output_tokens_details
            .and_then(|d| d.thinking_tokens)
            .unwrap_or(0);
        Usage::new(input, self.output_tokens.unwrap_or(0), cached, reasoning)
    }
}

// === stream ===

/// One `data:` payload of a Messages stream.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AnthropicStreamEvent {
    /// The message begins.
    MessageStart {
        /// The (empty) message with model and input usage.
        message: AnthropicMessageStart,
    },
    /// A content block begins.
    ContentBlockStart {
        /// Block position.
        #[serde(default)]
        index: usize,
        /// The block's initial state.
        content_block: AnthropicContentBlock,
    },
    /// A content block grows.
    ContentBlockDelta {
        /// Block position.
        #[serde(default)]
        index: usize,
        /// The increment.
        delta: AnthropicDelta,
    },
    /// A content block ends.
    ContentBlockStop {
        /// Block position.
        #[serde(default)]
        index: usize,
    },
    /// Stop reason and cumulative usage.
    MessageDelta {
        /// Stop reason and details.
        #[serde(default)]
        delta: AnthropicMessageDelta,
        /// Cumulative usage.
        #[serde(default)]
        usage: AnthropicUsage,
    },
    /// The message is complete.
    MessageStop,
    /// Keep-alive.
    Ping,
    /// An in-band failure; the stream ends after it.
    Error {
        /// What failed.
        error: AnthropicErrorDetail,
    },
    /// Newer event types: skipped.
    #[serde(other)]
    Unknown,
}

/// `message_start.message`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct AnthropicMessageStart {
    /// Upstream message id.
    #[serde(default)]
    pub id: String,
    /// The model that answers.
    #[serde(default)]
    pub model: String,
    /// Input-side usage.
    #[serde(default)]
    pub usage: AnthropicUsage,
}

/// `content_block_delta.delta`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AnthropicDelta {
    /// Text.
    TextDelta {
        /// The fragment.
        #[serde(default)]
        text: String,
    },
    /// Thinking text.
    ThinkingDelta {
        /// The fragment.
        #[serde(default)]
        thinking: String,
    },
    /// Thinking signature (arrives just before the block stops).
    SignatureDelta {
        /// The fragment.
        #[serde(default)]
        signature: String,
    },
    /// Tool input JSON fragment.
    InputJsonDelta {
        /// The fragment.
        #[serde(default)]
        partial_json: String,
    },
    /// A citation of the text block being streamed.
    CitationsDelta {
        /// The citation.
        #[serde(default)]
        citation: AnthropicCitation,
    },
    /// Anything newer: skipped.
    #[serde(other)]
    Unknown,
}

/// `message_delta.delta`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct AnthropicMessageDelta {
    /// Why generation stopped.
    #[serde(default)]
    pub stop_reason: Option<AnthropicStopReason>,
    /// Refusal details.
    #[serde(default)]
    pub stop_details: Option<AnthropicStopDetails>,
}

// === errors ===

/// An error body: `{type:"error", error:{type, message}, request_id}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AnthropicErrorBody {
    /// The error.
    #[serde(default)]
    pub error: Option<AnthropicErrorDetail>,
    /// Upstream request id.
    #[serde(default)]
    pub request_id: Option<String>,
}

/// `error` inside an error body or an in-band `error` event.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct AnthropicErrorDetail {
    /// `invalid_request_error`, `overloaded_error`, …
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Upstream message.
    #[serde(default)]
    pub message: String,
    /// Extra detail (`error_code: "enforced_spend_limit_reached"`).
    #[serde(default)]
    pub details: Option<AnthropicErrorExtra>,
}

/// `error.details`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct AnthropicErrorExtra {
    /// Machine-readable sub-code.
    #[serde(default)]
    pub error_code: Option<String>,
}
