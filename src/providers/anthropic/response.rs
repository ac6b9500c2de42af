//! Anthropic answers → the emitter: complete messages (`parse_response`), the stop-reason and
//! usage mapping shared with the stream translator, and error bodies/events → `UpstreamError`.

use reqwest::header::HeaderMap;

use super::{
    artifact::{Artifact, Envelopes},
    search::{self, Searches},
    wire::{
        AnthropicContentBlock, AnthropicErrorBody, AnthropicErrorDetail, AnthropicResponse,
        AnthropicStopReason, AnthropicUsage,
    },
};
use crate::{
    error::{GatewayError, UpstreamError, UpstreamErrorKind},
    providers::{
        Call,
        upstream_error::{
            classify_status, client_message, excerpt, refine_bad_request, retry_after, unreadable,
        },
    },
    stream::{Finish, ResponseEmitter},
};

/// Translates a complete Messages response into `out` and finishes it.
pub fn parse_response(
    body: &[u8],
    call: Call<'_>,
    out: &mut ResponseEmitter,
    provider: &str,
) -> Result<(), GatewayError> {
    let message: AnthropicResponse =
        serde_json::from_slice(body).map_err(|e| unreadable(provider, &e, body))?;
    if message.kind == "error" {
        return Err(event_error(provider, &message.error.unwrap_or_default()).into());
    }
    // Every Messages answer is `{"type": "message", …}` (https://docs.anthropic.com/en/api/messages):
    // anything else (`{}` included) is not an answer, however leniently it parsed.
    if message.kind != "message" {
        let what = "the body is not a message (no `type: message`)";
        return Err(unreadable(provider, &what, body).into());
    }
    tracing::debug!(upstream_id = %message.id, "Anthropic message received.");
    out.start();
    out.set_model(&message.model);
    let envelopes = Envelopes::new(call);
    let mut searches = Searches::default();
    for block in &message.content {
        emit_block(out, block, &envelopes, &mut searches);
    }
    let explanation = message
        .stop_details
        .as_ref()
        .and_then(|d| d.explanation.as_deref());
    finish(out, message.stop_reason, explanation, &message.usage);
    Ok(())
}

/// One complete content block. Consecutive text blocks share one message item.
fn emit_block(
    out: &mut ResponseEmitter,
    block: &AnthropicContentBlock,
    envelopes: &Envelopes,
    searches: &mut Searches,
) {
    match block {
        AnthropicContentBlock::Text { text, citations } => {
            let start = search::text_position(out);
            out.text_delta(text);
            search::annotate(out, start, citations.as_deref().unwrap_or_default());
        }
        AnthropicContentBlock::ServerToolUse { id, name, input } => {
            searches.called(id, name, input);
        }
        AnthropicContentBlock::WebSearchToolResult {
            tool_use_id,
            content,
        } => searches.answered(out, tool_use_id, content),
        AnthropicContentBlock::Thinking {
            thinking,
            signature,
        } => {
            out.close_item();
            out.reasoning_summary_delta(thinking);
            if let Some(sealed) = Some(signature)
                .filter(|s| !s.is_empty())
                .and_then(|s| envelopes.seal(&Artifact::Signature(s.clone())))
            {
                out.reasoning_encrypted(&sealed);
            }
            out.close_item();
        }
        AnthropicContentBlock::RedactedThinking { data } => emit_redacted(out, data, envelopes),
        AnthropicContentBlock::ToolUse { id, name, input } => {
            out.function_call(id, name, &compact_arguments(input));
        }
        AnthropicContentBlock::Unknown => {
            tracing::debug!("Skipping an unknown Anthropic content block.")
        }
    }
}

/// A `redacted_thinking` block: a reasoning item with only encrypted content.
pub(super) fn emit_redacted(out: &mut ResponseEmitter, data: &str, envelopes: &Envelopes) {
    out.close_item();
    if let Some(sealed) = Some(data)
        .filter(|d| !d.is_empty())
        .and_then(|d| envelopes.seal(&Artifact::Redacted(d.to_owned())))
    {
        out.reasoning_encrypted(&sealed);
        out.close_item();
    }
}

/// Tool input as the compact JSON string Open Responses carries (`{}` when absent).
pub(super) fn compact_arguments(input: &serde_json::Value) -> String {
    match input {
        serde_json::Value::Null => "{}".to_owned(),
        other => other.to_string(),
    }
}

/// Records usage and ends the response per docs/providers/mapping.md §6.1. A refusal's explanation becomes a
/// refusal part so the caller sees why the output stopped.
pub(super) fn finish(
    out: &mut ResponseEmitter,
    stop: Option<AnthropicStopReason>,
    explanation: Option<&str>,
    usage: &AnthropicUsage,
) {
    out.set_usage(usage.to_usage());
    let finish = match stop {
        Some(AnthropicStopReason::MaxTokens | AnthropicStopReason::ModelContextWindowExceeded) => {
            Finish::Incomplete("max_output_tokens".to_owned())
        }
        Some(AnthropicStopReason::Refusal) => {
            if let Some(text) = explanation {
                out.refusal_delta(text);
            }
            Finish::Incomplete("content_filter".to_owned())
        }
        Some(AnthropicStopReason::Unknown) => {
            tracing::debug!("Unknown Anthropic stop_reason; treating the response as completed.");
            Finish::Completed
        }
        Some(
            AnthropicStopReason::EndTurn
            | AnthropicStopReason::StopSequence
            | AnthropicStopReason::ToolUse
            | AnthropicStopReason::PauseTurn,
        )
        | None => Finish::Completed,
    };
    out.finish(finish);
}

/// The kind an Anthropic `error.type` names, if it names one we map.
fn kind_of(error: &AnthropicErrorDetail) -> Option<UpstreamErrorKind> {
    let spend_limit = error.details.as_ref().and_then(|d| d.error_code.as_deref())
        == Some("enforced_spend_limit_reached");
    Some(match error.kind.as_str() {
        _ if spend_limit => UpstreamErrorKind::QuotaExceeded,
        // A 400 when the prepaid credits are spent: billing, not the request.
        "invalid_request_error" if error.message.contains("credit balance is too low") => {
            UpstreamErrorKind::QuotaExceeded
        }
        "overloaded_error" => UpstreamErrorKind::Overloaded,
        "rate_limit_error" => UpstreamErrorKind::RateLimited,
        "billing_error" => UpstreamErrorKind::QuotaExceeded,
        "api_error" => UpstreamErrorKind::Server,
        "timeout_error" => UpstreamErrorKind::Timeout,
        "invalid_request_error" | "request_too_large" => {
            refine_bad_request(UpstreamErrorKind::BadRequest, None, &error.message)
        }
        "authentication_error" | "permission_error" => UpstreamErrorKind::Auth,
        "not_found_error" => UpstreamErrorKind::NotFound,
        _ => return None,
    })
}

/// An in-band `error` event (or a 200 body of type `error`).
pub(super) fn event_error(provider: &str, error: &AnthropicErrorDetail) -> UpstreamError {
    let kind = kind_of(error).unwrap_or(UpstreamErrorKind::Server);
    let mut err = UpstreamError::new(
        provider,
        kind,
        client_message(provider, kind, 0, Some(&error.message)),
    )
    .with_detail(format!("in-stream {}: {}", error.kind, error.message));
    err.param = param_for(kind, &error.message);
    err
}

/// Maps a non-2xx answer: status first, refined by `error.type` (a 429 spend limit is quota,
/// not a retryable rate limit). Only 400-class messages reach the client verbatim.
pub fn parse_error(provider: &str, status: u16, headers: &HeaderMap, body: &[u8]) -> UpstreamError {
    let parsed: AnthropicErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let error = parsed.error.unwrap_or_default();
    let kind = kind_of(&error)
        .filter(|k| !matches!(k, UpstreamErrorKind::BadRequest) || status < 500)
        .unwrap_or_else(|| classify_status(status));
    let request_id = headers
        .get("request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or(parsed.request_id)
        .unwrap_or_default();
    let mut err = UpstreamError::new(
        provider,
        kind,
        client_message(provider, kind, status, Some(&error.message)),
    )
    .with_retry_after(retry_after(headers))
    .with_detail(format!(
        "status {status}; request-id {request_id}; body: {}",
        excerpt(body)
    ));
    err.param = param_for(kind, &error.message);
    err
}

/// The parameter a client may fix: named by a rejected request's message, `input` when it did
/// not fit the context window.
fn param_for(kind: UpstreamErrorKind, message: &str) -> Option<String> {
    match kind {
        UpstreamErrorKind::BadRequest => param_of(message),
        UpstreamErrorKind::ContextLengthExceeded => Some("input".to_owned()),
        _ => None,
    }
}

/// The Open Responses parameter behind an Anthropic message like `max_tokens: …` or
/// `messages.1.content.0: …`.
fn param_of(message: &str) -> Option<String> {
    let (path, _) = message.split_once(": ")?;
    if path.contains(char::is_whitespace) {
        return None;
    }
    let param = match path.split(['.', '[']).next()? {
        "messages" | "system" => "input",
        "max_tokens" => "max_output_tokens",
        "temperature" => "temperature",
        "top_p" => "top_p",
        "tools" => "tools",
        "tool_choice" => "tool_choice",
        "thinking" => "reasoning",
        "output_config" => "text.format",
        "metadata" => "safety_identifier",
        _ => return None,
    };
    Some(param.to_owned())
}
