//! Upstream failures, written once for every provider: status classification, the client-safe
//! messages (and the rule that only a rejected request's own words reach the caller), retry
//! hints, protocol and cut-stream errors, and the bounded body excerpt kept as log-only detail.

use std::time::Duration;

use reqwest::header::HeaderMap;

use crate::error::{GatewayError, UpstreamError, UpstreamErrorKind};

/// Largest slice of an upstream body kept in an error's log-only detail. Every recorded error
/// body in `tests/fixtures` fits (the largest is ~1.4 KiB with its headers); an HTML page from
/// a proxy in front of the provider does not flood the debug log.
pub const MAX_DETAIL_BYTES: usize = 2048;

/// What providers say when the input does not fit the context window, lowercased: OpenAI
/// ("maximum context length is …", "exceeds the context window"), Anthropic ("prompt is too
/// long: … > … maximum", "input length and `max_tokens` exceed context limit") and Gemini
/// ("The input token count (…) exceeds the maximum number of tokens allowed (…)").
const CONTEXT_OVERFLOW: [&str; 5] = [
    "maximum context length",
    "context window",
    "prompt is too long",
    "exceed context limit",
    "exceeds the maximum number of tokens allowed",
];

/// `BadRequest` refined to `ContextLengthExceeded` when the upstream's code or message says the
/// input does not fit, so agents can compact their history and retry.
pub fn refine_bad_request(
    kind: UpstreamErrorKind,
    code: Option<&str>,
    message: &str,
) -> UpstreamErrorKind {
    let lower = message.to_ascii_lowercase();
    let overflow = code == Some("context_length_exceeded")
        || CONTEXT_OVERFLOW.iter().any(|phrase| lower.contains(phrase));
    if kind == UpstreamErrorKind::BadRequest && overflow {
        UpstreamErrorKind::ContextLengthExceeded
    } else {
        kind
    }
}

/// Classifies a non-2xx status into an upstream error kind.
pub fn classify_status(status: u16) -> UpstreamErrorKind {
    match status {
        400 | 413 | 415 | 422 => UpstreamErrorKind::BadRequest,
        401 | 403 => UpstreamErrorKind::Auth,
        404 => UpstreamErrorKind::NotFound,
        408 | 504 => UpstreamErrorKind::Timeout,
        429 => UpstreamErrorKind::RateLimited,
        503 | 529 => UpstreamErrorKind::Overloaded,
        _ => UpstreamErrorKind::Server,
    }
}

/// `retry-after-ms` or `retry-after` (seconds) from upstream headers.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(ms) = get("retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok()) {
        return Some(Duration::from_secs_f64(ms.max(0.0) / 1000.0));
    }
    get("retry-after")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|s| Duration::from_secs_f64(s.max(0.0)))
}

/// The wait named in a rate-limit message when no header carries one: Azure's "Please retry
/// after 6 seconds", OpenAI's "Please try again in 3.728s" / "in 120ms".
pub fn retry_hint(message: &str) -> Option<Duration> {
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

/// The message the caller sees. Only a rejected request (`BadRequest`, `ContentFilter`,
/// `ContextLengthExceeded`) shows the upstream's own non-empty words: they name the field, the
/// filter or the sizes that did not fit. Every other kind gets [`generic_message`]; the
/// upstream body stays in the log-only detail.
pub fn client_message(
    provider: &str,
    kind: UpstreamErrorKind,
    status: u16,
    upstream: Option<&str>,
) -> String {
    let passes = matches!(
        kind,
        UpstreamErrorKind::BadRequest
            | UpstreamErrorKind::ContentFilter
            | UpstreamErrorKind::ContextLengthExceeded
    );
    match upstream.filter(|m| passes && !m.is_empty()) {
        Some(message) => message.to_owned(),
        None => generic_message(provider, kind, status),
    }
}

/// The client-safe message for an upstream failure whose body we do not pass through.
pub fn generic_message(provider: &str, kind: UpstreamErrorKind, status: u16) -> String {
    match kind {
        UpstreamErrorKind::Auth => format!(
            "The gateway's credentials for provider `{provider}` were rejected (upstream status {status}); check the configured API key."
        ),
        UpstreamErrorKind::RateLimited => {
            format!("Provider `{provider}` is rate limiting requests.")
        }
        UpstreamErrorKind::Overloaded => {
            format!("Provider `{provider}` is overloaded; retry later.")
        }
        UpstreamErrorKind::Timeout => format!("Provider `{provider}` did not answer in time."),
        UpstreamErrorKind::NotFound => {
            format!("Provider `{provider}` does not know the requested model or deployment.")
        }
        UpstreamErrorKind::QuotaExceeded => {
            format!("The gateway's quota at provider `{provider}` is exhausted.")
        }
        UpstreamErrorKind::Connect => format!("Provider `{provider}` could not be reached."),
        UpstreamErrorKind::Protocol => {
            format!("Provider `{provider}` sent a response the gateway could not understand.")
        }
        UpstreamErrorKind::BadRequest | UpstreamErrorKind::ContentFilter => {
            format!("Provider `{provider}` rejected the request.")
        }
        UpstreamErrorKind::ContextLengthExceeded => format!(
            "The input exceeds the context window of the model at provider `{provider}`; \
             shorten or compact the input."
        ),
        UpstreamErrorKind::Server if status == 0 => format!("Provider `{provider}` failed."),
        UpstreamErrorKind::Server => {
            format!("Provider `{provider}` failed (upstream status {status}).")
        }
    }
}

/// An upstream answer the gateway could not read (malformed JSON, a body of the wrong shape,
/// an oversized body or event): a generic client message, `detail` for the log.
pub fn protocol(provider: &str, detail: impl Into<String>) -> UpstreamError {
    let kind = UpstreamErrorKind::Protocol;
    UpstreamError::new(provider, kind, generic_message(provider, kind, 0)).with_detail(detail)
}

/// A body or event that did not parse as the provider's format: `err`, then the start of
/// what was read, for the log.
pub fn unreadable(provider: &str, err: &dyn std::fmt::Display, body: &[u8]) -> UpstreamError {
    protocol(provider, format!("{err}; body: {}", excerpt(body)))
}

/// No answer within the configured time.
pub fn timeout(provider: &str) -> UpstreamError {
    let kind = UpstreamErrorKind::Timeout;
    UpstreamError::new(provider, kind, generic_message(provider, kind, 0))
}

/// A stream (or body) that ended before its terminal event: the provider or the network cut it.
/// Retryable before the first byte, like any server failure; after it, the stream fails.
pub fn stream_cut(provider: &str, detail: impl Into<String>) -> GatewayError {
    UpstreamError::new(
        provider,
        UpstreamErrorKind::Server,
        format!("`{provider}` closed the stream before it finished."),
    )
    .with_detail(detail)
    .into()
}

/// At most [`MAX_DETAIL_BYTES`] of an upstream body, as text, cut at a character boundary.
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut end = text.len().min(MAX_DETAIL_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn retry_after_prefers_milliseconds() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", "7".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert("retry-after-ms", "250".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(250)));
    }

    #[test]
    fn statuses_classify() {
        assert_eq!(classify_status(529), UpstreamErrorKind::Overloaded);
        assert_eq!(classify_status(401), UpstreamErrorKind::Auth);
        assert_eq!(classify_status(500), UpstreamErrorKind::Server);
        assert_eq!(
            classify_status(409),
            UpstreamErrorKind::Server,
            "a conflict is worth a retry"
        );
    }

    #[test]
    fn only_rejected_requests_show_the_upstream_words() {
        let shown = |kind| client_message("p", kind, 400, Some("field `x` is wrong"));
        assert_eq!(shown(UpstreamErrorKind::BadRequest), "field `x` is wrong");
        assert_eq!(
            shown(UpstreamErrorKind::ContentFilter),
            "field `x` is wrong"
        );
        assert_eq!(
            shown(UpstreamErrorKind::ContextLengthExceeded),
            "field `x` is wrong"
        );
        for kind in [
            UpstreamErrorKind::Auth,
            UpstreamErrorKind::RateLimited,
            UpstreamErrorKind::Server,
        ] {
            assert_eq!(shown(kind), generic_message("p", kind, 400));
        }
        assert_eq!(
            client_message("p", UpstreamErrorKind::BadRequest, 400, Some("")),
            generic_message("p", UpstreamErrorKind::BadRequest, 400),
            "an empty upstream message is no message"
        );
    }

    #[test]
    fn excerpts_are_capped_at_a_character_boundary() {
        let body = "é".repeat(MAX_DETAIL_BYTES);
        let cut = excerpt(body.as_bytes());
        assert!(cut.len() <= MAX_DETAIL_BYTES && cut.len() >= MAX_DETAIL_BYTES - 1);
        assert_eq!(excerpt(b"short"), "short");
    }
}
