//! Regressions for the holes found by attacking the gateway (hostile callers, broken upstreams,
//! careless operators): each test pins one fix.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{
    gateway::{
        TestGateway, post_responses, providers_yaml, start_gateway, start_gateway_with_server,
    },
    mock_upstream::MockUpstream,
    spec::assert_valid_error_body,
};
use serde_json::json;

/// A model name can never reshape the upstream URL: traversal, queries and fragments are refused
/// before any upstream is called.
#[actix_web::test]
async fn model_names_never_reach_an_upstream_url_unencoded() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["google", "azureopenai"], ""));
    for model in [
        "google/gemini-2.5-flash/../../../some/path?",
        "google/gemini-2.5-flash:generateContent?key=evil#",
        "azureopenai/x/../../../openai/deployments/other-dep/chat/completions?api-version=2024-10-21&",
        "google/gemini%2F..%2Fx",
        "google/gemini\u{7f}",
    ] {
        let reply = post_responses(&gw, &json!({"model": model, "input": "hi"})).await;
        assert_eq!(reply.status, 400, "{model}: {}", reply.text);
        assert_valid_error_body(&reply.json());
        assert_eq!(reply.json()["error"]["param"], "model", "{model}");
        assert_eq!(reply.json()["error"]["type"], "invalid_request_error");
    }
    assert!(mock.requests().is_empty(), "{:?}", mock.requests());
    // A pinned name with a character that is only odd (not structural) stays one path segment.
    post_responses(&gw, &json!({"model": "google/gemini 2.5:x", "input": "hi"})).await;
    let upstream = mock.last_request().unwrap();
    assert_eq!(
        upstream.path,
        "/v1beta/models/gemini%202.5%3Ax:generateContent"
    );
    assert!(upstream.query.is_empty(), "{}", upstream.query);
}

/// With no default deployment, the `deployments` map is an allow-list.
#[actix_web::test]
async fn azure_deployments_map_is_an_allow_list() {
    let mock = MockUpstream::start();
    let base = mock.base_url();
    let gw = start_gateway(&format!(
        "providers:\n  azureopenai:\n    api_key: k\n    endpoint: {base}\n    deployments: {{ gpt-4o: gpt-4o-dep }}\n"
    ));
    let reply = post_responses(
        &gw,
        &json!({"model": "azureopenai/other-dep", "input": "hi"}),
    )
    .await;
    assert_eq!(reply.status, 404, "{}", reply.text);
    assert_valid_error_body(&reply.json());
    assert_eq!(reply.json()["error"]["code"], "model_not_found");
    assert_eq!(reply.json()["error"]["param"], "model");
    assert!(mock.requests().is_empty());
    let listed = post_responses(&gw, &json!({"model": "gpt-4o", "input": "hi"})).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(
        mock.last_request().unwrap().path,
        "/openai/deployments/gpt-4o-dep/chat/completions"
    );
}

/// Sends `head` (request line + headers, without the blank line) and `body` on a fresh
/// connection, then reads until the server closes it; returns what came back.
async fn raw_exchange(gw: &TestGateway, head: &str, body: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = gw.url.trim_start_matches("http://");
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    socket
        .write_all(format!("{head}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    socket.write_all(body).await.unwrap();
    let mut reply = Vec::new();
    // The server must answer and close on its own: the test hangs (and nextest times it out)
    // if it does not.
    socket.read_to_end(&mut reply).await.unwrap();
    String::from_utf8_lossy(&reply).into_owned()
}

/// A body that stops arriving gets 408 after `server.body_timeout`, and the connection closes.
#[actix_web::test]
async fn a_stalled_request_body_times_out_with_408_and_closes_the_connection() {
    let mock = MockUpstream::start();
    let gw = start_gateway_with_server(
        &providers_yaml(&mock, &["openai"], ""),
        "  body_timeout: 300ms\n",
    );
    let started = std::time::Instant::now();
    let reply = raw_exchange(
        &gw,
        "POST /v1/responses HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100",
        b"{",
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(
        reply.to_lowercase().contains("connection: close"),
        "{reply}"
    );
    let body = &reply[reply.find("\r\n\r\n").unwrap() + 4..];
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_valid_error_body(&json);
    assert_eq!(json["error"]["code"], "request_timeout");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(mock.requests().is_empty());
}

/// Bodies still being read share one memory bound: past it, new body bytes get 503 at once.
#[actix_web::test]
async fn bodies_still_being_read_share_a_memory_bound() {
    use tokio::io::AsyncWriteExt;
    let mock = MockUpstream::start();
    let gw = start_gateway_with_server(
        &providers_yaml(&mock, &["openai"], ""),
        "  max_body_bytes: 4096\n  max_pending_body_bytes: 4096\n  body_timeout: 30s\n",
    );
    // One client sends 3 KiB of a 4 KiB body and stalls, holding 3 KiB of the bound.
    let addr = gw.url.trim_start_matches("http://").to_owned();
    let mut staller = tokio::net::TcpStream::connect(&addr).await.unwrap();
    staller
        .write_all(b"POST /v1/responses HTTP/1.1\r\nhost: x\r\ncontent-length: 4096\r\n\r\n")
        .await
        .unwrap();
    staller.write_all(&[b' '; 3072]).await.unwrap();
    // Another whole 2 KiB body no longer fits: 503.
    let client = reqwest::Client::new();
    let body = format!(
        "{{\"model\":\"gpt-4o\",\"input\":\"{}\"}}",
        "x".repeat(2000)
    );
    // Retried until the server has read the staller's bytes (it never sleeps).
    let post_until = |status: u16| {
        let (client, url, body) = (client.clone(), gw.url.clone(), body.clone());
        async move {
            for _ in 0..1000 {
                let reply = client
                    .post(format!("{url}/v1/responses"))
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                if reply.status() == status {
                    return reply;
                }
                tokio::task::yield_now().await;
            }
            panic!("never answered {status}");
        }
    };
    let reply = post_until(503).await;
    assert!(reply.headers().contains_key("retry-after"));
    let json: serde_json::Value = reply.json().await.unwrap();
    assert_valid_error_body(&json);
    assert_eq!(json["error"]["code"], "server_overloaded");
    // Once the staller leaves, its share is given back.
    drop(staller);
    post_until(200).await;
}

/// A connection stuck mid-body does not hold the exit past the drain's grace period.
#[actix_web::test]
async fn a_body_stuck_mid_read_ends_with_the_drain() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mock = MockUpstream::start();
    let yaml = format!(
        "server:\n  address: \"127.0.0.1:0\"\n  workers: 1\n  body_timeout: 10m\n{}",
        providers_yaml(&mock, &["openai"], "")
    );
    let config = llm_gateway::config::Config::from_yaml(&yaml, &|_| None).unwrap();
    let running = llm_gateway::app::start(config).unwrap();
    let (addr, handle, drain) = (running.addr, running.server.handle(), running.drain.clone());
    let server = actix_web::rt::spawn(running.server);
    let mut staller = tokio::net::TcpStream::connect(addr).await.unwrap();
    staller
        .write_all(b"POST /v1/responses HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{")
        .await
        .unwrap();
    // The drain begins once the server holds the request (its drain ticket), not before: a
    // drain that starts first just closes an idle connection, which this test is not about.
    let started = std::time::Instant::now();
    while drain.active() == 0 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the server never read the request head"
        );
        tokio::task::yield_now().await;
    }
    let started = std::time::Instant::now();
    drain
        .shutdown(
            handle,
            std::time::Duration::ZERO,
            std::time::Duration::from_millis(200),
        )
        .await;
    // The read is ended with a 503 (or, when the worker stops first, the connection is reset
    // under it); either way it no longer holds the exit.
    let mut reply = Vec::new();
    if staller.read_to_end(&mut reply).await.is_ok() {
        let reply = String::from_utf8_lossy(&reply);
        assert!(reply.starts_with("HTTP/1.1 503"), "{reply}");
        assert!(reply.contains("server_shutting_down"), "{reply}");
    }
    server.await.unwrap().unwrap();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

/// What a [`RawUpstream`] does after the response head.
#[derive(Clone, Copy)]
enum Then {
    /// Writes this chunk (chunked encoding) until the gateway hangs up.
    Endless(&'static [u8]),
    /// Writes this chunk once, then waits for the gateway to hang up.
    Hang(&'static [u8]),
}

/// An upstream on 127.0.0.1 speaking raw HTTP/1.1: every request gets `head` (empty: nothing
/// at all) and then `then`. It reports each accepted connection and each connection the
/// gateway closed.
struct RawUpstream {
    url: String,
    accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// Bytes of `Then::Endless` chunks written so far.
    written: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    closed: tokio::sync::mpsc::UnboundedReceiver<()>,
}

impl RawUpstream {
    fn start(head: &'static str, then: Then) -> Self {
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (closed_tx, closed) = tokio::sync::mpsc::unbounded_channel();
        let counter = accepted.clone();
        let written = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let written_by_all = written.clone();
        std::thread::spawn(move || {
            use std::io::{Read, Write};
            for socket in listener.incoming() {
                let Ok(mut socket) = socket else { return };
                counter.fetch_add(1, Ordering::SeqCst);
                let closed_tx = closed_tx.clone();
                let written = written_by_all.clone();
                std::thread::spawn(move || {
                    let mut seen = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf) {
                            Ok(0) | Err(_) => {
                                // Closed before its request was even sent: closed all the same.
                                let _ = closed_tx.send(());
                                return;
                            }
                            Ok(n) => seen.extend_from_slice(&buf[..n]),
                        }
                    }
                    let frame = |chunk: &[u8]| {
                        [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat()
                    };
                    if !head.is_empty() && socket.write_all(head.as_bytes()).is_err() {
                        return;
                    }
                    match then {
                        Then::Endless(chunk) => {
                            let frame = frame(chunk);
                            while socket.write_all(&frame).is_ok() {
                                written.fetch_add(frame.len(), Ordering::SeqCst);
                            }
                        }
                        Then::Hang(chunk) => {
                            if !chunk.is_empty() {
                                let _ = socket.write_all(&frame(chunk));
                            }
                            // Blocks until the gateway closes the connection (read → 0).
                            while matches!(socket.read(&mut buf), Ok(n) if n > 0) {}
                        }
                    }
                    let _ = closed_tx.send(());
                });
            }
        });
        Self {
            url,
            accepted,
            written,
            closed,
        }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::SeqCst)
    }
}

const JSON_HEAD: &str =
    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
const SSE_HEAD: &str =
    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";

/// An upstream body that never ends is cut at `max_response_bytes` (JSON and one SSE event):
/// 502 `upstream_protocol_error`, memory bounded.
#[actix_web::test]
async fn endless_upstream_bodies_are_cut_at_max_response_bytes() {
    let json = RawUpstream::start(JSON_HEAD, Then::Endless(&[b' '; 65536]));
    let sse = RawUpstream::start(SSE_HEAD, Then::Endless(&[b'x'; 65536]));
    for (upstream, stream) in [(json, false), (sse, true)] {
        let base = &upstream.url;
        let gw = start_gateway(&format!(
            "providers:\n  openai:\n    api_key: k\n    base_url: {base}/v1\n    max_response_bytes: 1048576\nrouting:\n  retries: 0\n"
        ));
        let reply = post_responses(
            &gw,
            &json!({"model": "gpt-4o", "input": "hi", "stream": stream}),
        )
        .await;
        assert_eq!(reply.status, 502, "stream={stream}: {}", reply.text);
        assert_valid_error_body(&reply.json());
        assert_eq!(reply.json()["error"]["code"], "upstream_protocol_error");
    }
}

/// The first event of an OpenAI Responses stream (from the fixture), as one SSE frame.
const OPENAI_CREATED: &[u8] = b"event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"created_at\":1754925861,\"status\":\"in_progress\",\"model\":\"gpt-4o-mini\",\"output\":[]},\"sequence_number\":0}\n\n";

/// Opens a raw connection, sends one POST /v1/responses with `body`, and returns the socket.
async fn send_raw_request(gw: &TestGateway, body: &str) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let addr = gw.url.trim_start_matches("http://");
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST /v1/responses HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    socket
}

/// A client that leaves before the first byte cancels the upstream call at once, and no retry
/// follows; the request is recorded as a client disconnect.
#[actix_web::test]
async fn leaving_before_the_first_byte_cancels_the_upstream_call_and_its_retries() {
    let mut upstream = RawUpstream::start("", Then::Hang(b""));
    let gw = start_gateway(&format!(
        "providers:\n  openai:\n    api_key: k\n    base_url: {}/v1\nrouting:\n  retries: 2\n",
        upstream.url
    ));
    let client = send_raw_request(&gw, r#"{"model":"gpt-4o","input":"hi"}"#).await;
    while upstream.accepted() == 0 {
        tokio::task::yield_now().await;
    }
    drop(client);
    tokio::time::timeout(std::time::Duration::from_secs(5), upstream.closed.recv())
        .await
        .expect("the upstream call was not cancelled")
        .unwrap();
    let metrics = common::gateway::get(&gw, "/metrics").await.text;
    assert!(
        metrics.contains("gateway_client_disconnects_total"),
        "{metrics}"
    );
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("gateway_provider_in_flight") && l.ends_with(" 0")),
        "{metrics}"
    );
    assert_eq!(upstream.accepted(), 1, "no retry after the client left");
}

/// After the first byte, a client that leaves during a long upstream silence is noticed at
/// once (not at a later keep-alive write): the upstream stream is dropped.
#[actix_web::test]
async fn leaving_during_an_upstream_silence_drops_the_stream_at_once() {
    use tokio::io::AsyncReadExt;
    let mut upstream = RawUpstream::start(SSE_HEAD, Then::Hang(OPENAI_CREATED));
    let gw = start_gateway(&format!(
        "providers:\n  openai:\n    api_key: k\n    base_url: {}/v1\n",
        upstream.url
    ));
    let mut client =
        send_raw_request(&gw, r#"{"model":"gpt-4o","input":"hi","stream":true}"#).await;
    // Read everything sent so far, so that closing sends a FIN (unread data would make it an
    // RST, which any server notices at once).
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("response.created") {
        let n = client.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    loop {
        match client.try_read(&mut buf) {
            Ok(n) if n > 0 => seen.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    assert!(String::from_utf8_lossy(&seen).starts_with("HTTP/1.1 200"));
    let left = std::time::Instant::now();
    drop(client);
    tokio::time::timeout(std::time::Duration::from_secs(5), upstream.closed.recv())
        .await
        .expect("the upstream stream outlived its client")
        .unwrap();
    assert!(
        left.elapsed() < std::time::Duration::from_secs(1),
        "{:?}",
        left.elapsed()
    );
}

/// One Azure Chat Completions stream chunk carrying 8 KiB of text.
fn azure_chunk() -> &'static [u8] {
    let text = "a".repeat(8192);
    let frame = format!(
        "data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{text}\"}},\"finish_reason\":null}}]}}\n\n"
    );
    Box::leak(frame.into_bytes().into_boxed_slice())
}

/// A client that stops reading while Azure streams fast holds the upstream back (backpressure),
/// as on every other provider: what the upstream could write levels off at socket buffers.
#[actix_web::test]
async fn a_client_that_stops_reading_holds_an_azure_stream_back() {
    use tokio::io::AsyncReadExt;
    let upstream = RawUpstream::start(SSE_HEAD, Then::Endless(azure_chunk()));
    let gw = start_gateway(&format!(
        "providers:\n  azureopenai:\n    api_key: k\n    endpoint: {}\n    deployment_id: d\n",
        upstream.url
    ));
    let mut client =
        send_raw_request(&gw, r#"{"model":"gpt-4o","input":"hi","stream":true}"#).await;
    let mut first = [0u8; 256];
    let n = client.read(&mut first).await.unwrap();
    assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
    // The client now reads nothing more. Sampled until the upstream's writes level off; without
    // backpressure they grow until the bound below.
    const BOUND: usize = 256 * 1024 * 1024;
    let mut last = usize::MAX;
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        let now = upstream.written.load(std::sync::atomic::Ordering::SeqCst);
        assert!(
            now < BOUND,
            "the gateway buffered {now} bytes for a stalled client"
        );
        if now == last {
            break;
        }
        last = now;
    }
    drop(client);
}

/// A 200 whose body is not the provider's answer (`{}`, `null`, wrong types) is a 502
/// `upstream_protocol_error` (JSON) or `error` + `response.failed` (stream), never a stored,
/// completed, empty response.
#[actix_web::test]
async fn a_malformed_200_is_a_protocol_error_on_every_provider() {
    use common::mock_upstream::Behaviour;
    let json = || vec![("content-type".to_owned(), "application/json".to_owned())];
    let sse = || vec![("content-type".to_owned(), "text/event-stream".to_owned())];
    let cases: [(&str, &str, &[&str], &[&str]); 4] = [
        (
            "openai",
            "gpt-4o",
            &[
                "{}",
                "null",
                r#"{"id":5,"output":"x"}"#,
                r#"{"output":[{"type":"message","content":7}]}"#,
            ],
            &["data: {}\n\n", "data: null\n\n"],
        ),
        (
            "azureopenai",
            "gpt-4o",
            &["{}", "null", r#"{"choices":"x"}"#, r#"{"choices":[]}"#],
            &["data: {}\n\n", "data: null\n\n"],
        ),
        (
            "anthropic",
            "claude-sonnet-4-5",
            &[
                "{}",
                "null",
                r#"{"content":"x"}"#,
                r#"{"type":"message","content":5}"#,
            ],
            &["event: message_start\ndata: {}\n\n", "data: null\n\n"],
        ),
        (
            "google",
            "gemini-2.5-flash",
            &[
                "{}",
                "null",
                r#"{"candidates":"x"}"#,
                r#"{"candidates":[]}"#,
            ],
            &["data: {}\n\n", "data: null\n\n"],
        ),
    ];
    let mut failures = Vec::new();
    for (provider, model, bodies, streams) in cases {
        let mock = MockUpstream::start();
        let gw = start_gateway(&format!(
            "{}routing:\n  retries: 0\n",
            providers_yaml(&mock, &[provider], "")
        ));
        for body in bodies {
            mock.push_behaviour(Behaviour::Status(200, (*body).to_owned(), json()));
            let reply = post_responses(&gw, &json!({"model": model, "input": "hi"})).await;
            if reply.status != 502 {
                failures.push(format!(
                    "{provider} json {body}: {} {}",
                    reply.status, reply.text
                ));
                continue;
            }
            assert_valid_error_body(&reply.json());
            assert_eq!(
                reply.json()["error"]["code"],
                "upstream_protocol_error",
                "{provider} {body}"
            );
        }
        for body in streams {
            mock.push_behaviour(Behaviour::Status(200, (*body).to_owned(), sse()));
            let reply =
                post_responses(&gw, &json!({"model": model, "input": "hi", "stream": true})).await;
            // Malformed (`upstream_protocol_error`), or, where the event is tolerated as one
            // the gateway skips, a stream cut short; either way a failure, never a completion.
            let failed = |error: &serde_json::Value| {
                error["code"] == "upstream_protocol_error"
                    || error["message"]
                        .as_str()
                        .is_some_and(|m| m.contains("closed the stream before it finished"))
            };
            let ok = if reply.status == 200 {
                let events = common::spec::assert_valid_sse_stream(&reply.text);
                let last = events.last().unwrap();
                last["type"] == "response.failed" && failed(&last["response"]["error"])
            } else {
                reply.status == 502 && failed(&reply.json()["error"])
            };
            if !ok {
                failures.push(format!(
                    "{provider} sse {body:?}: {} {}",
                    reply.status, reply.text
                ));
            }
        }
        // Nothing malformed was stored as a response.
        assert!(
            mock.requests().len() == bodies.len() + streams.len(),
            "no retries with retries: 0"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// An upstream that answers 200 and then stays silent is cut at `request_timeout` (the time to
/// the first event), not at the shorter `stream_idle_timeout`, which applies between events.
#[actix_web::test]
async fn silence_before_the_first_event_is_bounded_by_request_timeout() {
    let upstream = RawUpstream::start(SSE_HEAD, Then::Hang(b""));
    let gw = start_gateway(&format!(
        "providers:\n  openai:\n    api_key: k\n    base_url: {}/v1\n    request_timeout: 1500ms\n    stream_idle_timeout: 100ms\nrouting:\n  retries: 0\n",
        upstream.url
    ));
    let started = std::time::Instant::now();
    let reply = post_responses(
        &gw,
        &json!({"model": "gpt-4o", "input": "hi", "stream": true}),
    )
    .await;
    let elapsed = started.elapsed();
    assert_eq!(reply.status, 504, "{}", reply.text);
    assert_eq!(reply.json()["error"]["code"], "upstream_timeout");
    assert!(
        elapsed >= std::time::Duration::from_millis(1400),
        "cut after {elapsed:?}, before request_timeout"
    );
}

/// Out-of-enum values are refused with the parameter named, before any upstream call.
#[actix_web::test]
async fn values_outside_the_spec_enums_are_refused() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["openai"], ""));
    for (body, param) in [
        (
            json!({"reasoning": {"effort": "ultra"}}),
            "reasoning.effort",
        ),
        (
            json!({"reasoning": {"summary": "verbose"}}),
            "reasoning.summary",
        ),
        (json!({"text": {"verbosity": "loud"}}), "text.verbosity"),
    ] {
        let mut request = json!({"model": "gpt-4o", "input": "hi"});
        request
            .as_object_mut()
            .unwrap()
            .extend(body.as_object().unwrap().clone());
        let reply = post_responses(&gw, &request).await;
        assert_eq!(reply.status, 400, "{param}: {}", reply.text);
        assert_valid_error_body(&reply.json());
        assert_eq!(reply.json()["error"]["param"], param);
    }
    assert!(mock.requests().is_empty());
    let ok = post_responses(
        &gw,
        &json!({"model": "gpt-4o", "input": "hi", "reasoning": {"effort": "high", "summary": "auto"}, "text": {"verbosity": "low"}}),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    common::spec::assert_valid_response(&ok.json());
}

/// A `function_call_output` whose `call_id` matches no earlier `function_call` is refused on
/// every provider (Anthropic's translation used to drop it and answer as if it were not sent).
#[actix_web::test]
async fn an_orphan_function_call_output_is_refused_on_every_provider() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(
        &mock,
        &["openai", "azureopenai", "anthropic", "google"],
        "",
    ));
    for model in [
        "openai/gpt-4o",
        "azureopenai/gpt-4o",
        "claude-sonnet-4-5",
        "gemini-2.5-flash",
    ] {
        let reply = post_responses(
            &gw,
            &json!({"model": model, "input": [
                {"type": "message", "role": "user", "content": "hi"},
                {"type": "function_call_output", "call_id": "call_nowhere", "output": "42"}
            ]}),
        )
        .await;
        assert_eq!(reply.status, 400, "{model}: {}", reply.text);
        assert_valid_error_body(&reply.json());
        assert_eq!(
            reply.json()["error"]["param"],
            "input[1].call_id",
            "{model}"
        );
    }
    assert!(mock.requests().is_empty());
    // Answering a call made in the same input is fine.
    let reply = post_responses(
        &gw,
        &json!({"model": "claude-sonnet-4-5", "input": [
            {"type": "message", "role": "user", "content": "hi"},
            {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "call_1", "output": "42"}
        ], "tools": [{"type": "function", "name": "f", "parameters": {"type": "object", "properties": {}}}]}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
}

/// Every error the gateway sends is the JSON error object: wrong methods and unknown routes
/// included.
#[actix_web::test]
async fn framework_level_errors_carry_the_error_object() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["openai"], ""));
    let client = reqwest::Client::new();
    for (method, path, status) in [
        ("POST", "/v1/models", 405),
        ("DELETE", "/v1/usage", 405),
        ("PUT", "/metrics", 405),
        ("POST", "/healthz", 405),
        ("PATCH", "/readyz", 405),
        ("PUT", "/v1/responses", 405),
        ("GET", "/v1/chat/completions", 405),
        ("POST", "/v1/responses/resp_1/input_items", 405),
        ("GET", "/nowhere", 404),
        ("POST", "/v1/responses/x/y/z", 404),
    ] {
        let reply = client
            .request(method.parse().unwrap(), format!("{}{path}", gw.url))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status().as_u16(), status, "{method} {path}");
        assert_eq!(
            reply.headers()["content-type"],
            "application/json",
            "{method} {path}"
        );
        let body: serde_json::Value = reply.json().await.unwrap();
        assert_valid_error_body(&body);
        assert!(body["error"]["code"].is_string(), "{method} {path}: {body}");
    }
}

/// A stream counts as a success only when it completes: streams cut after their first byte
/// open the breaker on every provider, through their own permit, with a clear message.
#[actix_web::test]
async fn streams_cut_after_the_first_byte_count_against_the_breaker_on_every_provider() {
    use common::mock_upstream::Behaviour;
    for (provider, model) in [
        ("openai", "gpt-4o"),
        ("azureopenai", "gpt-4o"),
        ("anthropic", "claude-sonnet-4-5"),
        ("google", "gemini-2.5-flash"),
    ] {
        let mock = MockUpstream::start();
        let gw = start_gateway(&format!(
            "{}routing:\n  retries: 0\n",
            providers_yaml(
                &mock,
                &[provider],
                "    failure_threshold: 2\n    cooldown: 10m\n"
            )
        ));
        for _ in 0..2 {
            mock.push_behaviour(Behaviour::CutStream);
            let reply =
                post_responses(&gw, &json!({"model": model, "input": "hi", "stream": true})).await;
            assert_eq!(reply.status, 200, "{provider}: {}", reply.text);
            let events = common::spec::assert_valid_sse_stream(&reply.text);
            let error = events.iter().find(|e| e["type"] == "error").unwrap();
            let message = error["error"]["message"].as_str().unwrap();
            assert_eq!(
                message,
                format!("`{provider}` closed the stream before it finished."),
                "{provider}"
            );
            assert_eq!(events.last().unwrap()["type"], "response.failed");
        }
        let reply = post_responses(&gw, &json!({"model": model, "input": "hi"})).await;
        assert_eq!(
            reply.status, 503,
            "{provider}: the breaker is open: {}",
            reply.text
        );
        assert_eq!(reply.json()["error"]["code"], "no_healthy_provider");
    }
}

/// Without any provider key the gateway is alive but not ready, and says why.
#[actix_web::test]
async fn readyz_is_503_with_a_reason_while_no_provider_has_a_key() {
    let gw = start_gateway("providers: {}\n");
    let ready = common::gateway::get(&gw, "/readyz").await;
    assert_eq!(ready.status, 503);
    assert_eq!(ready.json()["status"], "no_providers");
    assert!(ready.json()["reason"].as_str().unwrap().contains("API key"));
    assert_eq!(common::gateway::get(&gw, "/healthz").await.status, 200);
}

/// The binary warns loudly when it serves without authentication on a non-loopback address,
/// and names where each provider's key came from (never the key).
#[test]
fn the_start_up_log_warns_about_open_access_and_names_key_sources() {
    use std::io::{BufRead, BufReader};
    let dir = std::env::temp_dir().join(format!("gw-hardening-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.yaml");
    std::fs::write(
        &config,
        "server:\n  address: \"0.0.0.0:0\"\nproviders:\n  openai:\n    api_key: sk-file-key-123456\n    base_url: http://127.0.0.1:9/v1\n  anthropic:\n    base_url: http://127.0.0.1:9\n",
    )
    .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(["--config", config.to_str().unwrap()])
        .env("ANTHROPIC_API_KEY", "sk-ant-env-key-123456")
        .env("OPENAI_API_KEY", "sk-shell-key-must-not-win")
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    let mut warned = false;
    for line in lines.by_ref() {
        let line = line.unwrap();
        warned |= line.contains("AUTHENTICATION IS OFF");
        let listening = line.contains("Gateway listening");
        seen.push(line);
        if listening {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let log = seen.join("\n");
    assert!(warned, "{log}");
    assert!(
        log.contains("key_source=config") && log.contains("key_source=ANTHROPIC_API_KEY"),
        "{log}"
    );
    assert!(
        !log.contains("sk-file-key") && !log.contains("sk-ant-env") && !log.contains("sk-shell"),
        "{log}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
