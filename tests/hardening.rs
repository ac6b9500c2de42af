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
    // Another whole 2 KiB body no longer fits: 503 (retried until the server has read the
    // staller's bytes; it never sleeps).
    let client = reqwest::Client::new();
    let body = format!(
        "{{\"model\":\"gpt-4o\",\"input\":\"{}\"}}",
        "x".repeat(2000)
    );
    let mut attempts = 0;
    let reply = loop {
        attempts += 1;
        let reply = client
            .post(format!("{}/v1/responses", gw.url))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        if reply.status() == 503 || attempts == 1000 {
            break reply;
        }
        tokio::task::yield_now().await;
    };
    assert_eq!(reply.status(), 503);
    assert!(reply.headers().contains_key("retry-after"));
    let json: serde_json::Value = reply.json().await.unwrap();
    assert_valid_error_body(&json);
    assert_eq!(json["error"]["code"], "server_overloaded");
    // Once the staller leaves, its share is given back.
    drop(staller);
    let mut attempts = 0;
    loop {
        attempts += 1;
        let reply = client
            .post(format!("{}/v1/responses", gw.url))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        if reply.status() == 200 {
            break;
        }
        assert!(attempts < 1000, "the bound was never given back");
        tokio::task::yield_now().await;
    }
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
    let started = std::time::Instant::now();
    drain
        .shutdown(
            handle,
            std::time::Duration::ZERO,
            std::time::Duration::from_millis(200),
        )
        .await;
    let mut reply = Vec::new();
    staller.read_to_end(&mut reply).await.unwrap();
    let reply = String::from_utf8_lossy(&reply);
    assert!(reply.starts_with("HTTP/1.1 503"), "{reply}");
    assert!(reply.contains("server_shutting_down"), "{reply}");
    server.await.unwrap().unwrap();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}
