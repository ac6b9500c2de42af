//! Open Responses ⇄ OpenAI Responses: nearly the same shape, so translation is mostly
//! pass-through, minus gateway-only fields and item ids/state that only the gateway knows.

use serde_json::{Map, Value, json};

use super::LEGACY_PREFIX;
use crate::{
    api::{ContentPart, Item, ResponseError},
    error::{GatewayError, UpstreamError, UpstreamErrorKind},
    providers::{Call, http, seal},
    stream::{Finish, ResponseEmitter},
};

/// Builds the upstream body. The gateway keeps state, so `store` is false and the full input
/// is sent; our item ids are stripped (OpenAI would try to resolve them).
pub fn build_request(call: Call<'_>) -> Result<Value, GatewayError> {
    let request = call.request;
    let mut input = Vec::with_capacity(call.input.len());
    for (index, item) in call.input.iter().enumerate() {
        if let Some(item) = upstream_item(item, index)? {
            input.push(item);
        }
    }
    let mut body = Map::new();
    body.insert("model".into(), json!(call.model));
    body.insert("input".into(), Value::Array(input));
    body.insert("store".into(), json!(false));
    body.insert("stream".into(), json!(call.stream));
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value.filter(|v| !v.is_null()) {
            body.insert(key.to_owned(), value);
        }
    };
    put(
        "instructions",
        request.instructions.as_ref().map(|v| json!(v)),
    );
    put("tools", request.tools.as_ref().map(|v| json!(v)));
    put(
        "tool_choice",
        request.tool_choice.as_ref().map(|v| json!(v)),
    );
    put(
        "parallel_tool_calls",
        request.parallel_tool_calls.map(|v| json!(v)),
    );
    put("max_tool_calls", request.max_tool_calls.map(|v| json!(v)));
    put("text", request.text.as_ref().map(|v| json!(v)));
    put("temperature", request.temperature.map(|v| json!(v)));
    put("top_p", request.top_p.map(|v| json!(v)));
    put("top_logprobs", request.top_logprobs.map(|v| json!(v)));
    put(
        "max_output_tokens",
        request.max_output_tokens.map(|v| json!(v)),
    );
    put("reasoning", request.reasoning.as_ref().map(|v| json!(v)));
    put("truncation", request.truncation.as_ref().map(|v| json!(v)));
    put(
        "safety_identifier",
        request.safety_identifier.as_ref().map(|v| json!(v)),
    );
    put(
        "prompt_cache_key",
        request.prompt_cache_key.as_ref().map(|v| json!(v)),
    );
    put(
        "service_tier",
        request.service_tier.as_ref().map(|v| json!(v)),
    );
    // With store=false OpenAI only returns reasoning state when asked; the gateway always asks
    // when reasoning is configured so stored history can replay it on the next turn.
    if request.reasoning.is_some() || request.wants_encrypted_reasoning() {
        put("include", Some(json!(["reasoning.encrypted_content"])));
    }
    Ok(Value::Object(body))
}

fn upstream_item(item: &Item, index: usize) -> Result<Option<Value>, GatewayError> {
    let mut value = match item {
        Item::Reasoning(r) => match r
            .encrypted_content
            .as_deref()
            .filter(|e| !e.is_empty() && !seal::is_envelope(e))
        {
            // Without state, or another provider's (a gateway envelope): nothing OpenAI can
            // replay, so it is left out.
            None => return Ok(None),
            Some(state) => {
                let state = state.strip_prefix(LEGACY_PREFIX).unwrap_or(state);
                json!({"type":"reasoning","summary":r.summary,"encrypted_content":state})
            }
        },
        Item::ItemReference(_) | Item::Compaction(_) => {
            return Err(GatewayError::invalid(
                "item_reference and compaction items are not supported for this provider; send the items themselves",
                Some(&format!("input[{index}]")),
            ));
        }
        other => serde_json::to_value(other).map_err(|e| GatewayError::Internal(e.to_string()))?,
    };
    if let Some(map) = value.as_object_mut() {
        map.remove("id");
        map.remove("status");
    }
    Ok(Some(value))
}

/// Translates a complete OpenAI response body into the emitter.
pub fn parse_response(
    body: &[u8],
    _call: Call<'_>,
    out: &mut ResponseEmitter,
    provider: &str,
) -> Result<(), GatewayError> {
    let response: Value =
        serde_json::from_slice(body).map_err(|e| protocol(provider, &e.to_string()))?;
    check_response_shape(&response).map_err(|detail| protocol(provider, &detail))?;
    out.start();
    if let Some(model) = response.get("model").and_then(Value::as_str) {
        out.set_model(model);
    }
    for item in response
        .get("output")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        emit_item(item, out);
    }
    if let Some(usage) = response.get("usage") {
        out.set_usage(parse_usage(usage));
    }
    out.finish(finish_of(&response));
    Ok(())
}

/// The fields every OpenAI response object has, with their types
/// (https://platform.openai.com/docs/api-reference/responses/object): a body without them is not
/// an answer, however it parsed, and must never become a stored, completed, empty response.
fn check_response_shape(response: &Value) -> Result<(), String> {
    let object = response
        .as_object()
        .ok_or("the body is not a JSON object")?;
    let string = |key: &str| object.get(key).and_then(Value::as_str);
    if string("id").is_none() || string("status").is_none() {
        return Err("the response has no string `id` and `status`".to_owned());
    }
    let output = object
        .get("output")
        .and_then(Value::as_array)
        .ok_or("the response has no `output` array")?;
    for (i, item) in output.iter().enumerate() {
        let kind = item.get("type").and_then(Value::as_str);
        let fits = match kind {
            Some("message") => item
                .get("content")
                .and_then(Value::as_array)
                .is_some_and(|parts| {
                    parts
                        .iter()
                        .all(|p| p.get("type").is_some_and(Value::is_string))
                }),
            Some("function_call") => ["call_id", "name", "arguments"]
                .iter()
                .all(|k| item.get(*k).is_some_and(Value::is_string)),
            Some(_) => true,
            None => false,
        };
        if !fits {
            return Err(format!("output[{i}] is not a well-formed output item"));
        }
    }
    if object
        .get("usage")
        .is_some_and(|u| !u.is_object() && !u.is_null())
    {
        return Err("`usage` is not an object".to_owned());
    }
    Ok(())
}

/// Replays one complete upstream output item into the emitter.
pub fn emit_item(item: &Value, out: &mut ResponseEmitter) {
    match item.get("type").and_then(Value::as_str) {
        Some("message") => {
            let parts: Vec<ContentPart> = item
                .get("content")
                .and_then(|c| serde_json::from_value(c.clone()).ok())
                .unwrap_or_default();
            for part in parts {
                match part {
                    ContentPart::Refusal { refusal } => out.refusal_delta(&refusal),
                    other => out.text_delta(other.text().unwrap_or_default()),
                }
            }
            // An incomplete item stays open: the terminal `finish` closes it as incomplete.
            if item.get("status").and_then(Value::as_str) != Some("incomplete") {
                out.close_item();
            }
        }
        Some("function_call") => {
            let field = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or_default();
            let namespace = item.get("namespace").and_then(Value::as_str);
            out.start_namespaced_call(field("call_id"), field("name"), namespace);
            out.function_arguments_delta(field("arguments"));
            out.close_item();
        }
        Some("reasoning") => {
            emit_reasoning_parts(item, out);
            out.close_item();
        }
        _ => emit_dialect_item(item, out),
    }
}

/// The dialect's other output items: custom tool calls, and hosted tools' items
/// (`web_search_call`, …) kept verbatim. They only come back when the request asked for
/// such tools, which OpenAI receives unchanged.
pub fn emit_dialect_item(item: &Value, out: &mut ResponseEmitter) {
    let field = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or_default();
    match (field("type"), item.as_object()) {
        ("custom_tool_call", _) => {
            let namespace = item.get("namespace").and_then(Value::as_str);
            out.custom_tool_call(field("call_id"), field("name"), namespace, field("input"));
        }
        (kind, Some(map)) if !kind.is_empty() => out.opaque_item(map),
        (kind, _) => tracing::debug!(item_type = kind, "Skipping a malformed OpenAI output item."),
    }
}

/// Emits a reasoning item's summary, raw text and encrypted state.
pub fn emit_reasoning_parts(item: &Value, out: &mut ResponseEmitter) {
    let texts = |key: &str| -> Vec<String> {
        item.get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| p.get("text").and_then(Value::as_str).map(str::to_owned))
            .collect()
    };
    for text in texts("summary") {
        out.reasoning_summary_delta(&text);
    }
    for text in texts("content") {
        out.reasoning_text_delta(&text);
    }
    if let Some(state) = item.get("encrypted_content").and_then(Value::as_str) {
        out.reasoning_encrypted(state);
    }
}

/// The terminal status of an upstream response object.
pub fn finish_of(response: &Value) -> Finish {
    match response.get("status").and_then(Value::as_str) {
        Some("incomplete") => Finish::Incomplete(
            response
                .pointer("/incomplete_details/reason")
                .and_then(Value::as_str)
                .unwrap_or("max_output_tokens")
                .to_owned(),
        ),
        Some("failed") => Finish::Failed(ResponseError {
            code: response
                .pointer("/error/code")
                .and_then(Value::as_str)
                .unwrap_or("server_error")
                .to_owned(),
            message: response
                .pointer("/error/message")
                .and_then(Value::as_str)
                .unwrap_or("The model failed to generate a response.")
                .to_owned(),
        }),
        _ => Finish::Completed,
    }
}

/// Usage from an OpenAI `usage` object.
pub fn parse_usage(usage: &Value) -> crate::api::Usage {
    let n = |ptr: &str| usage.pointer(ptr).and_then(Value::as_u64).unwrap_or(0);
    crate::api::Usage::new(
        n("/input_tokens"),
        n("/output_tokens"),
        n("/input_tokens_details/cached_tokens"),
        n("/output_tokens_details/reasoning_tokens"),
    )
}

/// A malformed upstream payload.
pub fn protocol(provider: &str, detail: &str) -> GatewayError {
    let kind = UpstreamErrorKind::Protocol;
    UpstreamError::new(provider, kind, http::generic_message(provider, kind, 0))
        .with_detail(detail.to_owned())
        .into()
}
