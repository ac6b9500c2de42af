//! Tool definitions and `tool_choice` as a request carries them: standard function tools plus
//! OpenAI's agent dialect (`namespace`, `custom`, anything else kept verbatim).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::api::tagged;

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
        use tagged::parse;
        let (kind, map) = tagged::split(Map::<String, Value>::deserialize(deserializer)?)?;
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
