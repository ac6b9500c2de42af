//! Gemini transport and error mapping: the endpoint URL, the `x-goog-api-key` header (never the
//! `?key=` query: URLs end up in logs), and `google.rpc.Status` bodies → `UpstreamError`.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::Value;

use super::{
    API_VERSION,
    translate::build_request,
    wire::{GeminiError, GeminiErrorBody},
};
use crate::{
    config::ProviderConfig,
    error::{GatewayError, UpstreamError, UpstreamErrorKind},
    providers::{Call, UpstreamReply, http, upstream_error},
};

/// `ErrorInfo.reason`s that mean the gateway's own key is bad (Gemini answers them with 400).
const KEY_REASONS: [&str; 3] = [
    "API_KEY_INVALID",
    "API_KEY_EXPIRED",
    "API_KEY_SERVICE_BLOCKED",
];

/// The Gemini upstream client.
#[derive(Debug, Clone)]
pub struct GeminiClient {
    http: http::HttpClient,
}

impl GeminiClient {
    /// A client sending through the shared `http` pool.
    pub fn new(_config: &ProviderConfig, http: impl Into<http::HttpClient>) -> Self {
        Self { http: http.into() }
    }

    /// One attempt: `generateContent`, or `streamGenerateContent?alt=sse` when `call.stream`.
    pub async fn send(
        &self,
        config: &ProviderConfig,
        call: Call<'_>,
    ) -> Result<UpstreamReply, GatewayError> {
        let body = serde_json::to_vec(&build_request(call, config)?)
            .map_err(|e| GatewayError::Internal(format!("cannot encode Gemini request: {e}")))?;
        let key = http::key_header(config, config.api_key.expose())?;
        let mut headers = HeaderMap::new();
        headers.insert("x-goog-api-key", key);
        let url = endpoint(&config.base_url, call.model, call.stream);
        http::post_json(
            &self.http,
            config,
            &url,
            headers,
            body,
            call.stream,
            parse_error,
        )
        .await
    }
}

/// The method URL. A base URL that already ends in an API version is used as is.
pub(super) fn endpoint(base_url: &str, model: &str, stream: bool) -> String {
    let base = base_url.trim_end_matches('/');
    let root = if base.ends_with("/v1beta") || base.ends_with("/v1") {
        base.to_owned()
    } else {
        format!("{base}/{API_VERSION}")
    };
    let model = model.strip_prefix("models/").unwrap_or(model);
    // The model comes from the caller: one path segment, never a path, query or fragment.
    let model = http::path_segment(model);
    if stream {
        format!("{root}/models/{model}:streamGenerateContent?alt=sse")
    } else {
        format!("{root}/models/{model}:generateContent")
    }
}

/// Maps a non-2xx Gemini answer. `retry-after` headers win over `RetryInfo.retryDelay`.
pub fn parse_error(provider: &str, status: u16, headers: &HeaderMap, body: &[u8]) -> UpstreamError {
    let error = error_body(body);
    let mut err = map_error(provider, status, error.as_ref());
    if let Some(wait) = upstream_error::retry_after(headers) {
        err.retry_after = Some(wait);
    }
    err.with_detail(format!(
        "status {status}: {}",
        upstream_error::excerpt(body)
    ))
}

/// The error inside `{"error": …}` or `[{"error": …}]`.
pub(super) fn error_body(body: &[u8]) -> Option<GeminiError> {
    // Match on the JSON shape first: serde would also read a struct from a one-element array.
    let value: Value = serde_json::from_slice(body).ok()?;
    let object = match value {
        Value::Array(items) => items.into_iter().next()?,
        other => other,
    };
    serde_json::from_value::<GeminiErrorBody>(object)
        .ok()
        .map(|b| b.error)
}

/// The HTTP status an error names (`code`, else its canonical `status`), for in-stream errors.
pub(super) fn status_of(error: &GeminiError) -> u16 {
    if let Some(code) = error
        .code
        .and_then(|c| u16::try_from(c).ok())
        .filter(|c| *c >= 400)
    {
        return code;
    }
    match error.status.as_str() {
        "INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE" => 400,
        "UNAUTHENTICATED" => 401,
        "PERMISSION_DENIED" => 403,
        "NOT_FOUND" => 404,
        "RESOURCE_EXHAUSTED" => 429,
        "UNAVAILABLE" => 503,
        "DEADLINE_EXCEEDED" => 504,
        _ => 500,
    }
}

/// Classifies a Gemini error; the message follows `upstream_error::client_message`.
pub(super) fn map_error(provider: &str, status: u16, error: Option<&GeminiError>) -> UpstreamError {
    let kind = classify(status, error);
    let kind =
        upstream_error::refine_bad_request(kind, None, error.map_or("", |e| e.message.as_str()));
    let upstream = error.map(|e| e.message.as_str());
    let message = upstream_error::client_message(provider, kind, status, upstream);
    let retry = match kind {
        UpstreamErrorKind::RateLimited | UpstreamErrorKind::Overloaded => {
            error.and_then(retry_delay)
        }
        _ => None,
    };
    let mut err = UpstreamError::new(provider, kind, message).with_retry_after(retry);
    if kind == UpstreamErrorKind::ContextLengthExceeded {
        err.param = Some("input".to_owned());
    }
    err
}

fn classify(status: u16, error: Option<&GeminiError>) -> UpstreamErrorKind {
    let Some(error) = error else {
        return if status == 402 {
            UpstreamErrorKind::QuotaExceeded
        } else {
            upstream_error::classify_status(status)
        };
    };
    let reason = |wanted: &[&str]| {
        error.details.iter().any(|d| {
            d.get("reason")
                .and_then(Value::as_str)
                .is_some_and(|r| wanted.contains(&r))
        })
    };
    if reason(&KEY_REASONS) {
        UpstreamErrorKind::Auth
    } else if status == 402 || (error.status == "RESOURCE_EXHAUSTED" && quota_is_zero(error)) {
        UpstreamErrorKind::QuotaExceeded
    } else if status == 429 || error.status == "RESOURCE_EXHAUSTED" {
        UpstreamErrorKind::RateLimited
    } else {
        upstream_error::classify_status(status)
    }
}

/// `limit: 0` means the project has no quota at all for this model: retrying cannot help.
fn quota_is_zero(error: &GeminiError) -> bool {
    let zero_value = error.details.iter().any(|d| {
        d.get("violations")
            .and_then(Value::as_array)
            .is_some_and(|vs| {
                vs.iter()
                    .any(|v| v.get("quotaValue").and_then(Value::as_str) == Some("0"))
            })
    });
    zero_value
        || error
            .message
            .match_indices("limit: 0")
            .any(|(at, m)| !error.message[at + m.len()..].starts_with(|c: char| c.is_ascii_digit()))
}

/// `RetryInfo.retryDelay` (`"24s"`), else "Please retry in 24.27s." from the message.
fn retry_delay(error: &GeminiError) -> Option<Duration> {
    let from_details = error.details.iter().find_map(|d| {
        let kind = d.get("@type").and_then(Value::as_str)?;
        if !kind.ends_with("RetryInfo") {
            return None;
        }
        parse_duration(d.get("retryDelay").and_then(Value::as_str)?)
    });
    from_details.or_else(|| {
        let (_, rest) = error.message.split_once("retry in ")?;
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
            .unwrap_or(rest.len());
        parse_duration(rest[..end].trim_end_matches('.'))
    })
}

/// `"24s"`, `"1.5s"`, `"643.2ms"` → duration.
fn parse_duration(text: &str) -> Option<Duration> {
    let (number, scale) = match text.strip_suffix("ms") {
        Some(ms) => (ms, 1000.0),
        None => (text.strip_suffix('s')?, 1.0),
    };
    let value = number.trim().parse::<f64>().ok()? / scale;
    (value.is_finite() && value >= 0.0).then(|| Duration::from_secs_f64(value))
}
