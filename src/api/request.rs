//! The `POST /v1/responses` request body (`CreateResponseBody`) plus our `provider` extension.

mod tools;

use std::{collections::BTreeMap, fmt};

use serde::{
    Deserialize, Deserializer, Serialize,
    de::{SeqAccess, Visitor},
};
use serde_json::Value;

pub use self::tools::{
    AllowedTool, CustomTool, FunctionTool, NamespaceTool, Tool, ToolChoice, ToolChoiceMode,
    ToolChoiceObject,
};
use super::items::{Item, deserialize_item_lenient};

/// The request body. Unknown top-level fields are ignored; known fields are type-checked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateResponse {
    /// Model name: `gpt-4o`, `claude-…`, an alias, or `provider/model`.
    #[serde(default)]
    pub model: Option<String>,
    /// A string (one user message) or a list of items.
    #[serde(default)]
    pub input: Option<Input>,
    /// System/developer guidance for this request only.
    #[serde(default)]
    pub instructions: Option<String>,
    /// Continue from a stored response.
    #[serde(default)]
    pub previous_response_id: Option<String>,
    /// Extra output to include (`reasoning.encrypted_content`, …).
    #[serde(default)]
    pub include: Option<Vec<String>>,
    /// Tools the model may call.
    #[serde(default)]
    pub tools: Option<Vec<Tool>>,
    /// How the model chooses tools.
    #[serde(default)]
    pub tool_choice: Option<ToolChoice>,
    /// Whether several tool calls may be emitted at once.
    #[serde(default)]
    pub parallel_tool_calls: Option<bool>,
    /// Upper bound on tool calls.
    #[serde(default)]
    pub max_tool_calls: Option<u32>,
    /// Output format (text / json_schema) and verbosity.
    #[serde(default)]
    pub text: Option<TextConfig>,
    /// Sampling temperature, 0–2.
    #[serde(default)]
    pub temperature: Option<f64>,
    /// Nucleus sampling, 0–1.
    #[serde(default)]
    pub top_p: Option<f64>,
    /// Presence penalty.
    #[serde(default)]
    pub presence_penalty: Option<f64>,
    /// Frequency penalty.
    #[serde(default)]
    pub frequency_penalty: Option<f64>,
    /// Number of top log probabilities, 0–20.
    #[serde(default)]
    pub top_logprobs: Option<u32>,
    /// Output token budget.
    #[serde(default)]
    pub max_output_tokens: Option<u32>,
    /// Reasoning effort and summary.
    #[serde(default)]
    pub reasoning: Option<ReasoningConfig>,
    /// `auto` or `disabled`.
    #[serde(default)]
    pub truncation: Option<String>,
    /// Whether the gateway stores the response (default true).
    #[serde(default)]
    pub store: Option<bool>,
    /// Stream events as SSE.
    #[serde(default)]
    pub stream: Option<bool>,
    /// Stream options (accepted, echoed nowhere).
    #[serde(default)]
    pub stream_options: Option<Value>,
    /// Background mode (not supported: rejected when true).
    #[serde(default)]
    pub background: Option<bool>,
    /// Up to 16 string pairs, echoed in the response.
    #[serde(default)]
    pub metadata: Option<BTreeMap<String, String>>,
    /// Stable end-user id for abuse detection.
    #[serde(default)]
    pub safety_identifier: Option<String>,
    /// Prompt cache key.
    #[serde(default)]
    pub prompt_cache_key: Option<String>,
    /// Service tier hint.
    #[serde(default)]
    pub service_tier: Option<String>,
    /// Gateway extension: pin the provider.
    #[serde(default)]
    pub provider: Option<ProviderKind>,
}

impl CreateResponse {
    /// Whether the caller asked for SSE.
    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    /// The input as items (a string becomes one user message).
    pub fn input_items(&self) -> Vec<Item> {
        match &self.input {
            None => Vec::new(),
            Some(Input::Items(items)) => items.clone(),
            Some(Input::Text(text)) => vec![Item::Message(super::items::MessageItem {
                id: None,
                status: None,
                role: super::items::Role::User,
                content: super::items::MessageContent::Text(text.clone()),
                phase: None,
            })],
        }
    }

    /// Whether `include` asks for reasoning's encrypted content.
    pub fn wants_encrypted_reasoning(&self) -> bool {
        self.include
            .as_ref()
            .is_some_and(|inc| inc.iter().any(|i| i == "reasoning.encrypted_content"))
    }
}

/// The provider families the gateway speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// OpenAI (Responses API).
    #[serde(rename = "openai")]
    OpenAi,
    /// Azure OpenAI (Chat Completions on a deployment; config name `azureopenai`).
    #[serde(rename = "azureopenai", alias = "azure")]
    Azure,
    /// Anthropic Messages.
    Anthropic,
    /// Google's Gemini API (config name `google`, as the predecessor spells it).
    #[serde(rename = "google", alias = "gemini")]
    Gemini,
}

impl ProviderKind {
    /// Every kind, in display order.
    pub const ALL: [Self; 4] = [Self::OpenAi, Self::Azure, Self::Anthropic, Self::Gemini];

    /// The config/wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OpenAi => "openai",
            Self::Azure => "azureopenai",
            Self::Anthropic => "anthropic",
            Self::Gemini => "google",
        }
    }

    /// Parses a config/wire name (also `azure`, `gemini`).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "openai" => Some(Self::OpenAi),
            "azureopenai" | "azure" => Some(Self::Azure),
            "anthropic" => Some(Self::Anthropic),
            "google" | "gemini" => Some(Self::Gemini),
            _ => None,
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `input`: a string or a list of items.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Input {
    /// One user message.
    Text(String),
    /// Items in order.
    Items(Vec<Item>),
}

impl<'de> Deserialize<'de> for Input {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct InputVisitor;
        #[derive(Deserialize)]
        struct Lenient(#[serde(deserialize_with = "deserialize_item_lenient")] Item);

        impl<'de> Visitor<'de> for InputVisitor {
            type Value = Input;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of input items")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Input, E> {
                Ok(Input::Text(v.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Input, E> {
                Ok(Input::Text(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Input, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(Lenient(item)) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Input::Items(items))
            }
        }
        deserializer.deserialize_any(InputVisitor)
    }
}

/// `text`: output format and verbosity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TextConfig {
    /// The format.
    #[serde(default)]
    pub format: Option<TextFormat>,
    /// `low`, `medium` or `high`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verbosity: Option<String>,
}

/// Output formats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TextFormat {
    /// Free text.
    Text,
    /// JSON matching a schema.
    JsonSchema {
        /// Schema name.
        #[serde(default)]
        name: Option<String>,
        /// Schema description.
        #[serde(default)]
        description: Option<String>,
        /// The JSON Schema.
        #[serde(default)]
        schema: Option<Value>,
        /// Strict adherence.
        #[serde(default)]
        strict: Option<bool>,
    },
    /// Any JSON object (accepted for OpenAI compatibility).
    JsonObject,
}

/// `reasoning`: effort and summary.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReasoningConfig {
    /// `none`, `minimal`, `low`, `medium`, `high`, `xhigh`.
    #[serde(default)]
    pub effort: Option<String>,
    /// `concise`, `detailed`, `auto`.
    #[serde(default)]
    pub summary: Option<String>,
}

#[cfg(test)]
mod tests;
