//! Transport against a tiny HTTP/1.1 server on 127.0.0.1: path, auth and version headers, JSON
//! and stream replies, and a 529 mapped to `Overloaded`.

use futures::StreamExt;
use serde_json::json;

use super::{call, config_with, create, emitter, fixture};
use crate::{
    api::ResponseStatus,
    error::{GatewayError, UpstreamErrorKind},
    providers::{
        StreamTranslator, UpstreamReply,
        anthropic::{AnthropicClient, AnthropicStream},
        test_support::{http_reply, serve},
    },
};

#[tokio::test]
async fn send_posts_to_v1_messages_and_returns_json_stream_and_errors() {
    let json_body = fixture("message_text.json");
    let overloaded = br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}"#;
    let responses = vec![
        http_reply("200 OK", "", "application/json", &json_body),
        http_reply(
            "200 OK",
            "",
            "text/event-stream",
            &fixture("message_text_stream.sse"),
        ),
        http_reply(
            "529 Overloaded",
            "request-id: req_1\r\nretry-after: 3\r\n",
            "application/json",
            overloaded,
        ),
    ];
    let (base, server) = serve(responses).await;

    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let config = config_with(&format!("    base_url: {base}\n"));
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
    let versioned = config_with(&format!("    base_url: {base}/v1/\n"));
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

    let seen = server.requests().await;
    assert_eq!(seen.len(), 3);
    for s in &seen {
        assert_eq!(s.request_line, "POST /v1/messages HTTP/1.1");
        assert_eq!(s.header("x-api-key"), Some("test-key"));
        assert_eq!(s.header("anthropic-version"), Some("2023-06-01"));
        assert_eq!(s.header("content-type"), Some("application/json"));
        assert_eq!(s.json()["model"], json!("claude-sonnet-4-5"));
        assert_eq!(s.json()["max_tokens"], json!(64));
    }
    assert_eq!(seen[0].json().get("stream"), None);
    assert_eq!(seen[1].json()["stream"], json!(true));
}
