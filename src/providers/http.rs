//! Shared transport pieces: one reqwest client, POST with timeouts, upstream SSE → `DataStream`,
//! status classification and retry hints. Provider transports stay a few lines each.

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use reqwest::header::{HeaderMap, HeaderValue};

use super::{DataStream, UpstreamReply};
use crate::{
    config::ProviderConfig,
    error::{GatewayError, UpstreamError, UpstreamErrorKind},
    stream::SseDecoder,
};

/// Largest upstream error body read (the rest is discarded).
const MAX_ERROR_BODY: usize = 64 * 1024;

/// An upstream HTTP client (connection pool, HTTP/2 where offered, no proxies) giving up on a
/// TCP/TLS connect after `connect_timeout`. Provider instances with the same timeout share one.
pub fn build_client(connect_timeout: Duration) -> Result<reqwest::Client, GatewayError> {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(256)
        .tcp_nodelay(true)
        .tcp_keepalive(Duration::from_secs(30))
        .build()
        .map_err(|e| GatewayError::Internal(format!("cannot build HTTP client: {e}")))
}

/// Bytes a URL path segment may carry as they are: RFC 3986 unreserved characters. Everything
/// else (`/`, `?`, `#`, `%`, `:`, spaces, controls, non-ASCII) is percent-encoded, so a value
/// placed in a path can never add segments, a query or a fragment.
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `value` encoded as one URL path segment. `.` and `..` (which a URL parser would resolve)
/// are encoded too.
pub fn path_segment(value: &str) -> String {
    match value {
        "." => "%2E".to_owned(),
        ".." => "%2E%2E".to_owned(),
        _ => percent_encoding::utf8_percent_encode(value, PATH_SEGMENT).to_string(),
    }
}

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

/// Maps a reqwest failure (connect, timeout, body) to an upstream error.
pub fn transport_error(provider: &str, err: &reqwest::Error) -> GatewayError {
    if err.is_body() || err.is_decode() {
        return stream_cut(provider, err.to_string());
    }
    let kind = if err.is_timeout() {
        UpstreamErrorKind::Timeout
    } else if err.is_connect() {
        UpstreamErrorKind::Connect
    } else {
        UpstreamErrorKind::Server
    };
    UpstreamError::new(provider, kind, generic_message(provider, kind, 0))
        .with_detail(err.to_string())
        .into()
}

/// A header carrying the provider's key (`value` is the whole header value, e.g. `Bearer …`),
/// marked sensitive. A key that cannot be a header value is the gateway's own configuration
/// problem: an upstream auth error with a generic message (the key itself is never shown).
pub fn key_header(config: &ProviderConfig, value: &str) -> Result<HeaderValue, GatewayError> {
    let mut header = HeaderValue::from_str(value).map_err(|_| {
        let kind = UpstreamErrorKind::Auth;
        UpstreamError::new(&config.name, kind, generic_message(&config.name, kind, 0))
            .with_detail("the configured API key is not a valid header value")
    })?;
    header.set_sensitive(true);
    Ok(header)
}

/// POSTs `body` as JSON and returns the reply; a non-2xx status is parsed by `parse_error`.
pub async fn post_json(
    http: &reqwest::Client,
    config: &ProviderConfig,
    url: &str,
    mut headers: HeaderMap,
    body: Vec<u8>,
    stream: bool,
    parse_error: fn(&str, u16, &HeaderMap, &[u8]) -> UpstreamError,
) -> Result<UpstreamReply, GatewayError> {
    let provider = config.name.as_str();
    crate::telemetry::propagation::inject(&mut headers);
    let send = http
        .post(url)
        .headers(headers)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send();
    let response = match tokio::time::timeout(config.request_timeout, send).await {
        Err(_) => {
            let kind = UpstreamErrorKind::Timeout;
            return Err(
                UpstreamError::new(provider, kind, generic_message(provider, kind, 0)).into(),
            );
        }
        Ok(Err(err)) => return Err(transport_error(provider, &err)),
        Ok(Ok(response)) => response,
    };
    let status = response.status().as_u16();
    crate::telemetry::propagation::record_upstream_status(status);
    if !response.status().is_success() {
        let headers = response.headers().clone();
        let body = read_capped(response, MAX_ERROR_BODY).await;
        return Err(parse_error(provider, status, &headers, &body).into());
    }
    if stream {
        return Ok(UpstreamReply::Stream(sse_data_stream(
            response,
            provider.to_owned(),
            config.stream_idle_timeout,
            config.max_response_bytes,
        )));
    }
    let read = read_bounded(response, provider, config.max_response_bytes);
    match tokio::time::timeout(config.request_timeout, read).await {
        Ok(result) => result.map(UpstreamReply::Json),
        Err(_) => {
            let kind = UpstreamErrorKind::Timeout;
            Err(UpstreamError::new(provider, kind, generic_message(provider, kind, 0)).into())
        }
    }
}

/// Reads a whole (non-streamed) upstream body of at most `limit` bytes; a larger one is a
/// protocol error (no real answer is that large), read no further.
async fn read_bounded(
    mut response: reqwest::Response,
    provider: &str,
    limit: usize,
) -> Result<Bytes, GatewayError> {
    let too_large = || {
        let kind = UpstreamErrorKind::Protocol;
        GatewayError::from(
            UpstreamError::new(provider, kind, generic_message(provider, kind, 0))
                .with_detail(format!("the response body exceeds {limit} bytes")),
        )
    };
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut body = bytes::BytesMut::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body.freeze()),
            Err(err) => return Err(transport_error(provider, &err)),
        }
    }
}

async fn read_capped(mut response: reqwest::Response, cap: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = cap.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= cap {
            break;
        }
    }
    body
}

/// Decodes an upstream SSE body into its `data:` payloads, enforcing an idle timeout once the
/// first payload has arrived (until then the caller's time-to-first-byte limit,
/// `request_timeout`, governs: a reasoning model may think for minutes before its first event).
/// `[DONE]` markers are dropped. Dropping the stream drops the response (cancelling upstream).
pub fn sse_data_stream(
    response: reqwest::Response,
    provider: String,
    idle: Duration,
    max_event_bytes: usize,
) -> DataStream {
    struct State<S> {
        bytes: S,
        decoder: SseDecoder,
        pending: std::collections::VecDeque<String>,
        ended: bool,
        /// Whether a payload was handed out (the idle timeout applies from then on).
        started: bool,
    }
    let state = State {
        bytes: response.bytes_stream(),
        decoder: SseDecoder::with_limit(max_event_bytes),
        pending: std::collections::VecDeque::new(),
        ended: false,
        started: false,
    };
    // Shared, not copied: the closure below hands it to every poll.
    let provider: std::sync::Arc<str> = provider.into();
    Box::pin(futures::stream::unfold(state, move |mut st| {
        let provider = provider.clone();
        async move {
            loop {
                if let Some(data) = st.pending.pop_front() {
                    st.started = true;
                    return Some((Ok(data), st));
                }
                if st.ended {
                    return None;
                }
                let next: Option<Result<Bytes, reqwest::Error>> = if st.started {
                    match tokio::time::timeout(idle, st.bytes.next()).await {
                        Ok(next) => next,
                        Err(_) => {
                            let kind = UpstreamErrorKind::Timeout;
                            let err =
                                UpstreamError::new(&provider, kind, "The upstream stream stalled.");
                            st.ended = true;
                            return Some((Err(err.into()), st));
                        }
                    }
                } else {
                    st.bytes.next().await
                };
                match next {
                    Some(Ok(chunk)) => match st.decoder.feed(&chunk) {
                        Ok(events) => st.pending.extend(
                            events
                                .into_iter()
                                .map(|e| e.data)
                                .filter(|d| d.trim() != "[DONE]"),
                        ),
                        Err(e) => {
                            st.ended = true;
                            let err = UpstreamError::new(
                                &provider,
                                UpstreamErrorKind::Protocol,
                                generic_message(&provider, UpstreamErrorKind::Protocol, 0),
                            )
                            .with_detail(e.to_string());
                            return Some((Err(err.into()), st));
                        }
                    },
                    Some(Err(e)) => {
                        st.ended = true;
                        return Some((Err(transport_error(&provider, &e)), st));
                    }
                    None => {
                        st.ended = true;
                        let tail = st.decoder.finish().map(|e| e.data);
                        st.pending.extend(tail.filter(|d| d.trim() != "[DONE]"));
                    }
                }
            }
        }
    }))
}

/// Extracts `error.message` (or `message`) from a JSON error body, if any.
pub fn json_error_message(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let error = value.get("error").unwrap_or(&value);
    let error = match error {
        serde_json::Value::Array(items) => items.first()?.get("error").unwrap_or(error),
        _ => error,
    };
    error
        .get("message")
        .and_then(|m| m.as_str())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_cannot_escape_their_segment() {
        assert_eq!(path_segment("gemini-2.5-flash"), "gemini-2.5-flash");
        assert_eq!(path_segment(".."), "%2E%2E");
        assert_eq!(path_segment("."), "%2E");
        assert_eq!(
            path_segment("x/../y?key=evil#f"),
            "x%2F..%2Fy%3Fkey%3Devil%23f"
        );
        assert_eq!(path_segment("a:b%2F c"), "a%3Ab%252F%20c");
    }

    #[test]
    fn a_key_that_cannot_be_a_header_is_an_upstream_auth_error_that_never_shows_it() {
        let yaml = "providers:\n  anthropic:\n    api_key: sk-ant-secret\n";
        let config = crate::config::Config::from_yaml(yaml, &|_| None).unwrap();
        let config = config.provider("anthropic").unwrap();
        let header = key_header(config, "Bearer sk-ant-secret").unwrap();
        assert!(header.is_sensitive());
        let err = key_header(config, "sk-ant-secret\nX-Injected: 1").unwrap_err();
        let GatewayError::Upstream(upstream) = &err else {
            panic!("{err:?}");
        };
        assert_eq!(upstream.kind, UpstreamErrorKind::Auth);
        let shown = serde_json::to_string(&err.to_object()).unwrap();
        assert!(!shown.contains("sk-ant-secret"), "{shown}");
    }

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
    fn error_messages_are_found_in_common_shapes() {
        assert_eq!(
            json_error_message(br#"{"error":{"message":"m"}}"#).as_deref(),
            Some("m")
        );
        assert_eq!(
            json_error_message(br#"[{"error":{"message":"g"}}]"#).as_deref(),
            Some("g")
        );
        assert_eq!(json_error_message(b"not json"), None);
    }
}
