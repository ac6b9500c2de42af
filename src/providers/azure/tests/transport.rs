//! `AzureClient::send` end to end against a scripted HTTP/1.1 server on 127.0.0.1.

use std::time::Duration;

use futures::StreamExt;
use serde_json::json;

use super::{call, config, emitter, fixture, request, summary};
use crate::{
    error::{GatewayError, UpstreamErrorKind},
    providers::{
        StreamTranslator, UpstreamReply,
        azure::{AzureClient, AzureStream, parse_response},
        test_support::{http_reply, serve},
    },
};

fn ok(content_type: &str, body: Vec<u8>) -> Vec<u8> {
    http_reply("200 OK", "", content_type, &body)
}

#[tokio::test]
async fn json_and_stream_round_trips_use_the_deployment_url() {
    let (base, seen) = serve(vec![
        ok(
            "application/json",
            fixture("azure-openai/chat_completion_text.json"),
        ),
        ok(
            "text/event-stream",
            fixture("azure-openai/chat_completion_tool_call_stream.sse"),
        ),
    ])
    .await;
    let config = config(&format!("{base}/"));
    let client = AzureClient::new(&config, reqwest::Client::new());
    let req = request(
        json!({"model": "gpt-4o", "input": "Ahoy?", "instructions": "Talk like a pirate."}),
    );
    let input = req.input_items();

    let UpstreamReply::Json(body) = client
        .send(&config, call(&req, &input, false))
        .await
        .unwrap()
    else {
        panic!("expected JSON");
    };
    let mut out = emitter(&req);
    parse_response(&body, call(&req, &input, false), &mut out, "azureopenai").unwrap();
    assert_eq!(
        summary(out.response())["output"][0]["content"][0]["text"]
            .as_str()
            .map(|t| t.starts_with("Ahoy!")),
        Some(true)
    );

    let UpstreamReply::Stream(mut stream) = client
        .send(&config, call(&req, &input, true))
        .await
        .unwrap()
    else {
        panic!("expected a stream");
    };
    let mut out = emitter(&req);
    let mut translator = AzureStream::new(call(&req, &input, true), "azureopenai".into());
    while let Some(data) = stream.next().await {
        translator.on_data(&data.unwrap(), &mut out).unwrap();
    }
    translator.on_end(&mut out).unwrap();
    assert_eq!(
        summary(out.response())["output"][0]["arguments"],
        "{\"location\":\"Seattle, WA\"}"
    );

    let seen = seen.requests().await;
    assert_eq!(seen.len(), 2);
    for (n, request) in seen.iter().enumerate() {
        let body = request.json();
        assert_eq!(
            request.target(),
            "/openai/deployments/dep-4o/chat/completions?api-version=2024-10-21"
        );
        assert_eq!(request.header("api-key"), Some("test-key"));
        assert_eq!(request.header("x-ms-client-request-id"), Some("req_1"));
        assert_eq!(request.header("authorization"), None);
        assert_eq!(body["model"], "gpt-4o");
        assert_eq!(
            body["messages"][0],
            json!({"role": "system", "content": "Talk like a pirate."})
        );
        assert_eq!(body.get("stream").is_some(), n == 1);
    }
    assert_eq!(
        seen[1].json()["stream_options"],
        json!({"include_usage": true})
    );
}

#[tokio::test]
async fn rate_limits_keep_status_and_retry_after() {
    let raw = String::from_utf8(fixture("azure-openai/error_429_rate_limit.http")).unwrap();
    let (head, body) = raw.split_once("\n\n").unwrap();
    let head = head.lines().collect::<Vec<_>>().join("\r\n");
    let mut reply = format!(
        "{head}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    reply.extend_from_slice(body.as_bytes());
    let (base, _) = serve(vec![reply]).await;
    let mut config = config(&base);
    config.deployments.clear();
    let client = AzureClient::new(&config, reqwest::Client::new());
    let req = request(json!({"model": "gpt-4o", "input": "hi"}));
    let input = req.input_items();
    let Err(GatewayError::Upstream(err)) = client.send(&config, call(&req, &input, true)).await
    else {
        panic!("expected an upstream error");
    };
    assert_eq!(err.kind, UpstreamErrorKind::RateLimited);
    assert_eq!(err.retry_after, Some(Duration::from_secs(6)));
    assert!(err.detail.contains("exceeded token rate limit"));
}

#[tokio::test]
async fn unreachable_upstream_is_a_connect_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let config = config(&base);
    let client = AzureClient::new(&config, reqwest::Client::new());
    let req = request(json!({"model": "gpt-4o", "input": "hi"}));
    let input = req.input_items();
    let Err(GatewayError::Upstream(err)) = client.send(&config, call(&req, &input, false)).await
    else {
        panic!("expected an upstream error");
    };
    assert_eq!(err.kind, UpstreamErrorKind::Connect);
}

#[test]
fn deployments_resolve_from_the_model() {
    use crate::providers::azure::transport::deployment_for;
    let mut config = config("http://unused");
    assert_eq!(deployment_for(&config, "gpt-4o"), Some("dep-4o"));
    assert_eq!(deployment_for(&config, "dep-4o"), Some("dep-4o"));
    assert_eq!(deployment_for(&config, "other"), Some("default-dep"));
    // Without a default deployment the map is an allow-list.
    config.deployment_id = None;
    assert_eq!(deployment_for(&config, "other"), None);
    assert_eq!(deployment_for(&config, "gpt-4o"), Some("dep-4o"));
}
