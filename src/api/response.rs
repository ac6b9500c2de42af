//! The response object (`ResponseResource`), its usage and error parts, and the request echo.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    items::Item,
    request::{CreateResponse, ReasoningConfig, TextFormat, Tool, ToolChoice, ToolChoiceMode},
};

/// The response object. Every field is present on the wire (nullable ones as `null`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseResource {
    /// `resp_…`.
    pub id: String,
    /// Always `response`.
    pub object: String,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds when finished.
    pub completed_at: Option<u64>,
    /// Lifecycle status.
    pub status: ResponseStatus,
    /// Why it is incomplete.
    pub incomplete_details: Option<IncompleteDetails>,
    /// The model that answered: the upstream's own model name when it reports one.
    pub model: String,
    /// The response this continues.
    pub previous_response_id: Option<String>,
    /// The request's instructions.
    pub instructions: Option<String>,
    /// Output items in order.
    pub output: Vec<Item>,
    /// Failure details when `status` is `failed`.
    pub error: Option<ResponseError>,
    /// Echo of the request's function tools (all keys present).
    pub tools: Vec<FunctionToolEcho>,
    /// Echo of `tool_choice` (`auto` when absent).
    pub tool_choice: ToolChoice,
    /// Echo of `truncation`.
    pub truncation: String,
    /// Echo of `parallel_tool_calls`.
    pub parallel_tool_calls: bool,
    /// Echo of `text`.
    pub text: TextEcho,
    /// Echo of `top_p`.
    pub top_p: f64,
    /// Echo of `presence_penalty`.
    pub presence_penalty: f64,
    /// Echo of `frequency_penalty`.
    pub frequency_penalty: f64,
    /// Echo of `top_logprobs`.
    pub top_logprobs: u32,
    /// Echo of `temperature`.
    pub temperature: f64,
    /// Echo of `reasoning`.
    pub reasoning: Option<ReasoningConfig>,
    /// Token usage, once known.
    pub usage: Option<Usage>,
    /// Echo of `max_output_tokens`.
    pub max_output_tokens: Option<u32>,
    /// Echo of `max_tool_calls`.
    pub max_tool_calls: Option<u32>,
    /// Whether the gateway stores it.
    pub store: bool,
    /// Whether it runs in background mode (`background: true`).
    pub background: bool,
    /// Service tier used.
    pub service_tier: String,
    /// Echo of `metadata` (`{}` when absent).
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Echo of `safety_identifier`.
    pub safety_identifier: Option<String>,
    /// Echo of `prompt_cache_key`.
    pub prompt_cache_key: Option<String>,
}

/// A function tool as the response echoes it: every key present, absent ones as `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionToolEcho {
    /// Always `function` (the spec's response-side `Tool` is `FunctionTool` only).
    #[serde(rename = "type")]
    pub kind: FunctionKind,
    /// The function name.
    pub name: String,
    /// What it does.
    pub description: Option<String>,
    /// Its JSON Schema (a schema stays JSON).
    pub parameters: Option<Value>,
    /// Strict schema adherence.
    pub strict: Option<bool>,
}

/// The one tool type the response echoes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FunctionKind {
    /// `function`.
    Function,
}

/// The echo of `text`: its format (always present) and verbosity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextEcho {
    /// The output format.
    pub format: FormatEcho,
    /// `low`, `medium` or `high`, when the request set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verbosity: Option<String>,
}

/// The echo of `text.format`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FormatEcho {
    /// Free text.
    Text,
    /// Any JSON object.
    JsonObject,
    /// JSON matching a named schema.
    JsonSchema {
        /// The schema's name (`response` when the request gave none).
        name: String,
        /// Its description.
        description: Option<String>,
        /// Always `null`: the spec's response-side `json_schema` types `schema` as null only.
        schema: Option<Value>,
        /// Strict adherence.
        strict: bool,
    },
}

/// Response lifecycle states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseStatus {
    /// Accepted, not started.
    Queued,
    /// Generating.
    InProgress,
    /// Finished normally.
    Completed,
    /// Failed; see `error`.
    Failed,
    /// Cut short; see `incomplete_details`.
    Incomplete,
    /// A background response stopped by `POST /v1/responses/{id}/cancel` (OpenAI's status;
    /// the spec types `status` as any string).
    Cancelled,
}

impl ResponseStatus {
    /// Whether the response has ended (no further change).
    pub fn is_terminal(self) -> bool {
        match self {
            Self::Queued | Self::InProgress => false,
            Self::Completed | Self::Failed | Self::Incomplete | Self::Cancelled => true,
        }
    }
}

/// Why a response is incomplete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncompleteDetails {
    /// `max_output_tokens` or `content_filter`.
    pub reason: String,
}

/// The error inside a failed response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseError {
    /// Machine-readable code.
    pub code: String,
    /// Human-readable message.
    pub message: String,
}

/// Token usage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens (including cached).
    pub input_tokens: u64,
    /// Generated tokens (including reasoning).
    pub output_tokens: u64,
    /// Sum of both.
    pub total_tokens: u64,
    /// Breakdown of input tokens.
    pub input_tokens_details: InputTokensDetails,
    /// Breakdown of output tokens.
    pub output_tokens_details: OutputTokensDetails,
}

impl Usage {
    /// Usage from the four counts; the total is computed.
    pub fn new(input: u64, output: u64, cached: u64, reasoning: u64) -> Self {
        Self {
            input_tokens: input,
            output_tokens: output,
            total_tokens: input + output,
            input_tokens_details: InputTokensDetails {
                cached_tokens: cached,
            },
            output_tokens_details: OutputTokensDetails {
                reasoning_tokens: reasoning,
            },
        }
    }
}

/// Input token breakdown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputTokensDetails {
    /// Tokens read from a prompt cache.
    pub cached_tokens: u64,
}

/// Output token breakdown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputTokensDetails {
    /// Tokens spent reasoning.
    pub reasoning_tokens: u64,
}

impl ResponseResource {
    /// An `in_progress` response echoing the request's settings, with no output yet.
    pub fn in_progress(request: &CreateResponse, id: &str, model: &str, created_at: u64) -> Self {
        Self {
            id: id.to_owned(),
            object: "response".to_owned(),
            created_at,
            completed_at: None,
            status: ResponseStatus::InProgress,
            incomplete_details: None,
            model: model.to_owned(),
            previous_response_id: request.previous_response_id.clone(),
            instructions: request.instructions.clone(),
            output: Vec::new(),
            error: None,
            tools: echo_tools(request.tools.as_deref()),
            // The response schema requires `mode` on allowed_tools: the typed value always has it.
            tool_choice: request
                .tool_choice
                .clone()
                .unwrap_or(ToolChoice::Mode(ToolChoiceMode::Auto)),
            truncation: request
                .truncation
                .clone()
                .unwrap_or_else(|| "disabled".to_owned()),
            parallel_tool_calls: request.parallel_tool_calls.unwrap_or(true),
            text: echo_text(request),
            top_p: request.top_p.unwrap_or(1.0),
            presence_penalty: request.presence_penalty.unwrap_or(0.0),
            frequency_penalty: request.frequency_penalty.unwrap_or(0.0),
            top_logprobs: request.top_logprobs.unwrap_or(0),
            temperature: request.temperature.unwrap_or(1.0),
            reasoning: request.reasoning.clone(),
            usage: None,
            max_output_tokens: request.max_output_tokens,
            max_tool_calls: request.max_tool_calls,
            store: request.store.unwrap_or(true),
            background: request.background.unwrap_or(false),
            service_tier: request
                .service_tier
                .clone()
                .unwrap_or_else(|| "default".to_owned()),
            metadata: request.metadata.clone().unwrap_or_default(),
            safety_identifier: request.safety_identifier.clone(),
            prompt_cache_key: request.prompt_cache_key.clone(),
        }
    }
}

fn echo_tools(tools: Option<&[Tool]>) -> Vec<FunctionToolEcho> {
    tools
        .unwrap_or_default()
        .iter()
        // The spec's `Tool` is `FunctionTool` only: the dialect's other types are not echoed.
        .filter_map(|tool| match tool {
            Tool::Function(f) => Some(FunctionToolEcho {
                kind: FunctionKind::Function,
                name: f.name.clone(),
                description: f.description.clone(),
                parameters: f.parameters.clone(),
                strict: f.strict,
            }),
            Tool::Namespace(_) | Tool::Custom(_) | Tool::Other(_) => None,
        })
        .collect()
}

fn echo_text(request: &CreateResponse) -> TextEcho {
    let text = request.text.as_ref();
    let format = match text.and_then(|t| t.format.as_ref()) {
        None | Some(TextFormat::Text) => FormatEcho::Text,
        Some(TextFormat::JsonObject) => FormatEcho::JsonObject,
        Some(TextFormat::JsonSchema {
            name,
            description,
            strict,
            ..
        }) => FormatEcho::JsonSchema {
            name: name.clone().unwrap_or_else(|| "response".to_owned()),
            description: description.clone(),
            schema: None,
            strict: strict.unwrap_or(false),
        },
    };
    TextEcho {
        format,
        verbosity: text.and_then(|t| t.verbosity.clone()),
    }
}
