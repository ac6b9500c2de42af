//! Chat Completions, written once for any OpenAI-compatible upstream: pure Open Responses ⇄
//! Chat Completions translation (`translate` requests, `response` bodies, `stream` chunks),
//! upstream error mapping (here), and the Azure OpenAI transport (`transport`). Docs: https://platform.openai.com/docs/api-reference/chat,
//! https://learn.microsoft.com/azure/ai-foundry/openai/reference

mod response;
mod stream;
mod translate;
mod transport;
mod wire;

#[cfg(test)]
mod tests;

use std::time::Duration;

use reqwest::header::HeaderMap;

pub use response::parse_response;
pub use stream::ChatStream;
pub use translate::build_request;
pub use transport::AzureClient;
pub use wire::ChatRequest;
use wire::ErrorDetail;

use super::http;
use crate::error::{UpstreamError, UpstreamErrorKind};

/// Maps a non-2xx Chat Completions answer (OpenAI or Azure envelope) to an upstream error.
///
/// 400s pass the upstream's message and `param` to the caller; every other kind gets a generic
/// message (the body only goes to the log-only detail). Azure's prompt filter (400,
/// `code: content_filter`) becomes `ContentFilter`; OpenAI's `insufficient_quota` 429 becomes
/// the non-retryable `QuotaExceeded`.
pub fn parse_error(provider: &str, status: u16, headers: &HeaderMap, body: &[u8]) -> UpstreamError {
    let detail = ErrorDetail::from_body(body).unwrap_or_default();
    let is = |value: &str| {
        detail.code.as_deref() == Some(value) || detail.kind.as_deref() == Some(value)
    };
    let kind = match http::classify_status(status) {
        UpstreamErrorKind::RateLimited if is("insufficient_quota") => {
            UpstreamErrorKind::QuotaExceeded
        }
        UpstreamErrorKind::BadRequest if is("content_filter") => UpstreamErrorKind::ContentFilter,
        kind => http::refine_bad_request(
            kind,
            detail.code.as_deref(),
            detail.message.as_deref().unwrap_or_default(),
        ),
    };
    let retry_after = http::retry_after(headers).or_else(|| {
        (kind == UpstreamErrorKind::RateLimited)
            .then(|| detail.message.as_deref().and_then(retry_hint))
            .flatten()
    });
    let request_id = ["x-request-id", "apim-request-id"]
        .iter()
        .find_map(|name| headers.get(*name).and_then(|v| v.to_str().ok()))
        .unwrap_or("");
    let mut err = UpstreamError::new(
        provider,
        kind,
        client_message(provider, kind, status, &detail),
    )
    .with_retry_after(retry_after)
    .with_detail(format!(
        "status {status}, request-id {request_id}: {}",
        String::from_utf8_lossy(body)
    ));
    err.param = param_of(kind, detail.param);
    err
}

/// The parameter a client may fix: the upstream's for a rejected request, `input` when it did
/// not fit the context window.
fn param_of(kind: UpstreamErrorKind, upstream: Option<String>) -> Option<String> {
    match kind {
        UpstreamErrorKind::BadRequest | UpstreamErrorKind::ContentFilter => upstream,
        UpstreamErrorKind::ContextLengthExceeded => Some("input".to_owned()),
        _ => None,
    }
}

fn client_message(
    provider: &str,
    kind: UpstreamErrorKind,
    status: u16,
    detail: &ErrorDetail,
) -> String {
    let upstream = detail.message.as_deref().filter(|m| !m.is_empty());
    match (kind, upstream) {
        (
            UpstreamErrorKind::BadRequest
            | UpstreamErrorKind::ContentFilter
            | UpstreamErrorKind::ContextLengthExceeded,
            Some(message),
        ) => message.to_owned(),
        _ => http::generic_message(provider, kind, status),
    }
}

/// Maps an in-band error (a `data: {"error": …}` frame, or an error inside a 200 body).
fn in_band_error(provider: &str, detail: &ErrorDetail) -> UpstreamError {
    let kind = [detail.code.as_deref(), detail.kind.as_deref()]
        .into_iter()
        .flatten()
        .find_map(kind_of_code)
        .unwrap_or(UpstreamErrorKind::Server);
    let kind = http::refine_bad_request(
        kind,
        detail.code.as_deref(),
        detail.message.as_deref().unwrap_or_default(),
    );
    let mut err = UpstreamError::new(provider, kind, client_message(provider, kind, 0, detail))
        .with_detail(format!(
            "in-band error: code {:?}, type {:?}, message {:?}",
            detail.code, detail.kind, detail.message
        ));
    err.param = param_of(kind, detail.param.clone());
    err
}

fn kind_of_code(code: &str) -> Option<UpstreamErrorKind> {
    Some(match code {
        "rate_limit_exceeded" | "rate_limit_error" | "429" | "tokens" | "requests" => {
            UpstreamErrorKind::RateLimited
        }
        "insufficient_quota" => UpstreamErrorKind::QuotaExceeded,
        "content_filter" => UpstreamErrorKind::ContentFilter,
        "invalid_request_error" | "context_length_exceeded" | "invalid_prompt" | "400" => {
            UpstreamErrorKind::BadRequest
        }
        "server_overloaded" | "server_is_overloaded" | "overloaded_error" | "slow_down" | "503" => {
            UpstreamErrorKind::Overloaded
        }
        "timeout" | "408" | "504" => UpstreamErrorKind::Timeout,
        "server_error" | "internal_error" | "500" => UpstreamErrorKind::Server,
        _ => return None,
    })
}

/// A client-safe "could not understand the upstream" error with log-only detail.
fn protocol_error(provider: &str, detail: String) -> UpstreamError {
    let kind = UpstreamErrorKind::Protocol;
    UpstreamError::new(provider, kind, http::generic_message(provider, kind, 0)).with_detail(detail)
}

/// The wait named in a rate-limit message when no header carries one: Azure's "Please retry
/// after 6 seconds", OpenAI's "Please try again in 3.728s" / "in 120ms".
pub(crate) fn retry_hint(message: &str) -> Option<Duration> {
    let lower = message.to_ascii_lowercase();
    let start = ["retry after ", "try again in "]
        .iter()
        .find_map(|marker| lower.find(marker).map(|at| at + marker.len()))?;
    let rest = lower.get(start..)?;
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let value: f64 = rest.get(..end)?.parse().ok()?;
    let unit = rest.get(end..).unwrap_or_default().trim_start();
    let seconds = if unit.starts_with("ms") {
        value / 1000.0
    } else {
        value
    };
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}
