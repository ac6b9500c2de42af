//! The mock upstream (`bench-mock`): OpenAI Responses, Chat Completions, Azure OpenAI, Anthropic
//! and Gemini, JSON and SSE, with a configurable latency, number of chunks and interval. Bodies
//! are rendered once at startup; a stream formats only its stamped deltas and its tail.

mod anthropic;
mod chat;
mod gemini;
mod responses;
mod tools;

use std::{convert::Infallible, net::SocketAddr, sync::Arc, time::Duration};

use actix_web::{App, HttpResponse, HttpServer, http::KeepAlive, web};
use bytes::Bytes;
use futures::Stream;

use crate::marker;

/// Longer than the gateway's pool idle timeout (90 s), so pooled upstream connections never
/// race a server-side close.
const KEEP_ALIVE: Duration = Duration::from_secs(120);
/// Listen backlog: the 10k-stream scenario opens connections in bursts.
const BACKLOG: u32 = 4096;

/// One provider wire format: its JSON body and its stream frames.
pub trait WireFormat: Send + Sync {
    /// The complete non-streaming response body.
    fn json(&self) -> String;
    /// Stream frames sent before the first text delta.
    fn head(&self) -> String;
    /// The frame carrying text delta `k` (`text` is plain ASCII, safe inside a JSON string).
    fn delta(&self, k: usize, text: &str) -> String;
    /// Frames after the last delta (`full_text` is every delta concatenated).
    fn tail(&self, chunks: usize, full_text: &str) -> String;
}

/// One SSE frame: optional `event:` line, one `data:` line, blank line.
pub fn sse_frame(event: Option<&str>, data: &str) -> String {
    match event {
        Some(event) => format!("event: {event}\ndata: {data}\n\n"),
        None => format!("data: {data}\n\n"),
    }
}

/// How every answer is timed.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Delay before a JSON answer, or before the first stream chunk.
    pub latency: Duration,
    /// Text deltas per stream (at least 1).
    pub chunks: usize,
    /// Pause between two deltas.
    pub interval: Duration,
}

/// A wire format with its precomputed parts.
struct Format {
    wire: Box<dyn WireFormat>,
    json: Bytes,
    head: String,
}

impl Format {
    fn new(wire: Box<dyn WireFormat>) -> Self {
        Self {
            json: Bytes::from(wire.json()),
            head: wire.head(),
            wire,
        }
    }
}

/// Shared state of all workers.
struct Mock {
    timing: Timing,
    responses: Format,
    chat: Format,
    azure: Format,
    anthropic: Format,
    gemini: Format,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Responses,
    Chat,
    Azure,
    Anthropic,
    Gemini,
}

impl Mock {
    fn format(&self, kind: Kind) -> &Format {
        match kind {
            Kind::Responses => &self.responses,
            Kind::Chat => &self.chat,
            Kind::Azure => &self.azure,
            Kind::Anthropic => &self.anthropic,
            Kind::Gemini => &self.gemini,
        }
    }
}

/// Whether a JSON request body sets `"stream": true` (a byte scan: cheaper than parsing, and
/// a quoted `"stream"` can only be a key or a whole string value in valid JSON).
fn wants_stream(body: &[u8]) -> bool {
    const KEY: &[u8] = b"\"stream\"";
    let skip_ws = |s: &[u8]| -> usize { s.iter().take_while(|b| b.is_ascii_whitespace()).count() };
    let mut rest = body;
    while let Some(pos) = rest.windows(KEY.len()).position(|w| w == KEY) {
        rest = &rest[pos + KEY.len()..];
        let after = &rest[skip_ws(rest)..];
        if let Some(value) = after.strip_prefix(b":") {
            return value[skip_ws(value)..].starts_with(b"true");
        }
    }
    false
}

fn sse(mock: Arc<Mock>, kind: Kind) -> impl Stream<Item = Result<Bytes, Infallible>> {
    let state = (mock, 0usize, String::new());
    futures::stream::unfold(state, move |(mock, k, mut full)| async move {
        let timing = mock.timing;
        if k >= timing.chunks {
            return None;
        }
        let pause = if k == 0 {
            timing.latency
        } else {
            timing.interval
        };
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
        let format = mock.format(kind);
        let text = marker::stamp(k);
        let mut out = String::new();
        if k == 0 {
            out.push_str(&format.head);
        }
        out.push_str(&format.wire.delta(k, &text));
        full.push_str(&text);
        if k + 1 == timing.chunks {
            out.push_str(&format.wire.tail(timing.chunks, &full));
        }
        Some((Ok(Bytes::from(out)), (mock, k + 1, full)))
    })
}

async fn answer(mock: web::Data<Mock>, kind: Kind, body: &[u8], stream: bool) -> HttpResponse {
    if stream {
        return HttpResponse::Ok()
            .content_type("text/event-stream")
            .insert_header(("cache-control", "no-cache"))
            .streaming(sse(mock.into_inner(), kind));
    }
    if !mock.timing.latency.is_zero() {
        tokio::time::sleep(mock.timing.latency).await;
    }
    let json = &mock.format(kind).json;
    let answer = tools::offered(kind, body)
        .and_then(|name| tools::call(kind, json, &name))
        .unwrap_or_else(|| json.clone());
    HttpResponse::Ok()
        .content_type("application/json")
        .body(answer)
}

async fn responses(mock: web::Data<Mock>, body: web::Bytes) -> HttpResponse {
    answer(mock, Kind::Responses, &body, wants_stream(&body)).await
}

async fn chat(mock: web::Data<Mock>, body: web::Bytes) -> HttpResponse {
    answer(mock, Kind::Chat, &body, wants_stream(&body)).await
}

async fn azure(mock: web::Data<Mock>, body: web::Bytes) -> HttpResponse {
    answer(mock, Kind::Azure, &body, wants_stream(&body)).await
}

async fn messages(mock: web::Data<Mock>, body: web::Bytes) -> HttpResponse {
    answer(mock, Kind::Anthropic, &body, wants_stream(&body)).await
}

/// `{model}:generateContent` (JSON) or `{model}:streamGenerateContent` (SSE with `alt=sse`).
async fn gemini(mock: web::Data<Mock>, path: web::Path<String>, body: web::Bytes) -> HttpResponse {
    let target = path.into_inner();
    if target.ends_with(":streamGenerateContent") {
        answer(mock, Kind::Gemini, &body, true).await
    } else if target.ends_with(":generateContent") {
        answer(mock, Kind::Gemini, &body, false).await
    } else {
        not_found().await
    }
}

async fn health() -> HttpResponse {
    HttpResponse::Ok().body("ok")
}

async fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("application/json")
        .body(r#"{"error":{"type":"not_found_error","message":"bench-mock: no such route"}}"#)
}

/// Serves until the process is stopped. `workers = 0` means one per core.
pub fn run(listen: SocketAddr, workers: usize, timing: Timing) -> std::io::Result<()> {
    let mock = web::Data::new(Mock {
        timing: Timing {
            chunks: timing.chunks.max(1),
            ..timing
        },
        responses: Format::new(Box::new(responses::Responses)),
        chat: Format::new(Box::new(chat::Chat { azure: false })),
        azure: Format::new(Box::new(chat::Chat { azure: true })),
        anthropic: Format::new(Box::new(anthropic::Messages)),
        gemini: Format::new(Box::new(gemini::Gemini)),
    });
    actix_web::rt::System::new().block_on(async move {
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(mock.clone())
                .route("/v1/responses", web::post().to(responses))
                .route("/v1/chat/completions", web::post().to(chat))
                .route(
                    "/openai/deployments/{deployment}/chat/completions",
                    web::post().to(azure),
                )
                .route("/v1/messages", web::post().to(messages))
                .route("/v1beta/models/{target}", web::post().to(gemini))
                .route("/healthz", web::get().to(health))
                .default_service(web::to(not_found))
        })
        .keep_alive(KeepAlive::Timeout(KEEP_ALIVE))
        // actix keeps the OS default (Nagle on): a stream's second small write would wait for
        // the peer's delayed ACK (~40 ms). Real upstreams and nginx send each chunk at once.
        .tcp_nodelay(true)
        .backlog(BACKLOG)
        .shutdown_timeout(1);
        if workers > 0 {
            server = server.workers(workers);
        }
        server.bind(listen)?.run().await
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_flag_is_detected() {
        assert!(wants_stream(br#"{"model":"m","stream":true}"#));
        assert!(wants_stream(b"{\"stream\" :\n true}"));
        assert!(!wants_stream(br#"{"model":"m","stream":false}"#));
        assert!(!wants_stream(
            br#"{"input":"stream","x":"\"stream\": true"}"#
        ));
        assert!(!wants_stream(br#"{"model":"m"}"#));
    }

    #[test]
    fn every_format_renders_valid_json_and_marked_deltas() {
        let formats: [Box<dyn WireFormat>; 5] = [
            Box::new(responses::Responses),
            Box::new(chat::Chat { azure: false }),
            Box::new(chat::Chat { azure: true }),
            Box::new(anthropic::Messages),
            Box::new(gemini::Gemini),
        ];
        for wire in formats {
            serde_json::from_str::<serde_json::Value>(&wire.json()).unwrap();
            let text = marker::stamp(0);
            let stream = wire.head() + &wire.delta(0, &text) + &wire.tail(1, &text);
            for line in stream.lines().filter_map(|l| l.strip_prefix("data: ")) {
                let line = line.trim_end();
                if line != "[DONE]" {
                    serde_json::from_str::<serde_json::Value>(line).unwrap();
                }
            }
            assert_eq!(marker::Scanner::new(1).feed(stream.as_bytes()).len(), 1);
        }
    }
}
