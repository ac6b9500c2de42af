//! The OpenAI Responses request we send, borrowing the caller's request and the conversation:
//! tools and items of OpenAI's own dialect pass through as the JSON they are.

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::api::{
    ContentPart, FunctionOutput, MessageContent, ReasoningConfig, Role, TextConfig, Tool,
    ToolChoice,
};

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

/// One input item, borrowed from the conversation. Items go out as Open Responses has them
/// (OpenAI reads the same shapes) without the gateway's own `id` and `status`, which OpenAI would
/// try to resolve.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OpenAiInputItem<'a> {
    /// A user, assistant, system or developer message.
    Message {
        /// Author.
        role: Role,
        /// A string or content parts.
        content: &'a MessageContent,
        /// `commentary` or `final_answer` for assistant messages.
        #[serde(skip_serializing_if = "Option::is_none")]
        phase: Option<&'a str>,
    },
    /// A function call the model made.
    FunctionCall {
        /// The call id.
        call_id: &'a str,
        /// The function name.
        name: &'a str,
        /// JSON-encoded arguments.
        arguments: &'a str,
        /// The namespace of a namespaced tool.
        #[serde(skip_serializing_if = "Option::is_none")]
        namespace: Option<&'a str>,
    },
    /// The caller's result for a function call.
    FunctionCallOutput {
        /// The call it answers.
        call_id: &'a str,
        /// Text or content parts.
        output: &'a FunctionOutput,
    },
    /// Reasoning state OpenAI produced, replayed without the gateway's prefix.
    Reasoning {
        /// Summary parts.
        summary: &'a [ContentPart],
        /// OpenAI's own opaque state.
        encrypted_content: &'a str,
    },
    /// A freeform tool call the model made.
    CustomToolCall {
        /// The call id.
        call_id: &'a str,
        /// The tool name.
        name: &'a str,
        /// The namespace of a namespaced tool.
        #[serde(skip_serializing_if = "Option::is_none")]
        namespace: Option<&'a str>,
        /// The freeform input.
        input: &'a str,
    },
    /// The caller's result for a freeform tool call.
    CustomToolCallOutput {
        /// The call it answers.
        call_id: &'a str,
        /// Text or content parts.
        output: &'a FunctionOutput,
    },
    /// Any other item of OpenAI's dialect (`web_search_call`, …), verbatim with its `type`.
    #[serde(untagged)]
    Dialect(OpenAiDialectItem<'a>),
}

/// An item of OpenAI's own dialect, kept as the JSON it is: its fields pass through whatever
/// they are, but for the gateway's `id` and `status`.
#[derive(Debug)]
pub struct OpenAiDialectItem<'a>(pub &'a Map<String, Value>);

impl Serialize for OpenAiDialectItem<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let kept = self
            .0
            .iter()
            .filter(|(key, _)| !matches!(key.as_str(), "id" | "status"));
        serializer.collect_map(kept)
    }
}
