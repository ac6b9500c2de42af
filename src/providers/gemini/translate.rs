//! The two pure JSON directions: `build_request` (Open Responses request → `GeminiRequest`:
//! tools, tool choice, generation and thinking settings) and `parse_response`.

use super::{
    contents::build_conversation,
    output::Output,
    transport::map_error,
    wire::{
        GeminiContent, GeminiFunctionCallingConfig, GeminiFunctionDeclaration, GeminiGoogleSearch,
        GeminiRequest, GeminiResponse, GeminiThinkingConfig, GeminiTool, GeminiToolConfig,
        GenerationConfig,
    },
};
use crate::{
    api::{CreateResponse, TextFormat, Tool, ToolChoice, ToolChoiceMode, ToolChoiceObject},
    config::ProviderConfig,
    error::GatewayError,
    providers::{Call, upstream_error, web_search},
    stream::{Finish, ResponseEmitter},
};

/// Which thinking control a model takes (docs/providers/gemini.md §2.4, docs/providers/mapping.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Family {
    /// Gemini 2.5: `thinkingBudget` (Pro cannot disable thinking).
    Budget {
        /// 2.5 Pro.
        pro: bool,
    },
    /// Gemini 3 and later: `thinkingLevel`, signatures enforced on function calls.
    Level {
        /// Gemini 3.0 Pro, which offers only `LOW` and `HIGH`.
        low_high_only: bool,
    },
    /// No thinking controls known (2.0, Gemma, aliases without a version): effort is ignored.
    Other,
}

impl Family {
    /// Reads the family from a model id such as `gemini-2.5-flash` or `models/gemini-3.1-pro`.
    pub(super) fn of(model: &str) -> Self {
        let name = model
            .rsplit('/')
            .next()
            .unwrap_or(model)
            .to_ascii_lowercase();
        let Some(rest) = name.strip_prefix("gemini-") else {
            return Self::Other;
        };
        let version: String = rest
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let major = version
            .split('.')
            .next()
            .and_then(|m| m.parse::<u32>().ok());
        match major {
            Some(major) if major >= 3 => Self::Level {
                low_high_only: name.starts_with("gemini-3-pro"),
            },
            Some(2) if version == "2.5" => Self::Budget {
                pro: rest.contains("pro"),
            },
            _ => Self::Other,
        }
    }
}

/// Translates one call into a `generateContent` body (the model goes into the URL).
pub fn build_request(
    call: Call<'_>,
    _config: &ProviderConfig,
) -> Result<GeminiRequest, GatewayError> {
    let request = call.request;
    let family = Family::of(call.model);
    let conversation = build_conversation(call, matches!(family, Family::Level { .. }))?;
    let declarations: Vec<GeminiFunctionDeclaration> = request
        .tools
        .iter()
        .flatten()
        .filter_map(|tool| match tool {
            Tool::Function(tool) => Some(GeminiFunctionDeclaration {
                name: tool.name.clone(),
                description: tool.description.clone().filter(|d| !d.is_empty()),
                parameters_json_schema: tool.parameters.clone().filter(|p| !is_zero_arg(p)),
            }),
            // Flattened or left out before translation (`providers::dialect`).
            Tool::Namespace(_) | Tool::Custom(_) | Tool::Other(_) => None,
        })
        .collect();
    let tool_config = if declarations.is_empty() {
        None
    } else {
        request.tool_choice.as_ref().map(tool_config)
    };
    let mut tools = Vec::new();
    let search = web_search::find(request.tools.as_deref().unwrap_or_default());
    if !declarations.is_empty() {
        tools.push(GeminiTool {
            function_declarations: declarations,
            google_search: None,
        });
    } else if let Some(search) = search {
        // Only without function tools (`web_search::native` leaves it out otherwise).
        if search.contains_key("filters") || search.contains_key("user_location") {
            // Google Search grounding takes no domain filter or location (docs/agents.md).
            tracing::debug!("Google Search grounding ignores web_search filters and location.");
        }
        tools.push(GeminiTool {
            function_declarations: Vec::new(),
            google_search: Some(GeminiGoogleSearch {}),
        });
    }
    let system_instruction = (!conversation.system.is_empty()).then_some(GeminiContent {
        role: None,
        parts: conversation.system,
    });
    Ok(GeminiRequest {
        contents: conversation.contents,
        system_instruction,
        tools,
        tool_config,
        generation_config: generation_config(request, family),
    })
}

/// Gemini rejects an OBJECT schema with no properties: zero-argument tools omit the schema.
fn is_zero_arg(schema: &serde_json::Value) -> bool {
    match schema {
        serde_json::Value::Null => true,
        serde_json::Value::Object(map) => {
            let untyped_or_object = map.get("type").is_none_or(|t| t == "object");
            let no_properties = map
                .get("properties")
                .is_none_or(|p| p.as_object().is_some_and(serde_json::Map::is_empty));
            let composite = ["anyOf", "oneOf", "allOf", "$ref"]
                .iter()
                .any(|k| map.contains_key(*k));
            untyped_or_object && no_properties && !composite
        }
        _ => false,
    }
}

fn tool_config(choice: &ToolChoice) -> GeminiToolConfig {
    let (mode, names) = match choice {
        ToolChoice::Mode(mode) => (mode_name(*mode), Vec::new()),
        ToolChoice::Object(ToolChoiceObject::Function { name }) => ("ANY", vec![name.clone()]),
        ToolChoice::Object(ToolChoiceObject::AllowedTools { tools, mode }) => {
            let names = tools.iter().map(|t| t.name.clone()).collect();
            // VALIDATED = "calls or text, restricted to the allowed names" (docs/providers/mapping.md §3.2).
            let mode = match mode {
                ToolChoiceMode::Auto => "VALIDATED",
                other => mode_name(*other),
            };
            (mode, names)
        }
    };
    GeminiToolConfig {
        function_calling_config: GeminiFunctionCallingConfig {
            mode: mode.to_owned(),
            allowed_function_names: names,
        },
    }
}

fn mode_name(mode: ToolChoiceMode) -> &'static str {
    match mode {
        ToolChoiceMode::Auto => "AUTO",
        ToolChoiceMode::None => "NONE",
        ToolChoiceMode::Required => "ANY",
    }
}

fn generation_config(request: &CreateResponse, family: Family) -> Option<GenerationConfig> {
    let (response_mime_type, response_json_schema) =
        match request.text.as_ref().and_then(|t| t.format.as_ref()) {
            Some(TextFormat::JsonSchema { schema, .. }) => {
                (Some("application/json".to_owned()), schema.clone())
            }
            Some(TextFormat::JsonObject) => (Some("application/json".to_owned()), None),
            Some(TextFormat::Text) | None => (None, None),
        };
    let config = GenerationConfig {
        max_output_tokens: request.max_output_tokens,
        temperature: request.temperature,
        top_p: request.top_p,
        presence_penalty: request.presence_penalty,
        frequency_penalty: request.frequency_penalty,
        response_mime_type,
        response_json_schema,
        thinking_config: thinking_config(request, family),
    };
    (config != GenerationConfig::default()).then_some(config)
}

/// `reasoning.effort` → budget (2.5) or level (3.x); `reasoning.summary` → `includeThoughts`.
/// Budgets follow docs/providers/mapping.md §5's recommendations.
fn thinking_config(request: &CreateResponse, family: Family) -> Option<GeminiThinkingConfig> {
    let reasoning = request.reasoning.as_ref()?;
    let effort = reasoning.effort.as_deref();
    let mut config = GeminiThinkingConfig {
        include_thoughts: reasoning.summary.as_ref().map(|_| true),
        ..GeminiThinkingConfig::default()
    };
    match family {
        Family::Other => {
            tracing::debug!(
                ?effort,
                "Model has no known thinking controls; reasoning settings dropped."
            );
            return None;
        }
        Family::Budget { pro } => {
            config.thinking_budget = effort.and_then(|effort| {
                Some(match effort {
                    "none" if pro => 128,
                    "none" => 0,
                    "minimal" => 512,
                    "low" => 1024,
                    "medium" => 8192,
                    "high" => 24_576,
                    "xhigh" | "max" if pro => 32_768,
                    "xhigh" | "max" => 24_576,
                    _ => return None,
                })
            });
        }
        Family::Level { low_high_only } => {
            config.thinking_level = effort.and_then(|effort| {
                let level = match effort {
                    "none" | "minimal" | "low" if low_high_only => "LOW",
                    "none" | "minimal" => "MINIMAL",
                    "low" => "LOW",
                    "medium" if low_high_only => "HIGH",
                    "medium" => "MEDIUM",
                    "high" | "xhigh" | "max" => "HIGH",
                    _ => return None,
                };
                Some(level.to_owned())
            });
        }
    }
    (config != GeminiThinkingConfig::default()).then_some(config)
}

/// Translates a complete `generateContent` body into `out` and finishes it.
pub fn parse_response(
    body: &[u8],
    call: Call<'_>,
    out: &mut ResponseEmitter,
    provider: &str,
) -> Result<(), GatewayError> {
    let response: GeminiResponse = serde_json::from_slice(body).map_err(|e| {
        upstream_error::protocol(provider, format!("invalid generateContent body: {e}"))
    })?;
    if let Some(error) = &response.error {
        let status = super::transport::status_of(error);
        return Err(map_error(provider, status, Some(error)).into());
    }
    let blocked = response
        .prompt_feedback
        .as_ref()
        .is_some_and(|f| f.block_reason.is_some());
    if response.candidates.is_empty() && !blocked {
        return Err(
            upstream_error::protocol(provider, "generateContent returned no candidates").into(),
        );
    }
    tracing::debug!(provider, response_id = ?response.response_id, "Gemini response received.");
    let mut output = Output::new(call);
    output.apply(&response, out);
    // A non-streamed candidate without finishReason is complete (absence only means "still
    // generating" in streams).
    out.finish(output.take_finish().unwrap_or(Finish::Completed));
    Ok(())
}
