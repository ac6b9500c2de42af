//! Open Responses ⇄ OpenAI Responses: nearly the same shape, so translation is mostly
//! pass-through, minus gateway-only fields and item ids/state that only the gateway knows.

use super::{
    LEGACY_PREFIX,
    wire::{
        OpenAiDialectItem, OpenAiError, OpenAiIncompleteDetails, OpenAiInputItem, OpenAiOutputItem,
        OpenAiReasoning, OpenAiRequest, OpenAiResponse, OpenAiUsage,
    },
};
use crate::{
    api::{Item, ResponseError},
    error::GatewayError,
    providers::{Call, upstream_error},
    seal,
    stream::{Finish, ResponseEmitter},
};

/// Asked for whenever reasoning is on (see `build_request`).
const INCLUDE_REASONING: &[&str] = &["reasoning.encrypted_content"];

/// Builds the upstream body. The gateway keeps state, so `store` is false and the full input
/// is sent; our item ids are stripped (OpenAI would try to resolve them).
pub fn build_request(call: Call<'_>) -> Result<OpenAiRequest<'_>, GatewayError> {
    let request = call.request;
    let mut input = Vec::with_capacity(call.input.len());
    for (index, item) in call.input.iter().enumerate() {
        if let Some(item) = upstream_item(item, index)? {
            input.push(item);
        }
    }
    // With store=false OpenAI only returns reasoning state when asked; the gateway always asks
    // when reasoning is configured so stored history can replay it on the next turn.
    let wants_reasoning = request.reasoning.is_some() || request.wants_encrypted_reasoning();
    Ok(OpenAiRequest {
        model: call.model,
        input,
        store: false,
        stream: call.stream,
        instructions: request.instructions.as_deref(),
        tools: request.tools.as_deref(),
        tool_choice: request.tool_choice.as_ref(),
        parallel_tool_calls: request.parallel_tool_calls,
        max_tool_calls: request.max_tool_calls,
        text: request.text.as_ref(),
        temperature: request.temperature,
        top_p: request.top_p,
        top_logprobs: request.top_logprobs,
        max_output_tokens: request.max_output_tokens,
        reasoning: request.reasoning.as_ref(),
        truncation: request.truncation.as_deref(),
        safety_identifier: request.safety_identifier.as_deref(),
        prompt_cache_key: request.prompt_cache_key.as_deref(),
        service_tier: request.service_tier.as_deref(),
        include: wants_reasoning.then_some(INCLUDE_REASONING),
    })
}

fn upstream_item(item: &Item, index: usize) -> Result<Option<OpenAiInputItem<'_>>, GatewayError> {
    Ok(Some(match item {
        Item::Message(m) => OpenAiInputItem::Message {
            role: m.role,
            content: &m.content,
            phase: m.phase.as_deref(),
        },
        Item::FunctionCall(c) => OpenAiInputItem::FunctionCall {
            call_id: &c.call_id,
            name: &c.name,
            arguments: &c.arguments,
            namespace: c.namespace.as_deref(),
        },
        Item::FunctionCallOutput(o) => OpenAiInputItem::FunctionCallOutput {
            call_id: &o.call_id,
            output: &o.output,
        },
        Item::Reasoning(r) => {
            // Without state, or another provider's (a gateway envelope): nothing OpenAI can
            // replay, so it is left out. OpenAI's own value goes back untouched (history stored
            // before it was kept so still carries the old `openai:` prefix).
            let Some(state) = r
                .encrypted_content
                .as_deref()
                .filter(|e| !e.is_empty() && !seal::is_envelope(e))
            else {
                return Ok(None);
            };
            let state = state.strip_prefix(LEGACY_PREFIX).unwrap_or(state);
            OpenAiInputItem::Reasoning {
                summary: &r.summary,
                encrypted_content: state,
            }
        }
        Item::CustomToolCall(c) => OpenAiInputItem::CustomToolCall {
            call_id: &c.call_id,
            name: &c.name,
            namespace: c.namespace.as_deref(),
            input: &c.input,
        },
        Item::CustomToolCallOutput(o) => OpenAiInputItem::CustomToolCallOutput {
            call_id: &o.call_id,
            output: &o.output,
        },
        Item::Other(map) => OpenAiInputItem::Dialect(OpenAiDialectItem(map)),
        Item::ItemReference(_) | Item::Compaction(_) => {
            return Err(GatewayError::invalid(
                "item_reference and compaction items are not supported for this provider; send the items themselves",
                Some(&format!("input[{index}]")),
            ));
        }
    }))
}

/// Translates a complete OpenAI response body into the emitter.
pub fn parse_response(
    body: &[u8],
    _call: Call<'_>,
    out: &mut ResponseEmitter,
    provider: &str,
) -> Result<(), GatewayError> {
    let response: OpenAiResponse =
        serde_json::from_slice(body).map_err(|e| upstream_error::unreadable(provider, &e, body))?;
    check_complete_items(&response.output)
        .map_err(|detail| upstream_error::protocol(provider, detail))?;
    out.start();
    if let Some(model) = &response.model {
        out.set_model(model);
    }
    for item in &response.output {
        emit_item(item, out);
    }
    if let Some(usage) = &response.usage {
        out.set_usage(parse_usage(usage));
    }
    out.finish(finish_of(
        Some(&response.status),
        response.incomplete_details.as_ref(),
        response.error.as_ref(),
    ));
    Ok(())
}

/// What the types leave optional but a complete output item must have
/// (https://platform.openai.com/docs/api-reference/responses/object): a message's content, a
/// function call's id, name and arguments. A body without them is not an answer, however it
/// parsed, and must never become a stored, completed, empty response.
fn check_complete_items(output: &[OpenAiOutputItem]) -> Result<(), String> {
    for (i, item) in output.iter().enumerate() {
        let fits = match item {
            OpenAiOutputItem::Message(message) => message.content.is_some(),
            OpenAiOutputItem::FunctionCall(call) => {
                call.call_id.is_some() && call.name.is_some() && call.arguments.is_some()
            }
            _ => true,
        };
        if !fits {
            return Err(format!("output[{i}] is not a well-formed output item"));
        }
    }
    Ok(())
}

/// Replays one complete upstream output item into the emitter.
pub fn emit_item(item: &OpenAiOutputItem, out: &mut ResponseEmitter) {
    match item {
        OpenAiOutputItem::Message(message) => {
            for part in message.content.iter().flatten() {
                match part.kind.as_str() {
                    "refusal" => out.refusal_delta(part.refusal.as_deref().unwrap_or_default()),
                    _ => out.text_delta(part.text.as_deref().unwrap_or_default()),
                }
            }
            // An incomplete item stays open: the terminal `finish` closes it as incomplete.
            if message.status.as_deref() != Some("incomplete") {
                out.close_item();
            }
        }
        OpenAiOutputItem::FunctionCall(call) => {
            out.start_namespaced_call(
                or_empty(&call.call_id),
                or_empty(&call.name),
                call.namespace.as_deref(),
            );
            out.function_arguments_delta(or_empty(&call.arguments));
            out.close_item();
        }
        OpenAiOutputItem::Reasoning(reasoning) => {
            emit_reasoning_parts(reasoning, out);
            out.close_item();
        }
        other => emit_dialect_item(other, out),
    }
}

/// The dialect's other output items: custom tool calls, and hosted tools' items
/// (`web_search_call`, …) kept verbatim. They only come back when the request asked for
/// such tools, which OpenAI receives unchanged.
pub fn emit_dialect_item(item: &OpenAiOutputItem, out: &mut ResponseEmitter) {
    match item {
        OpenAiOutputItem::CustomToolCall(call) => {
            out.custom_tool_call(
                or_empty(&call.call_id),
                or_empty(&call.name),
                call.namespace.as_deref(),
                or_empty(&call.input),
            );
        }
        OpenAiOutputItem::Other(map) => out.opaque_item(map),
        OpenAiOutputItem::Message(_)
        | OpenAiOutputItem::FunctionCall(_)
        | OpenAiOutputItem::Reasoning(_) => {}
    }
}

/// Emits a reasoning item's summary, raw text and encrypted state.
pub fn emit_reasoning_parts(item: &OpenAiReasoning, out: &mut ResponseEmitter) {
    for text in item.summary.iter().filter_map(|p| p.text.as_deref()) {
        out.reasoning_summary_delta(text);
    }
    for text in item.content.iter().filter_map(|p| p.text.as_deref()) {
        out.reasoning_text_delta(text);
    }
    if let Some(state) = &item.encrypted_content {
        out.reasoning_encrypted(state);
    }
}

/// The terminal status of an upstream response object.
pub fn finish_of(
    status: Option<&str>,
    incomplete: Option<&OpenAiIncompleteDetails>,
    error: Option<&OpenAiError>,
) -> Finish {
    match status {
        Some("incomplete") => Finish::Incomplete(
            incomplete
                .and_then(|d| d.reason.clone())
                .unwrap_or_else(|| "max_output_tokens".to_owned()),
        ),
        Some("failed") => Finish::Failed(ResponseError {
            code: error
                .and_then(|e| e.code.clone())
                .unwrap_or_else(|| "server_error".to_owned()),
            message: error
                .and_then(|e| e.message.clone())
                .unwrap_or_else(|| "The model failed to generate a response.".to_owned()),
        }),
        _ => Finish::Completed,
    }
}

/// Usage from an OpenAI `usage` object.
pub fn parse_usage(usage: &OpenAiUsage) -> crate::api::Usage {
    crate::api::Usage::new(
        usage.input_tokens.unwrap_or(0),
        usage.output_tokens.unwrap_or(0),
        usage
            .input_tokens_details
            .as_ref()
            .and_then(|d| d.cached_tokens)
            .unwrap_or(0),
        usage
            .output_tokens_details
            .as_ref()
            .and_then(|d| d.reasoning_tokens)
            .unwrap_or(0),
    )
}

/// An optional string field, empty when absent.
pub fn or_empty(field: &Option<String>) -> &str {
    field.as_deref().unwrap_or_default()
}
