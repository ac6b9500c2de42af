//! Transport against a one-shot HTTP server on 127.0.0.1: URL, auth header, reply kinds, errors.

use std::time::Duration;

use futures::StreamExt;
use serde_json::json;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
    task::JoinHandle,
};

use super::{call, config, emitter, fixture, request};
use crate::providers::test_support::parse_http;
use crate::{
    error::{GatewayError, UpstreamErrorKind},
    providers::{
        StreamTranslator, UpstreamReply,
        gemini::{GeminiClient, GeminiStream, parse_response},
        http::build_client,
    },
};

/// What the server saw: the request head (request line + headers) and the body.
struct Seen {
    head: String,
    body: Vec<u8>,
}

/// Serves one connection with `reply`, returning the base URL and the captured request.
async fn serve_once(reply: Vec<u8>) -> (String, JoinHandle<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let (head_len, body_len) = loop {
            let n = socket.read(&mut chunk).await.unwrap();
            assert!(n > 0, "client closed early");
            buf.extend_from_slice(&chunk[..n]);
            if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..pos]).to_ascii_lowercase();
                let len = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                break (pos + 4, len);
            }
        };
        while buf.len() < head_len + body_len {
            let n = socket.read(&mut chunk).await.unwrap();
            assert!(n > 0, "client closed early");
            buf.extend_from_slice(&chunk[..n]);
        }
        socket.write_all(&reply).await.unwrap();
        socket.shutdown().await.unwrap();
        Seen {
            head: String::from_utf8_lossy(&buf[..head_len]).into_owned(),
            body: buf[head_len..].to_vec(),
        }
    });
    (base, task)
}

fn http_reply(status: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut reply = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    reply.extend_from_slice(body);
    reply
}

fn assert_request(seen: &Seen, path: &str) {
    let request_line = seen.head.lines().next().unwrap();
    assert_eq!(request_line, format!("POST {path} HTTP/1.1"));
    assert!(
        !request_line.contains("key="),
        "the key must not be in the URL"
    );
    let lower = seen.head.to_ascii_lowercase();
    assert!(
        lower.contains("\r\nx-goog-api-key: test-key\r\n"),
        "{}",
        seen.head
    );
    assert!(lower.contains("\r\ncontent-type: application/json\r\n"));
    let body: serde_json::Value = serde_json::from_slice(&seen.body).unwrap();
    assert_eq!(
        body["contents"],
        json!([{"role":"user","parts":[{"text":"hi"}]}])
    );
}

#[tokio::test]
async fn json_reply_round_trip() {
    let (base, server) = serve_once(http_reply(
        "200 OK",
        "application/json",
        &fixture("generate_content_text.json"),
    ))
    .await;
    let config = config(&format!("{base}/"));
    let client = GeminiClient::new(&config, build_client(config.connect_timeout).unwrap());
    let req = request(json!({"input":"hi"}));
    let input = req.input_items();
    let call = call(&req, &input, "gemini-2.5-flash");
    let Ok(UpstreamReply::Json(body)) = client.send(&config, call).await else {
        panic!("expected a JSON reply");
    };
    assert_request(
        &server.await.unwrap(),
        "/v1beta/models/gemini-2.5-flash:generateContent",
    );
    let mut out = emitter(&req, false);
    parse_response(&body, call, &mut out, "google").unwrap();
    assert_eq!(out.response().output.len(), 2);
}

#[tokio::test]
async fn stream_reply_round_trip() {
    let sse = fixture("stream_generate_content_text.sse");
    let mut reply =
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n".to_vec();
    reply.extend_from_slice(&sse);
    let (base, server) = serve_once(reply).await;
    let config = config(&base);
    let client = GeminiClient::new(&config, build_client(config.connect_timeout).unwrap());
    let req = request(json!({"input":"hi","stream":true}));
    let input = req.input_items();
    let mut call = call(&req, &input, "gemini-2.5-flash");
    call.stream = true;
    let Ok(UpstreamReply::Stream(mut stream)) = client.send(&config, call).await else {
        panic!("expected a stream reply");
    };
    let mut out = emitter(&req, true);
    let mut translator = GeminiStream::new(call, "google".into());
    while let Some(data) = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .unwrap()
    {
        translator.on_data(&data.unwrap(), &mut out).unwrap();
    }
    translator.on_end(&mut out).unwrap();
    assert_request(
        &server.await.unwrap(),
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
    );
    assert_eq!(
        out.drain().last().unwrap().event_type(),
        "response.completed"
    );
}

#[tokio::test]
async fn rate_limit_reply_maps_to_rate_limited_with_retry_after() {
    let (_, _, body) = parse_http(&fixture("error_429_resource_exhausted.http"));
    let (base, server) = serve_once(http_reply(
        "429 Too Many Requests",
        "application/json",
        &body,
    ))
    .await;
    let config = config(&base);
    let client = GeminiClient::new(&config, build_client(config.connect_timeout).unwrap());
    let req = request(json!({"input":"hi"}));
    let input = req.input_items();
    let result = client
        .send(&config, call(&req, &input, "models/gemini-2.5-flash"))
        .await;
    assert_request(
        &server.await.unwrap(),
        "/v1beta/models/gemini-2.5-flash:generateContent",
    );
    match result {
        Err(GatewayError::Upstream(e)) => {
            assert_eq!(e.kind, UpstreamErrorKind::RateLimited);
            assert_eq!(e.retry_after, Some(Duration::from_secs(24)));
        }
        Err(other) => panic!("expected an upstream error, got {other:?}"),
        Ok(_) => panic!("expected an upstream error, got a reply"),
    }
}

#[test]
fn endpoints_accept_a_versioned_base_url() {
    use crate::providers::gemini::transport::endpoint;
    assert_eq!(
        endpoint(
            "https://generativelanguage.googleapis.com/v1beta/",
            "gemini-3-flash-preview",
            true
        ),
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-3-flash-preview:streamGenerateContent?alt=sse"
    );
}
