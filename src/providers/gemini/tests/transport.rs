//! Transport against a one-shot HTTP server on 127.0.0.1: URL, auth header, reply kinds, errors.

use std::time::Duration;

use futures::StreamExt;
use serde_json::json;

use super::{call, config, emitter, fixture, request};
use crate::{
    error::{GatewayError, UpstreamErrorKind},
    providers::{
        StreamTranslator, UpstreamReply,
        gemini::{GeminiClient, GeminiStream, parse_response},
        http::build_client,
        test_support::{SeenRequest, http_reply, parse_http, serve},
    },
};

/// What every Gemini request carries: the path, the key in a header (never in the URL), the body.
async fn assert_request(server: crate::providers::test_support::Served, path: &str) {
    let seen = server.requests().await;
    let seen: &SeenRequest = &seen[0];
    assert_eq!(seen.request_line, format!("POST {path} HTTP/1.1"));
    assert!(
        !seen.request_line.contains("key="),
        "the key must not be in the URL"
    );
    assert_eq!(
        seen.header("x-goog-api-key"),
        Some("test-key"),
        "{:?}",
        seen.headers
    );
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(
        seen.json()["contents"],
        json!([{"role":"user","parts":[{"text":"hi"}]}])
    );
}

#[tokio::test]
async fn json_reply_round_trip() {
    let (base, server) = serve(vec![http_reply(
        "200 OK",
        "",
        "application/json",
        &fixture("generate_content_text.json"),
    )])
    .await;
    let config = config(&format!("{base}/"));
    let client = GeminiClient::new(&config, build_client(config.connect_timeout).unwrap());
    let req = request(json!({"input":"hi"}));
    let input = req.input_items();
    let call = call(&req, &input, "gemini-2.5-flash");
    let Ok(UpstreamReply::Json(body)) = client.send(&config, call).await else {
        panic!("expected a JSON reply");
    };
    assert_request(server, "/v1beta/models/gemini-2.5-flash:generateContent").await;
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
    let (base, server) = serve(vec![reply]).await;
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
        server,
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
    )
    .await;
    assert_eq!(
        out.drain().last().unwrap().event_type(),
        "response.completed"
    );
}

#[tokio::test]
async fn rate_limit_reply_maps_to_rate_limited_with_retry_after() {
    let (_, _, body) = parse_http(&fixture("error_429_resource_exhausted.http"));
    let (base, server) = serve(vec![http_reply(
        "429 Too Many Requests",
        "",
        "application/json",
        &body,
    )])
    .await;
    let config = config(&base);
    let client = GeminiClient::new(&config, build_client(config.connect_timeout).unwrap());
    let req = request(json!({"input":"hi"}));
    let input = req.input_items();
    let result = client
        .send(&config, call(&req, &input, "models/gemini-2.5-flash"))
        .await;
    assert_request(server, "/v1beta/models/gemini-2.5-flash:generateContent").await;
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
