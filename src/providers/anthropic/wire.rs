//! Anthropic Messages wire types: the request we send, and the response, stream event and error
//! bodies we read. Upstream types are tolerant: unknown fields are ignored, unknown enum values
//! land in an `Unknown` variant.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::Usage;

// === request ===

/// `POST /v1/messages` body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnthropicRequest {
    /// Upstream model id.
    pub model: String,
    /// Hard cap on generated tokens (thinking included); required by Anthropic.
    pub max_tokens: u32,
    /// The conversation: alternating user/assistant turns, starting with a user turn.
    pub messages: Vec<AnthropicMessage>,
    /// Instructions and system/developer messages, joined.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Sampling temperature, 0–1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling (only when no temperature is sent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// `{user_id}` from `safety_identifier`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<AnthropicMetadata>,
    /// Client tools.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<AnthropicTool>,
    /// How the model may use the tools.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<AnthropicToolChoice>,
    /// Extended thinking.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking: Option<AnthropicThinking>,
    /// Structured output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_config: Option<AnthropicOutputConfig>,
    /// Ask for an SSE stream.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stream: bool,
}

/// `metadata`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnthropicMetadata {
    /// Opaque end-user id.
    pub user_id: String,
}

/// A conversation role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnthropicRole {
    /// The caller (also carries tool results).
    User,
    /// The model.
    Assistant,
}

/// One turn.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnthropicMessage {
    /// Who speaks.
    pub role: AnthropicRole,
    /// Content blocks (never empty once normalized).
    pub content: Vec<AnthropicBlock>,
}

/// A request content block.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AnthropicBlock {
    /// Non-empty text.
    Text {
        /// The text.
        text: String,
    },
    /// An image.
    Image {
        /// Where the image comes from.
        source: AnthropicSource,
    },
    /// A PDF document.
    Document {
        /// Where the document comes from.
        source: AnthropicSource,
        /// The file name, when known.
        #[serde(skip_serializing_if = "Option::is_none")]
        title: Option<String>,
    },
    /// A tool call made by the assistant.
    ToolUse {
        /// The call id (`call_id` on the Open Responses side).
        id: String,
        /// Tool name.
        name: String,
        /// Arguments (a JSON object).
        input: Value,
    },
    /// The caller's answer to a tool call.
    ToolResult {
        /// The answered call.
        tool_use_id: String,
        /// The result; omitted when empty.
        #[serde(skip_serializing_if = "Option::is_none")]
        content: Option<AnthropicToolResultContent>,
        /// Set on synthetic results for unanswered calls.
        #[serde(skip_serializing_if = "Option::is_none")]
        is_error: Option<bool>,
    },
    /// Replayed thinking (verbatim, with its signature).
    Thinking {
        /// The thinking text as received.
        thinking: String,
        /// The signature as received.
        signature: String,
    },
    /// Replayed redacted thinking.
    RedactedThinking {
        /// The opaque data as received.
        data: String,
    },
}

/// `tool_result.content`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AnthropicToolResultContent {
    /// Plain text (usually JSON).
    Text(String),
    /// Text, image and document blocks.
    Blocks(Vec<AnthropicBlock>),
}

/// An image/document source.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AnthropicSource {
    /// Inline base64 data.
    Base64 {
        /// `image/png`, `application/pdf`, …
        media_type: String,
        /// Base64 payload.
        data: String,
    },
    /// Fetched by Anthropic.
    Url {
        /// The URL.
        url: String,
    },
}

/// A client tool definition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnthropicTool {
    /// Tool name.
    pub name: String,
    /// What it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the input (an object schema).
    pub input_schema: Value,
    /// Validated tool inputs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

/// `tool_choice`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AnthropicToolChoice {
    /// The model decides.
    Auto {
        /// At most one tool call per turn.
        #[serde(skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
    /// Some tool must be called.
    Any {
        /// At most one tool call per turn.
        #[serde(skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
    /// This tool must be called.
    Tool {
        /// The tool.
        name: String,
        /// At most one tool call per turn.
        #[serde(skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
    /// Tools are visible but not callable.
    None,
}

/// `thinking`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AnthropicThinking {
    /// Manual budget (models before the adaptive-thinking generation).
    Enabled {
        /// Thinking tokens allowed (≥ 1024, < `max_tokens`).
        budget_tokens: u32,
    },
}

/// `output_config`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnthropicOutputConfig {
    /// Native structured output.
    pub format: AnthropicOutputFormat,
}

/// `output_config.format`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AnthropicOutputFormat {
    /// JSON matching `schema`.
    JsonSchema {
        /// The JSON Schema.
        schema: Value,
    },
}

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
    /// Server-tool blocks and anything newer: skipped.
    #[serde(other)]
    Unknown,
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
        keep(&mut self.cache_creation_input_tokens, newer.cache_creation_input_tokens);
        keep(&mut self.cache_read_input_tokens, newer.cache_read_input_tokens);
        if newer.output_tokens_details.is_some() {
            self.output_tokens_details = newer.output_tokens_details;
        }
    }

    /// Open Responses usage: input counts cache reads and writes too (Anthropic's
    /// `input_tokens` is only the uncached part).
    pub fn to_usage(&self) -> Usage {
        let cached = self.cache_read_input_tokens.unwrap_or(0);
        let input = self.input_tokens.unwrap_or(0)
            + self.cache_creation_input_tokens.unwrap_or(0)
            + cached;
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
    /// Citations and anything newer: skipped.
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
