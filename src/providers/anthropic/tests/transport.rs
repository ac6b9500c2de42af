//! Transport against a tiny HTTP/1.1 server on 127.0.0.1: path, auth and version headers, JSON
//! and stream replies, and a 529 mapped to `Overloaded`.

use futures::StreamExt;
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

use super::{call, config_with, create, emitter, fixture};
use crate::{
    api::ResponseStatus,
    error::{GatewayError, UpstreamErrorKind},
    providers::{
        StreamTranslator, UpstreamReply,
        anthropic::{AnthropicClient, AnthropicStream},
    },
};

/// One request as the server saw it.
#[derive(Debug)]
struct Seen {
    request_line: String,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Accepts one connection, reads one request, writes `response`, closes.
async fn serve_once(listener: &TcpListener, response: &[u8]) -> Seen {
    let (mut socket, _) = listener.accept().await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let n = socket.read(&mut chunk).await.unwrap();
        assert!(n > 0, "client closed before sending a request");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = find(&buf, b"\r\n\r\n") {
            break pos + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.lines();
    let request_line = lines.next().unwrap().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap());
    while buf.len() < head_end + length {
        let n = socket.read(&mut chunk).await.unwrap();
        assert!(n > 0, "client closed mid-body");
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = serde_json::from_slice(&buf[head_end..head_end + length]).unwrap();
    socket.write_all(response).await.unwrap();
    socket.shutdown().await.unwrap();
    Seen {
        request_line,
        headers,
        body,
    }
}

fn http_response(status: &str, extra_headers: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\n{extra_headers}content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

#[tokio::test]
async fn send_posts_to_v1_messages_and_returns_json_stream_and_errors() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let json_body = fixture("message_text.json");
    let overloaded = br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}"#;
    let responses = vec![
        http_response("200 OK", "", "application/json", &json_body),
        http_response(
            "200 OK",
            "",
            "text/event-stream",
            &fixture("message_text_stream.sse"),
        ),
        http_response(
            "529 Overloaded",
            "request-id: req_1\r\nretry-after: 3\r\n",
            "application/json",
            overloaded,
        ),
    ];
    let server = tokio::spawn(async move {
        let mut seen = Vec::new();
        for response in responses {
            seen.push(serve_once(&listener, &response).await);
        }
        seen
    });

    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let config = config_with(&format!("    base_url: http://{addr}\n"));
    let client = AnthropicClient::new(&config, http.clone());
    let request = create(json!({"input": "Hello", "max_output_tokens": 64}));
    let input = request.input_items();

    let reply = client
        .send(&config, call(&request, &input, false))
        .await
        .unwrap();
    let UpstreamReply::Json(bytes) = reply else {
        panic!("expected a JSON reply")
    };
    assert_eq!(bytes.as_ref(), json_body.as_slice());

    // A base URL that already ends in /v1 must not double the segment.
    let versioned = config_with(&format!("    base_url: http://{addr}/v1/\n"));
    let reply = AnthropicClient::new(&versioned, http)
        .send(&versioned, call(&request, &input, true))
        .await
        .unwrap();
    let UpstreamReply::Stream(mut stream) = reply else {
        panic!("expected a stream reply")
    };
    let mut out = emitter(&request);
    let mut translator = AnthropicStream::new(call(&request, &input, true), "anthropic".to_owned());
    while let Some(data) = stream.next().await {
        translator.on_data(&data.unwrap(), &mut out).unwrap();
    }
    translator.on_end(&mut out).unwrap();
    assert_eq!(out.response().status, ResponseStatus::Completed);

    let err = client
        .send(&config, call(&request, &input, false))
        .await
        .err()
        .unwrap();
    let GatewayError::Upstream(err) = err else {
        panic!("expected an upstream error, got {err:?}")
    };
    assert_eq!(err.kind, UpstreamErrorKind::Overloaded);
    assert_eq!(err.retry_after, Some(std::time::Duration::from_secs(3)));
    assert!(err.detail.contains("req_1"));

    let seen = server.await.unwrap();
    assert_eq!(seen.len(), 3);
    for s in &seen {
        assert_eq!(s.request_line, "POST /v1/messages HTTP/1.1");
        assert_eq!(s.header("x-api-key"), Some("test-key"));
        assert_eq!(s.header("anthropic-version"), Some("2023-06-01"));
        assert_eq!(s.header("content-type"), Some("application/json"));
        assert_eq!(s.body["model"], json!("claude-sonnet-4-5"));
        assert_eq!(s.body["max_tokens"], json!(64));
    }
    assert_eq!(seen[0].body.get("stream"), None);
    assert_eq!(seen[1].body["stream"], json!(true));
}
