//! Owns how the mock writes answers: plain bodies, `.http` fixtures, and chunked streams (one chunk per SSE frame,
//! optional delays, deliberate aborts, and the drop guard behind `MockUpstream::cancelled_streams`).

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::Bytes;

use super::fixtures::http_fixture;

pub const JSON: &str = "application/json";
pub const SSE: &str = "text/event-stream";

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// A complete body with the given status and content type, plus extra headers.
pub fn body(
    code: u16,
    content_type: &str,
    body: impl Into<String>,
    headers: &[(String, String)],
) -> HttpResponse {
    let mut builder = HttpResponse::build(status(code));
    let mut has_content_type = false;
    for (name, value) in headers {
        has_content_type |= name.eq_ignore_ascii_case("content-type");
        builder.insert_header((name.as_str(), value.as_str()));
    }
    if !has_content_type {
        builder.insert_header(("content-type", content_type));
    }
    builder.body(body.into())
}

pub fn json(code: u16, value: &serde_json::Value) -> HttpResponse {
    body(code, JSON, value.to_string(), &[])
}

/// Serves a fixture body verbatim as JSON.
pub fn json_text(code: u16, text: &str) -> HttpResponse {
    body(code, JSON, text.to_owned(), &[])
}

/// Serves a `.http` fixture: its status, its headers (incl. `retry-after`, rate-limit headers) and its body.
pub fn http(name: &str) -> HttpResponse {
    let fx = http_fixture(name);
    body(fx.status, JSON, fx.body, &fx.headers)
}

/// How a streamed body ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// All chunks sent, body terminated normally.
    Clean,
    /// After the chunks, the body fails: the connection is dropped without the terminating chunk.
    Abort,
}

/// Where cancelled streams are counted, and who is told.
#[derive(Clone)]
pub struct CancelCounter {
    pub count: Arc<AtomicUsize>,
    pub changes: Arc<tokio::sync::watch::Sender<u64>>,
}

/// Counts the stream as cancelled if it is dropped before it finished (the client went away).
struct Guard {
    finished: bool,
    cancelled: CancelCounter,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if !self.finished {
            self.cancelled.count.fetch_add(1, Ordering::SeqCst);
            self.cancelled.changes.send_modify(|n| *n += 1);
        }
    }
}

struct State {
    chunks: VecDeque<Bytes>,
    first: bool,
    end: End,
    delay: Duration,
    guard: Guard,
}

/// Streams `chunks` one by one (each its own write), sleeping `delay` between chunks.
pub fn stream(
    code: u16,
    content_type: &str,
    chunks: Vec<String>,
    end: End,
    delay: Duration,
    cancelled: CancelCounter,
) -> HttpResponse {
    let state = State {
        chunks: chunks.into_iter().map(Bytes::from).collect(),
        first: true,
        end,
        delay,
        guard: Guard {
            finished: false,
            cancelled,
        },
    };
    let body = futures::stream::unfold(state, |mut st| async move {
        match st.chunks.pop_front() {
            Some(chunk) => {
                if !st.first && !st.delay.is_zero() {
                    tokio::time::sleep(st.delay).await;
                }
                st.first = false;
                Some((Ok::<Bytes, std::io::Error>(chunk), st))
            }
            None => {
                st.guard.finished = true;
                match st.end {
                    End::Clean => None,
                    End::Abort => {
                        // Yield once (Pending) so actix flushes what was written, then fail: actix drops the
                        // connection without the terminating chunk. The next poll would end the stream.
                        tokio::task::yield_now().await;
                        st.end = End::Clean;
                        Some((
                            Err(std::io::Error::other("mock upstream: cut-stream abort")),
                            st,
                        ))
                    }
                }
            }
        }
    });
    HttpResponse::build(status(code))
        .insert_header(("content-type", content_type))
        .insert_header(("cache-control", "no-cache"))
        .streaming(body)
}
