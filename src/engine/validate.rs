//! Semantic checks on a parsed request (types are already checked by serde): required fields,
//! ranges and constraints from the spec, each failing with the offending `param`.

use crate::{
    api::{CreateResponse, Input, Item, Tool, ToolChoice, ToolChoiceObject},
    error::GatewayError,
};

fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A model name becomes part of an upstream URL (Gemini's method path, Azure's deployment), so
/// anything that could change that URL's shape is refused outright: `?`, `#`, `%`, `\\`,
/// control characters, `..`, and any `/` but the one of the `provider/model` form.
fn validate_model_name(model: &str) -> Result<(), GatewayError> {
    let bad = model
        .chars()
        .find(|c| c.is_control() || matches!(c, '?' | '#' | '%' | '\\'));
    let reason = if let Some(c) = bad {
        Some(format!("must not contain {c:?}"))
    } else if model.contains("..") {
        Some("must not contain `..`".to_owned())
    } else if model.matches('/').count() > 1 || model.starts_with('/') || model.ends_with('/') {
        Some("may contain one `/`, between a provider and a model (`provider/model`)".to_owned())
    } else {
        None
    };
    match reason {
        Some(reason) => Err(GatewayError::invalid(
            format!("Invalid `model`: a model name {reason}."),
            Some("model"),
        )),
        None => Ok(()),
    }
}

/// Checks, after history expansion, that every `function_call_output` the caller sent answers a
/// `function_call` of the conversation (`history`: the whole input sent upstream; `own`: the
/// request's own `input`, whose indexes the error names). Providers differ on an orphan result:
/// Anthropic's translation would drop it and answer as if it were never sent.
pub fn validate_tool_outputs(history: &[Item], own: &[Item]) -> Result<(), GatewayError> {
    let calls: std::collections::HashSet<&str> = history
        .iter()
        .filter_map(|item| match item {
            Item::FunctionCall(call) => Some(call.call_id.as_str()),
            _ => None,
        })
        .collect();
    for (i, item) in own.iter().enumerate() {
        if let Item::FunctionCallOutput(output) = item
            && !calls.contains(output.call_id.as_str())
        {
            return Err(GatewayError::InvalidRequest {
                message: format!(
                    "No tool call found for function call output with call_id `{}`.",
                    output.call_id
                ),
                param: Some(format!("input[{i}].call_id")),
                code: "invalid_request",
            });
        }
    }
    Ok(())
}

/// One of `allowed`, or a 400 naming `param` and the values it may take.
fn one_of(value: Option<&str>, allowed: &[&str], param: &str) -> Result<(), GatewayError> {
    match value {
        Some(v) if !allowed.contains(&v) => Err(GatewayError::invalid(
            format!(
                "Invalid value for `{param}`: `{v}`; expected one of {}.",
                allowed
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Some(param),
        )),
        _ => Ok(()),
    }
}

/// The string enums of the spec (`spec/openapi.json`: `ReasoningEffortEnum`,
/// `ReasoningSummaryEnum`, `VerbosityEnum`, `TruncationEnum`, `ServiceTierEnum`, `IncludeEnum`).
/// A value outside them would be forwarded upstream and echoed in a response that no longer
/// validates. `include` and `service_tier` also take the values OpenAI documents for them, which
/// agents built on OpenAI send.
fn validate_enums(request: &CreateResponse) -> Result<(), GatewayError> {
    if let Some(reasoning) = &request.reasoning {
        one_of(
            reasoning.effort.as_deref(),
            &["none", "low", "medium", "high", "xhigh"],
            "reasoning.effort",
        )?;
        one_of(
            reasoning.summary.as_deref(),
            &["concise", "detailed", "auto"],
            "reasoning.summary",
        )?;
    }
    if let Some(text) = &request.text {
        one_of(
            text.verbosity.as_deref(),
            &["low", "medium", "high"],
            "text.verbosity",
        )?;
    }
    one_of(
        request.truncation.as_deref(),
        &["auto", "disabled"],
        "truncation",
    )?;
    one_of(
        request.service_tier.as_deref(),
        &["auto", "default", "flex", "priority", "scale"],
        "service_tier",
    )?;
    for (i, include) in request.include.iter().flatten().enumerate() {
        one_of(
            Some(include),
            &[
                "reasoning.encrypted_content",
                "message.output_text.logprobs",
                "message.input_image.image_url",
                "computer_call_output.output.image_url",
                "file_search_call.results",
                "web_search_call.results",
                "web_search_call.action.sources",
                "code_interpreter_call.outputs",
            ],
            &format!("include[{i}]"),
        )?;
    }
    Ok(())
}

fn range(value: Option<f64>, min: f64, max: f64, param: &str) -> Result<(), GatewayError> {
    match value {
        Some(v) if !(min..=max).contains(&v) => Err(GatewayError::invalid(
            format!("`{param}` must be between {min} and {max}, got {v}."),
            Some(param),
        )),
        _ => Ok(()),
    }
}

/// Checks a request before any routing happens.
pub fn validate_request(request: &CreateResponse) -> Result<(), GatewayError> {
    validate_required(request)?;
    validate_ranges(request)?;
    validate_enums(request)?;
    validate_metadata(request)?;
    validate_tools(request)
}

/// `model` and `input` (unless a previous response carries the conversation), and `store`
/// for a background response.
fn validate_required(request: &CreateResponse) -> Result<(), GatewayError> {
    match request.model.as_deref().map(str::trim) {
        None | Some("") => {
            return Err(GatewayError::invalid(
                "Missing required parameter: `model`.",
                Some("model"),
            ));
        }
        Some(model) => validate_model_name(model)?,
    }
    match &request.input {
        None if request.previous_response_id.is_none() => {
            return Err(GatewayError::invalid(
                "Missing required parameter: `input`.",
                Some("input"),
            ));
        }
        Some(Input::Items(items)) if items.is_empty() && request.previous_response_id.is_none() => {
            return Err(GatewayError::invalid(
                "`input` must contain at least one item.",
                Some("input"),
            ));
        }
        _ => {}
    }
    if request.background == Some(true) && request.store == Some(false) {
        return Err(GatewayError::invalid(
            "Background responses must be stored: `background: true` needs `store` true or absent.",
            Some("store"),
        ));
    }
    Ok(())
}

/// Sampling parameters and limits within the spec's bounds.
fn validate_ranges(request: &CreateResponse) -> Result<(), GatewayError> {
    range(request.temperature, 0.0, 2.0, "temperature")?;
    range(request.top_p, 0.0, 1.0, "top_p")?;
    range(request.presence_penalty, -2.0, 2.0, "presence_penalty")?;
    range(request.frequency_penalty, -2.0, 2.0, "frequency_penalty")?;
    if let Some(n) = request.top_logprobs.filter(|n| *n > 20) {
        return Err(GatewayError::invalid(
            format!("`top_logprobs` must be between 0 and 20, got {n}."),
            Some("top_logprobs"),
        ));
    }
    if let Some(n) = request.max_output_tokens.filter(|n| *n < 16) {
        return Err(GatewayError::invalid(
            format!("`max_output_tokens` must be at least 16, got {n}."),
            Some("max_output_tokens"),
        ));
    }
    if request.max_tool_calls == Some(0) {
        return Err(GatewayError::invalid(
            "`max_tool_calls` must be at least 1.",
            Some("max_tool_calls"),
        ));
    }
    Ok(())
}

/// At most 16 pairs, keys up to 64 and values up to 512 characters.
fn validate_metadata(request: &CreateResponse) -> Result<(), GatewayError> {
    if let Some(metadata) = &request.metadata {
        if metadata.len() > 16 {
            return Err(GatewayError::invalid(
                "`metadata` may hold at most 16 pairs.",
                Some("metadata"),
            ));
        }
        if let Some((k, _)) = metadata.iter().find(|(k, v)| k.len() > 64 || v.len() > 512) {
            return Err(GatewayError::invalid(
                format!("`metadata.{k}`: keys are at most 64 and values at most 512 characters."),
                Some("metadata"),
            ));
        }
    }
    Ok(())
}

/// Function tool names and schemas, and a `tool_choice` that names only declared functions.
fn validate_tools(request: &CreateResponse) -> Result<(), GatewayError> {
    let tools = request.tools.as_deref().unwrap_or_default();
    // Only top-level functions are checked here: namespace children and custom tools get
    // provider-valid names when flattened (`providers::dialect`), and OpenAI checks its own.
    let functions = tools.iter().enumerate().filter_map(|(i, tool)| match tool {
        Tool::Function(f) => Some((i, f)),
        Tool::Namespace(_) | Tool::Custom(_) | Tool::Other(_) => None,
    });
    for (i, tool) in functions {
        if !is_valid_name(&tool.name) {
            return Err(GatewayError::invalid(
                format!(
                    "Tool name `{}` must be 1-64 characters of a-z, A-Z, 0-9, _ or -.",
                    tool.name
                ),
                Some(&format!("tools[{i}].name")),
            ));
        }
        if tool.parameters.as_ref().is_some_and(|p| !p.is_object()) {
            return Err(GatewayError::invalid(
                "Tool parameters must be a JSON Schema object.",
                Some(&format!("tools[{i}].parameters")),
            ));
        }
    }
    if let Some(choice) = &request.tool_choice {
        let known = |name: &str| {
            tools
                .iter()
                .any(|t| matches!(t, Tool::Function(f) if f.name == name))
        };
        let names = choice.allowed_names().unwrap_or_default();
        if let Some(missing) = names.iter().find(|n| !known(n)) {
            return Err(GatewayError::invalid(
                format!("`tool_choice` names `{missing}`, which is not in `tools`."),
                Some("tool_choice"),
            ));
        }
        if let ToolChoice::Object(ToolChoiceObject::AllowedTools { tools: allowed, .. }) = choice
            && allowed.iter().any(|t| t.kind != "function")
        {
            return Err(GatewayError::invalid(
                "Only function tools can be listed in `allowed_tools`.",
                Some("tool_choice"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(body: serde_json::Value) -> Result<(), GatewayError> {
        validate_request(&serde_json::from_value(body).unwrap())
    }

    #[test]
    fn required_fields_and_ranges() {
        let cases = [
            (json!({"input":"hi"}), "model"),
            (json!({"model":"m"}), "input"),
            (
                json!({"model":"m","input":"hi","temperature":3}),
                "temperature",
            ),
            (
                json!({"model":"m","input":"hi","max_output_tokens":5}),
                "max_output_tokens",
            ),
            (
                json!({"model":"m","input":"hi","tools":[{"type":"function","name":"bad name"}]}),
                "tools[0].name",
            ),
            (
                json!({"model":"m","input":"hi","tool_choice":{"type":"function","name":"f"}}),
                "tool_choice",
            ),
            (
                json!({"model":"m","input":"hi","background":true,"store":false}),
                "store",
            ),
            (
                json!({"model":"m","input":"hi","reasoning":{"effort":"ultra"}}),
                "reasoning.effort",
            ),
            (
                json!({"model":"m","input":"hi","reasoning":{"summary":"long"}}),
                "reasoning.summary",
            ),
            (
                json!({"model":"m","input":"hi","text":{"verbosity":"loud"}}),
                "text.verbosity",
            ),
            (
                json!({"model":"m","input":"hi","service_tier":"gold"}),
                "service_tier",
            ),
            (
                json!({"model":"m","input":"hi","include":["reasoning.encrypted_content","x"]}),
                "include[1]",
            ),
            (
                json!({"model":"m","input":"hi","truncation":"sometimes"}),
                "truncation",
            ),
        ];
        for (body, param) in cases {
            let err = check(body).unwrap_err();
            assert_eq!(err.param().as_deref(), Some(param));
        }
        assert!(check(json!({"model":"m","previous_response_id":"resp_1"})).is_ok());
        assert!(check(json!({"model":"m","input":"hi"})).is_ok());
    }

    #[test]
    fn model_names_that_would_reshape_an_upstream_url_are_refused() {
        for model in [
            "google/gemini-2.5-flash/../../../some/path?",
            "google/gemini-2.5-flash:generateContent?key=evil#",
            "azureopenai/x/../../../openai/deployments/other-dep/chat/completions?api-version=1&",
            "gemini-2.5-flash%2F..%2Fx",
            "gemini..flash",
            "gemini\u{0}flash",
            "gemini-2.5-flash\nx",
            "a\\b",
            "/gemini",
            "google/",
        ] {
            let err = check(json!({"model": model, "input": "hi"})).unwrap_err();
            assert_eq!(err.status().as_u16(), 400, "{model}");
            assert_eq!(err.param().as_deref(), Some("model"), "{model}");
        }
        for model in [
            "google/gemini-2.5-flash",
            "gpt-4o",
            "claude-sonnet-4-5",
            "my.alias_1",
        ] {
            assert!(
                check(json!({"model": model, "input": "hi"})).is_ok(),
                "{model}"
            );
        }
    }
}
