//! `build_request`: an Open Responses call → an Anthropic Messages request (top-level fields,
//! tools, tool choice, thinking, structured output); the conversation itself is `messages.rs`.

use serde_json::json;

use super::{
    messages::{self, Conversation},
    wire::{
        AnthropicCacheControl, AnthropicMessage, AnthropicMetadata, AnthropicOutputConfig,
        AnthropicOutputFormat, AnthropicRequest, AnthropicThinking, AnthropicTool,
        AnthropicToolChoice, AnthropicToolSpec,
    },
};
use crate::{
    api::{CreateResponse, TextFormat, Tool, ToolChoice, ToolChoiceMode, ToolChoiceObject},
    config::ProviderConfig,
    error::GatewayError,
    providers::Call,
};

/// The first API version that rejects `temperature`/`top_p` outright (docs/providers/anthropic.md §1.2).
const SAMPLING_REMOVED_IN: &str = "2026-10-21";
/// Appended to `system` for `text.format: json_object` (Anthropic has no JSON mode).
const JSON_OBJECT_INSTRUCTION: &str = "Respond with a single valid JSON object and nothing else.";

/// Manual thinking budgets for `reasoning.effort` (docs/providers/mapping.md §5, older-model column). The
/// adaptive-thinking models (Opus 4.7+, Sonnet 5) reject `budget_tokens`; serving them needs a
/// per-model capability table choosing `{type:"adaptive"}` + `output_config.effort` instead.
/// `xhigh`/`max` stay at 24576 so budget + the default 4096 allowance fits 32k-output models.
fn thinking_budget(effort: &str) -> Option<u32> {
    match effort {
        "none" => None,
        "minimal" => Some(1024),
        "low" => Some(2048),
        "medium" => Some(8192),
        "high" => Some(16384),
        "xhigh" | "max" => Some(24576),
        other => {
            tracing::debug!(
                effort = other,
                "Unknown reasoning effort; not enabling thinking."
            );
            None
        }
    }
}

/// Translates one call into the request body.
pub fn build_request(
    call: Call<'_>,
    config: &ProviderConfig,
) -> Result<AnthropicRequest, GatewayError> {
    let request = call.request;
    let Conversation {
        mut system,
        messages,
    } = messages::build_conversation(call)?;
    let output_config = build_output_config(request, &mut system)?;
    let mut max_tokens = request
        .max_output_tokens
        .unwrap_or(config.default_max_tokens);
    let thinking = build_thinking(request, &messages, &mut max_tokens);

    let mut tools: Vec<AnthropicToolSpec> = build_tools(request)?
        .into_iter()
        .map(AnthropicToolSpec::Function)
        .collect();
    tools.extend(super::search::tool(request));
    let tool_choice = build_tool_choice(request, !tools.is_empty(), thinking.is_some());

    // Thinking requires default sampling; the newest API version rejects sampling fields.
    let version_allows = config
        .api_version
        .as_deref()
        .is_none_or(|v| v < SAMPLING_REMOVED_IN);
    let sampling = thinking.is_none() && version_allows;
    let temperature = request
        .temperature
        .filter(|_| sampling)
        .map(|t| t.clamp(0.0, 1.0));
    let top_p = request.top_p.filter(|_| sampling && temperature.is_none());
    if request.presence_penalty.is_some() || request.frequency_penalty.is_some() {
        tracing::debug!("Dropping presence/frequency penalties: Anthropic has none.");
    }

    Ok(AnthropicRequest {
        model: call.model.to_owned(),
        max_tokens,
        messages,
        system: (!system.is_empty()).then(|| system.join("\n\n")),
        temperature,
        top_p,
        metadata: request
            .safety_identifier
            .clone()
            .map(|user_id| AnthropicMetadata { user_id }),
        tools,
        tool_choice,
        thinking,
        output_config,
        stream: call.stream,
        // A caller that names a cache key wants its prefix cached; `prompt_cache: auto` asks for
        // it on every request (agents resend a long, stable prefix each turn).
        cache_control: (request.prompt_cache_key.is_some() || config.prompt_cache)
            .then_some(AnthropicCacheControl { kind: "ephemeral" }),
    })
}

/// `text.format`: a JSON schema is native structured output; `json_object` (no Anthropic JSON
/// mode) becomes an instruction in `system`.
fn build_output_config(
    request: &CreateResponse,
    system: &mut Vec<String>,
) -> Result<Option<AnthropicOutputConfig>, GatewayError> {
    Ok(
        match request.text.as_ref().and_then(|t| t.format.as_ref()) {
            Some(TextFormat::JsonSchema {
                schema: Some(schema),
                ..
            }) => Some(AnthropicOutputConfig {
                format: AnthropicOutputFormat::JsonSchema {
                    schema: schema.clone(),
                },
            }),
            Some(TextFormat::JsonSchema { schema: None, .. }) => {
                return Err(GatewayError::invalid(
                    "text.format json_schema needs a schema",
                    Some("text.format.schema"),
                ));
            }
            Some(TextFormat::JsonObject) => {
                system.push(JSON_OBJECT_INSTRUCTION.to_owned());
                None
            }
            Some(TextFormat::Text) | None => None,
        },
    )
}

/// `reasoning.effort` → a manual thinking budget, raising `max_tokens` above it when needed.
fn build_thinking(
    request: &CreateResponse,
    messages: &[AnthropicMessage],
    max_tokens: &mut u32,
) -> Option<AnthropicThinking> {
    let budget_tokens = request
        .reasoning
        .as_ref()
        .and_then(|r| r.effort.as_deref())
        .and_then(thinking_budget)?;
    if messages::tool_loop_lacks_thinking(messages) {
        // The assistant turn being continued has no thinking block to replay (it came from
        // another provider or lost its artifact); Anthropic rejects thinking for it.
        tracing::debug!(
            "Disabling thinking: the tool-call turn being continued has no thinking block."
        );
        return None;
    }
    if *max_tokens <= budget_tokens {
        // `max_tokens` must exceed the budget: the visible allowance comes on top.
        *max_tokens = budget_tokens.saturating_add(*max_tokens);
    }
    Some(AnthropicThinking::Enabled { budget_tokens })
}

/// Function tools; with `allowed_tools`, only the allowed ones (Anthropic has no subset choice).
fn build_tools(request: &CreateResponse) -> Result<Vec<AnthropicTool>, GatewayError> {
    let all = request.tools.as_deref().unwrap_or_default();
    let allowed = match &request.tool_choice {
        Some(ToolChoice::Object(ToolChoiceObject::AllowedTools { tools, .. })) => {
            Some(tools.iter().map(|t| t.name.as_str()).collect::<Vec<_>>())
        }
        _ => None,
    };
    let tools: Vec<AnthropicTool> = all
        .iter()
        .filter_map(|tool| match tool {
            Tool::Function(f) => Some(f),
            // Flattened or left out before translation (`providers::dialect`).
            Tool::Namespace(_) | Tool::Custom(_) | Tool::Other(_) => None,
        })
        .filter(|f| {
            allowed
                .as_ref()
                .is_none_or(|names| names.contains(&f.name.as_str()))
        })
        .map(|f| AnthropicTool {
            name: f.name.clone(),
            description: f.description.clone(),
            input_schema: f
                .parameters
                .clone()
                .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
            strict: f.strict.filter(|s| *s),
        })
        .collect();
    if allowed.is_some() && tools.is_empty() {
        return Err(GatewayError::invalid(
            "tool_choice.allowed_tools names none of the request's tools",
            Some("tool_choice.tools"),
        ));
    }
    if let Some(ToolChoice::Object(ToolChoiceObject::Function { name })) = &request.tool_choice
        && !tools.iter().any(|t| &t.name == name)
    {
        return Err(GatewayError::invalid(
            format!("tool_choice names function `{name}`, which is not in tools"),
            Some("tool_choice.name"),
        ));
    }
    Ok(tools)
}

/// `tool_choice` (omitted without tools, and when the API default `auto` says it all).
fn build_tool_choice(
    request: &CreateResponse,
    has_tools: bool,
    thinking: bool,
) -> Option<AnthropicToolChoice> {
    if !has_tools {
        return None;
    }
    let disable_parallel_tool_use = (request.parallel_tool_calls == Some(false)).then_some(true);
    let mode = match &request.tool_choice {
        None => {
            return disable_parallel_tool_use.map(|d| AnthropicToolChoice::Auto {
                disable_parallel_tool_use: Some(d),
            });
        }
        Some(ToolChoice::Mode(mode))
        | Some(ToolChoice::Object(ToolChoiceObject::AllowedTools { mode, .. })) => *mode,
        Some(ToolChoice::Object(ToolChoiceObject::Function { name })) if !thinking => {
            return Some(AnthropicToolChoice::Tool {
                name: name.clone(),
                disable_parallel_tool_use,
            });
        }
        Some(ToolChoice::Object(ToolChoiceObject::Function { .. })) => ToolChoiceMode::Required,
    };
    Some(match mode {
        ToolChoiceMode::None => AnthropicToolChoice::None,
        ToolChoiceMode::Auto => AnthropicToolChoice::Auto {
            disable_parallel_tool_use,
        },
        ToolChoiceMode::Required if !thinking => AnthropicToolChoice::Any {
            disable_parallel_tool_use,
        },
        ToolChoiceMode::Required => {
            // Forced tool use is incompatible with extended thinking (docs/providers/anthropic.md §3.1).
            tracing::debug!("Downgrading a forced tool choice to auto: thinking is on.");
            AnthropicToolChoice::Auto {
                disable_parallel_tool_use,
            }
        }
    })
}
