//! The Messages request body we send (`AnthropicRequest` and its blocks, tools, choices).

use serde::Serialize;
use serde_json::Value;

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
    pub tools: Vec<AnthropicToolSpec>,
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
    /// Automatic prompt caching: Anthropic puts the cache breakpoint on the last cacheable block,
    /// so the whole prefix (tools, system, conversation so far) is cached for the next turn
    /// (top-level `cache_control`, docs/providers/anthropic.md §1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<AnthropicCacheControl>,
}

/// `cache_control`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AnthropicCacheControl {
    /// Always `ephemeral` (the 5-minute cache).
    #[serde(rename = "type")]
    pub kind: &'static str,
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

/// One entry of `tools`: a client tool, or a server tool Anthropic runs itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AnthropicToolSpec {
    /// A client tool (a function).
    Function(AnthropicTool),
    /// The server web search tool.
    WebSearch(AnthropicWebSearchTool),
}

/// The server web search tool (`web_search_20250305`,
/// https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/web-search-tool).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnthropicWebSearchTool {
    /// The dated tool type.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Always `web_search`.
    pub name: &'static str,
    /// Most searches in one request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_uses: Option<u32>,
    /// Only results from these domains.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_domains: Option<Vec<String>>,
    /// Where the user is (`{type: "approximate", city, region, country, timezone}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_location: Option<Value>,
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
