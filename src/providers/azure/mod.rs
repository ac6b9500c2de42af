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

use reqwest::header::HeaderMap;

pub use response::parse_response;
pub use stream::AzureStream;
pub use translate::build_request;
pub use transport::AzureClient;

use self::wire::ErrorDetail;
use super::upstream_error;
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
    let kind = match upstream_error::classify_status(status) {
        UpstreamErrorKind::RateLimited if is("insufficient_quota") => {
            UpstreamErrorKind::QuotaExceeded
        }
        UpstreamErrorKind::BadRequest if is("content_filter") => UpstreamErrorKind::ContentFilter,
        kind => upstream_error::refine_bad_request(
            kind,
            detail.code.as_deref(),
            detail.message.as_deref().unwrap_or_default(),
        ),
    };
    let retry_after = upstream_error::retry_after(headers).or_else(|| {
        (kind == UpstreamErrorKind::RateLimited)
            .then(|| {
                detail
                    .message
                    .as_deref()
                    .and_then(upstream_error::retry_hint)
            })
            .flatten()
    });
    let request_id = ["x-request-id", "apim-request-id"]
        .iter()
        .find_map(|name| headers.get(*name).and_then(|v| v.to_str().ok()))
        .unwrap_or("");
    let mut err = UpstreamError::new(
        provider,
        kind,
        upstream_error::client_message(provider, kind, status, detail.message.as_deref()),
    )
    .with_retry_after(retry_after)
    .with_detail(format!(
        "status {status}, request-id {request_id}: {}",
        upstream_error::excerpt(body)
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

/// Maps an in-band error (a `data: {"error": …}` frame, or an error inside a 200 body).
fn in_band_error(provider: &str, detail: &ErrorDetail) -> UpstreamError {
    let kind = [detail.code.as_deref(), detail.kind.as_deref()]
        .into_iter()
        .flatten()
        .find_map(kind_of_code)
        .unwrap_or(UpstreamErrorKind::Server);
    let kind = upstream_error::refine_bad_request(
        kind,
        detail.code.as_deref(),
        detail.message.as_deref().unwrap_or_default(),
    );
    let mut err = UpstreamError::new(
        provider,
        kind,
        upstream_error::client_message(provider, kind, 0, detail.message.as_deref()),
    )
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
