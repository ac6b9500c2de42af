//! The `POST /v1/responses` request body (`CreateResponseBody`) plus our `provider` extension.

use std::{collections::BTreeMap, fmt};

use serde::{
    Deserialize, Deserializer, Serialize,
    de::{SeqAccess, Visitor},
};
use serde_json::{Map, Value};

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

/// A tool definition. Only function tools are standard; the rest is OpenAI's dialect as coding
/// agents send it (Codex: `namespace`, `custom`, `web_search`, `tool_search`), accepted so that
/// each provider can serve, translate or leave out what it can (`providers::dialect`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Tool {
    /// A function the caller implements.
    Function(FunctionTool),
    /// A group of tools called by bare name plus `namespace`.
    Namespace(NamespaceTool),
    /// A freeform tool whose input is a string in a declared format.
    Custom(CustomTool),
    /// Any other type (`web_search`, `tool_search`, …), kept verbatim with its `type`.
    #[serde(untagged)]
    Other(Map<String, Value>),
}

/// By `type`: a known type must match its shape; only unknown types are kept verbatim.
impl<'de> Deserialize<'de> for Tool {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use super::tagged::parse;
        let (kind, map) = super::tagged::split(Map::<String, Value>::deserialize(deserializer)?)?;
        Ok(match kind.as_str() {
            "function" => Self::Function(parse(map)?),
            "namespace" => Self::Namespace(parse(map)?),
            "custom" => Self::Custom(parse(map)?),
            _ => Self::Other(map),
        })
    }
}

impl Tool {
    /// The `type` as sent.
    pub fn kind(&self) -> &str {
        match self {
            Self::Function(_) => "function",
            Self::Namespace(_) => "namespace",
            Self::Custom(_) => "custom",
            Self::Other(map) => map.get("type").and_then(Value::as_str).unwrap_or(""),
        }
    }
}

/// A `namespace` tool: its children are called with `namespace` set to its name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamespaceTool {
    /// The namespace name.
    pub name: String,
    /// What the group is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The child tools (`function` or `custom`).
    #[serde(default)]
    pub tools: Vec<Tool>,
}

/// A `custom` (freeform) tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomTool {
    /// Tool name.
    pub name: String,
    /// What the tool does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The input format (`{type: "grammar", syntax, definition}` or `{type: "text"}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Value>,
}

/// A function tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionTool {
    /// Function name (`^[a-zA-Z0-9_-]{1,64}$`).
    pub name: String,
    /// What the function does.
    #[serde(default)]
    pub description: Option<String>,
    /// JSON Schema of the arguments.
    #[serde(default)]
    pub parameters: Option<Value>,
    /// Strict schema adherence.
    #[serde(default)]
    pub strict: Option<bool>,
}

/// `tool_choice`: a mode string or an object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ToolChoice {
    /// `none`, `auto` or `required`.
    Mode(ToolChoiceMode),
    /// A specific function or an allowed subset.
    Object(ToolChoiceObject),
}

/// Tool choice modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolChoiceMode {
    /// Never call tools.
    None,
    /// The model decides.
    Auto,
    /// At least one tool call.
    Required,
}

/// Object forms of `tool_choice`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToolChoiceObject {
    /// Force this function.
    Function {
        /// The function name.
        name: String,
    },
    /// Only these tools may be called.
    AllowedTools {
        /// `{type:"function", name}` entries.
        tools: Vec<AllowedTool>,
        /// `auto` or `required`.
        #[serde(default = "default_allowed_mode")]
        mode: ToolChoiceMode,
    },
}

fn default_allowed_mode() -> ToolChoiceMode {
    ToolChoiceMode::Auto
}

/// One entry of an `allowed_tools` list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AllowedTool {
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The function name.
    pub name: String,
}

impl ToolChoice {
    /// The names of the tools the model may call, when restricted.
    pub fn allowed_names(&self) -> Option<Vec<&str>> {
        match self {
            Self::Object(ToolChoiceObject::AllowedTools { tools, .. }) => {
                Some(tools.iter().map(|t| t.name.as_str()).collect())
            }
            Self::Object(ToolChoiceObject::Function { name }) => Some(vec![name.as_str()]),
            Self::Mode(_) => None,
        }
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
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn string_input_becomes_one_user_message() {
        let req: CreateResponse =
            serde_json::from_value(json!({"model":"m","input":"hi"})).unwrap();
        assert_eq!(req.input_items().len(), 1);
    }

    #[test]
    fn unknown_top_level_fields_are_ignored() {
        let req: CreateResponse =
            serde_json::from_value(json!({"model":"m","input":"hi","frobnicate":1})).unwrap();
        assert_eq!(req.model.as_deref(), Some("m"));
    }

    #[test]
    fn wrong_types_are_rejected() {
        assert!(serde_json::from_value::<CreateResponse>(json!({"temperature":"hot"})).is_err());
        assert!(serde_json::from_value::<CreateResponse>(json!({"input":5})).is_err());
        assert!(serde_json::from_value::<CreateResponse>(json!({"provider":"nope"})).is_err());
    }

    #[test]
    fn tool_choice_forms_parse() {
        for tc in [
            json!("auto"),
            json!({"type":"function","name":"f"}),
            json!({"type":"allowed_tools","tools":[{"type":"function","name":"f"}]}),
        ] {
            let req: CreateResponse = serde_json::from_value(json!({"tool_choice": tc})).unwrap();
            assert!(req.tool_choice.is_some());
        }
    }

    #[test]
    fn openai_dialect_tools_parse_and_round_trip() {
        let tools = json!([
            {"type":"function","name":"shell","parameters":{"type":"object"}},
            {"type":"namespace","name":"agents","description":"d","tools":[
                {"type":"function","name":"spawn_agent"},
                {"type":"custom","name":"apply_patch","format":{"type":"grammar","syntax":"lark","definition":"start: x"}}]},
            {"type":"web_search","external_web_access":false},
            {"type":"tool_search","execution":"client"},
            {"type":"image_generation"}
        ]);
        let req: CreateResponse = serde_json::from_value(json!({"tools": tools})).unwrap();
        let parsed = req.tools.as_deref().unwrap();
        let kinds: Vec<&str> = parsed.iter().map(Tool::kind).collect();
        assert_eq!(
            kinds,
            [
                "function",
                "namespace",
                "web_search",
                "tool_search",
                "image_generation"
            ]
        );
        assert!(matches!(&parsed[1], Tool::Namespace(ns) if ns.tools.len() == 2));
        let back = serde_json::to_value(&req.tools).unwrap();
        assert_eq!(back[2], tools[2]);
        assert_eq!(back[1]["tools"][1]["type"], "custom");
    }

    #[test]
    fn a_malformed_function_tool_is_not_taken_for_another_type() {
        let req = serde_json::from_value::<CreateResponse>(
            json!({"tools":[{"type":"function","description":"no name"}]}),
        );
        assert!(req.is_err());
    }
}
