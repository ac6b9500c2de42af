//! Pure Chat Completions → Open Responses translation of a complete `chat.completion` body,
//! plus the pieces the stream translator shares (finish reasons, usage, call emission).
//! Mapping: docs/providers/mapping.md §6.

use serde_json::Value;

use super::wire::{ErrorDetail, content_text};
use crate::{
    api::{
        Usage,
        chat_completions::{ChatCompletion, ChatUsage},
    },
    error::GatewayError,
    providers::Call,
    stream::{Finish, ResponseEmitter},
};

/// Translates a complete `chat.completion` body into the emitter, finishing it.
pub fn parse_response(
    body: &[u8],
    _call: Call<'_>,
    out: &mut ResponseEmitter,
    provider: &str,
) -> Result<(), GatewayError> {
    let completion: ChatCompletion = serde_json::from_slice(body).map_err(|e| {
        crate::providers::upstream_error::protocol(
            provider,
            format!("invalid chat completion: {e}"),
        )
    })?;
    if let Some(error) = completion.error.as_ref().filter(|e| !e.is_null()) {
        return Err(super::in_band_error(provider, &ErrorDetail::from_value(error)).into());
    }
    let choice = completion
        .choices
        .into_iter()
        .find(|c| c.index == 0)
        .ok_or_else(|| {
            crate::providers::upstream_error::protocol(
                provider,
                "chat completion without choices".to_owned(),
            )
        })?;
    out.set_model(&completion.model);
    out.start();
    let finish = finish_of(choice.finish_reason.as_deref()).unwrap_or(Finish::Completed);
    let message = choice.message.unwrap_or_default();
    if let Some(reasoning) = message.reasoning_content.as_ref().and_then(Value::as_str) {
        out.reasoning_text_delta(reasoning);
    }
    if let Some(content) = &message.content {
        out.text_delta(&content_text(content));
    }
    if let Some(refusal) = message.refusal.flatten().as_deref() {
        out.refusal_delta(refusal);
    }
    let calls = message.tool_calls.unwrap_or_default();
    let count = calls.len();
    for (n, call) in calls.into_iter().enumerate() {
        let function = call.function;
        let call_id = match call.id.filter(|id| !id.is_empty()) {
            Some(id) => id,
            None => synthetic_call_id(&out.response().id, n),
        };
        // A call cut by the token cap stays open so `finish` marks it incomplete.
        let keep_open = n + 1 == count && finish != Finish::Completed;
        emit_call(
            out,
            &call_id,
            function.name.as_deref().unwrap_or_default(),
            &function.arguments,
            keep_open,
        );
    }
    if let Some(usage) = completion.usage.flatten() {
        out.set_usage(usage_of(usage));
    }
    out.finish(finish);
    Ok(())
}

/// Emits one function call; complete calls with no arguments get `{}` (valid JSON).
pub(super) fn emit_call(
    out: &mut ResponseEmitter,
    call_id: &str,
    name: &str,
    arguments: &str,
    keep_open: bool,
) {
    out.start_function_call(call_id, name);
    let arguments = if arguments.is_empty() && !keep_open {
        "{}"
    } else {
        arguments
    };
    out.function_arguments_delta(arguments);
    if !keep_open {
        out.close_item();
    }
}

/// A deterministic call id for upstreams that send none: unique per response and position.
pub(super) fn synthetic_call_id(response_id: &str, position: usize) -> String {
    format!(
        "call_{}_{position}",
        response_id.strip_prefix("resp_").unwrap_or(response_id)
    )
}

/// How a `finish_reason` ends the response (`None` when there is none).
pub(super) fn finish_of(reason: Option<&str>) -> Option<Finish> {
    Some(match reason? {
        "length" => Finish::Incomplete("max_output_tokens".to_owned()),
        "content_filter" => Finish::Incomplete("content_filter".to_owned()),
        "stop" | "tool_calls" | "function_call" => Finish::Completed,
        other => {
            tracing::debug!(
                finish_reason = other,
                "Unknown finish_reason treated as completed."
            );
            Finish::Completed
        }
    })
}

/// Chat Completions usage → ours.
pub(super) fn usage_of(usage: ChatUsage) -> Usage {
    Usage::new(
        usage.prompt_tokens,
        usage.completion_tokens,
        usage.prompt_tokens_details.cached_tokens,
        usage.completion_tokens_details.reasoning_tokens,
    )
}
