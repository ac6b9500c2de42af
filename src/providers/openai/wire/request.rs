//! The OpenAI Responses request we send, borrowing the caller's request: tools and items of
//! OpenAI's own dialect pass through as the JSON they are.

use serde::Serialize;
use serde_json::Value;

use crate::api::{ContentPart, ReasoningConfig, TextConfig, Tool, ToolChoice};

/// `POST {base_url}/responses` body.
#[derive(Debug, Serialize)]
pub struct OpenAiRequest<'a> {
    /// The upstream model.
    pub model: &'a str,
    /// The whole conversation: the gateway keeps state, OpenAI does not.
    pub input: Vec<OpenAiInputItem<'a>>,
    /// Always false: the gateway stores responses itself.
    pub store: bool,
    /// Whether to stream.
    pub stream: bool,
    /// System/developer instructions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instructions: Option<&'a str>,
    /// Tools as the caller sent them: `function`, `custom`, `namespace` and OpenAI's hosted
    /// tools (`web_search`, …), the last kept verbatim (`Tool::Other`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<&'a [Tool]>,
    /// How the model picks tools.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<&'a ToolChoice>,
    /// Whether several tool calls may come at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// Cap on built-in tool calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tool_calls: Option<u32>,
    /// Output format and verbosity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<&'a TextConfig>,
    /// Sampling temperature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// How many top log probabilities per token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_logprobs: Option<u32>,
    /// Output cap, reasoning included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u32>,
    /// Reasoning effort and summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<&'a ReasoningConfig>,
    /// `auto` or `disabled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncation: Option<&'a str>,
    /// Stable end-user id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safety_identifier: Option<&'a str>,
    /// Prompt cache key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_cache_key: Option<&'a str>,
    /// Processing tier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<&'a str>,
    /// Extra output to return (`reasoning.encrypted_content`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include: Option<&'static [&'static str]>,
}

/// One input item.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum OpenAiInputItem<'a> {
    /// Reasoning state OpenAI produced, replayed without the gateway's prefix.
    Reasoning(OpenAiReasoningInput<'a>),
    /// Any other item, as the Open Responses JSON it is (OpenAI reads the same shapes) minus
    /// the gateway's own `id` and `status`. Kept as JSON: the item types of OpenAI's dialect
    /// pass through whatever their fields.
    Item(Value),
}

/// `{"type": "reasoning", "summary": …, "encrypted_content": …}`.
#[derive(Debug, Serialize)]
pub struct OpenAiReasoningInput<'a> {
    /// Always `reasoning`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Summary parts.
    pub summary: &'a [ContentPart],
    /// OpenAI's own opaque state.
    pub encrypted_content: &'a str,
}
