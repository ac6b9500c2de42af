//! Shared transport pieces: the upstream client (one per thread), POST with timeouts, the one
//! capped body reader, upstream SSE → `DataStream` with its idle timeout. Provider transports stay
//! a few lines each; how a failure reads is `upstream_error`'s.

use std::{cell::RefCell, time::Duration};

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use reqwest::header::{HeaderMap, HeaderValue};

use super::{
    DataStream, UpstreamReply,
    upstream_error::{generic_message, protocol, stream_cut, timeout},
};
use crate::{
    config::ProviderConfig,
    error::{GatewayError, UpstreamError, UpstreamErrorKind},
    stream::SseDecoder,
};

/// Largest upstream error body read (the rest is discarded).
const MAX_ERROR_BODY: usize = 64 * 1024;

/// An upstream HTTP client (connection pool, HTTP/2 where offered, no proxies) giving up on a
/// TCP/TLS connect after `connect_timeout`. Provider instances with the same timeout share one
/// [`HttpClient`] (a client per thread).
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

/// An upstream client handle. Built by the engine, it gives each thread its own client (and so its
/// own connection pool): hyper runs a pooled connection's task on the runtime that opened it, so
/// one client shared by every actix worker made most requests cross threads twice. From a plain
/// `reqwest::Client` (tests), that client is used everywhere.
#[derive(Debug, Clone)]
pub struct HttpClient {
    shared: reqwest::Client,
    /// Set: each thread uses its own `build_client(connect_timeout)`.
    per_thread: Option<Duration>,
}

thread_local! {
    /// This thread's upstream clients, one per connect timeout.
    static LOCAL_CLIENTS: RefCell<Vec<(Duration, reqwest::Client)>> = const { RefCell::new(Vec::new()) };
}

impl From<reqwest::Client> for HttpClient {
    fn from(shared: reqwest::Client) -> Self {
        Self {
            shared,
            per_thread: None,
        }
    }
}

impl HttpClient {
    /// One client per thread, each built with `connect_timeout` on its first use there; one
    /// more, built now, serves where a thread's own cannot be had.
    pub fn per_thread(connect_timeout: Duration) -> Result<Self, GatewayError> {
        Ok(Self {
            shared: build_client(connect_timeout)?,
            per_thread: Some(connect_timeout),
        })
    }

    /// The client for the calling thread.
    pub fn get(&self) -> reqwest::Client {
        let Some(connect_timeout) = self.per_thread else {
            return self.shared.clone();
        };
        thread_client(connect_timeout).unwrap_or_else(|| self.shared.clone())
    }
}

/// Builds this thread's client for `connect_timeout` ahead of its first request. Building one
/// loads the platform's root certificates (~16 ms on the benchmark machine), which would
/// otherwise land on the first request each worker thread serves; the HTTP server calls this
/// once per worker as it starts.
pub fn warm_thread(connect_timeout: Duration) {
    // Without a client here the request path builds one, or falls back to the shared one.
    let _ = thread_client(connect_timeout);
}

/// This thread's client for `connect_timeout`, built on first use; `None` if it cannot be built
/// (or the thread is exiting).
fn thread_client(connect_timeout: Duration) -> Option<reqwest::Client> {
    let local = LOCAL_CLIENTS.try_with(|clients| {
        let mut clients = clients.try_borrow_mut().ok()?;
        if let Some((_, client)) = clients.iter().find(|(t, _)| *t == connect_timeout) {
            return Some(client.clone());
        }
        let client = build_client(connect_timeout).ok()?;
        clients.push((connect_timeout, client.clone()));
        Some(client)
    });
    local.ok().flatten()
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
    http: &HttpClient,
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
        .get()
        .post(url)
        .headers(headers)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send();
    let response = match tokio::time::timeout(config.request_timeout, send).await {
        Err(_) => return Err(timeout(provider).into()),
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
        Err(_) => Err(timeout(provider).into()),
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
        GatewayError::from(protocol(
            provider,
            format!("the response body exceeds {limit} bytes"),
        ))
    };
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut body = BytesMut::new();
    match read_into(&mut response, &mut body, limit).await {
        Ok(true) => Ok(body.freeze()),
        Ok(false) => Err(too_large()),
        Err(err) => Err(transport_error(provider, &err)),
    }
}

/// Reads an error body: its first `cap` bytes, or what arrived before the connection failed.
async fn read_capped(mut response: reqwest::Response, cap: usize) -> Bytes {
    let mut body = BytesMut::new();
    // A truncated or broken error body is still worth its first bytes to `parse_error`.
    let _ = read_into(&mut response, &mut body, cap).await;
    body.freeze()
}

/// The one body reader: appends `response`'s chunks to `body` until the body ends (`Ok(true)`)
/// or would pass `limit` bytes (`Ok(false)`, `body` holding the first `limit`; the rest is left
/// unread).
async fn read_into(
    response: &mut reqwest::Response,
    body: &mut BytesMut,
    limit: usize,
) -> Result<bool, reqwest::Error> {
    while let Some(chunk) = response.chunk().await? {
        let room = limit.saturating_sub(body.len());
        if chunk.len() > room {
            body.extend_from_slice(chunk.get(..room).unwrap_or_default());
            return Ok(false);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(true)
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
                            return Some((Err(protocol(&provider, e.to_string()).into()), st));
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
}
