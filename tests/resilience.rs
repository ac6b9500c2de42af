//! Failover, breakers, queue limits and client disconnects, through the real server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{
    gateway::{TestGateway, get, post_responses, start_gateway},
    mock_upstream::{Behaviour, MockOptions, MockUpstream},
    spec::{assert_valid_error_body, assert_valid_response},
};
use futures::StreamExt;
use serde_json::json;

/// Two OpenAI instances (told apart by their keys) at the same mock.
fn two_instances(mock: &MockUpstream, extra: &str) -> String {
    let base = mock.base_url();
    format!(
        "providers:\n  a-primary:\n    type: openai\n    api_key: key-a\n    base_url: {base}/v1\n{extra}  b-backup:\n    type: openai\n    api_key: key-b\n    base_url: {base}/v1\n{extra}"
    )
}

/// Scrapes `/metrics` until it has `line` (bounded): the scrape itself reads the actors' state,
/// so each scrape is a fresh look at the condition.
async fn await_metric(gw: &TestGateway, line: &str) {
    let started = std::time::Instant::now();
    while !get(gw, "/metrics")
        .await
        .text
        .lines()
        .any(|l| l.trim() == line)
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "never saw `{line}`"
        );
        tokio::task::yield_now().await;
    }
}

fn keys(mock: &MockUpstream) -> Vec<String> {
    mock.requests()
        .iter()
        .map(|r| r.header("authorization").unwrap_or("").to_owned())
        .collect()
}

/// Pure failover: no retries of the same target.
const NO_RETRIES: &str = "routing:\n  retries: 0\n";

#[actix_web::test]
async fn retryable_failure_before_first_byte_fails_over() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&format!("{}{NO_RETRIES}", two_instances(&mock, "")));
    mock.push_behaviour(Behaviour::Fail500);
    let reply = post_responses(&gw, &json!({"model":"gpt-4o","input":"hi"})).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_valid_response(&reply.json());
    assert_eq!(keys(&mock), ["Bearer key-a", "Bearer key-b"]);
}

#[actix_web::test]
async fn streaming_failover_happens_before_the_first_byte() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&two_instances(&mock, ""));
    mock.push_behaviour(Behaviour::Fail429);
    let reply = post_responses(&gw, &json!({"model":"gpt-4o","input":"hi","stream":true})).await;
    assert_eq!(reply.status, 200);
    common::spec::assert_valid_sse_stream(&reply.text);
    assert_eq!(mock.hits("/v1/responses"), 2);
}

#[actix_web::test]
async fn non_retryable_errors_do_not_fail_over() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&two_instances(&mock, ""));
    mock.push_behaviour(Behaviour::Fail400);
    let reply = post_responses(&gw, &json!({"model":"gpt-4o","input":"hi"})).await;
    assert_eq!(reply.status, 400);
    assert_valid_error_body(&reply.json());
    assert_eq!(mock.hits("/v1/responses"), 1, "a 400 is returned at once");
}

#[actix_web::test]
async fn open_breaker_is_skipped_until_cooldown() {
    let mock = MockUpstream::start();
    // Names of its own: the breaker gauge is process-wide, and other tests here use the usual ones.
    let yaml = two_instances(&mock, "    failure_threshold: 1\n    cooldown: \"60s\"\n")
        .replace("a-primary", "a-tripped")
        .replace("b-backup", "b-tripped");
    let gw = start_gateway(&yaml);
    mock.push_behaviour(Behaviour::Fail500);
    assert_eq!(
        post_responses(&gw, &json!({"model":"gpt-4o","input":"hi"}))
            .await
            .status,
        200
    );
    // The failure report reaches the provider's breaker after the answer: wait until it is open.
    await_metric(
        &gw,
        r#"gateway_provider_breaker_state{provider="a-tripped"} 2"#,
    )
    .await;
    mock.clear_requests();
    assert_eq!(
        post_responses(&gw, &json!({"model":"gpt-4o","input":"hi"}))
            .await
            .status,
        200
    );
    assert_eq!(
        keys(&mock),
        ["Bearer key-b"],
        "the open breaker's provider is skipped"
    );
}

#[actix_web::test]
async fn all_candidates_failing_returns_the_last_error() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&format!("{}{NO_RETRIES}", two_instances(&mock, "")));
    let reply = post_responses(&gw, &json!({"model":"gpt-4o-fail-429","input":"hi"})).await;
    assert_eq!(reply.status, 429);
    assert!(
        reply.header("retry-after").is_some()
            || reply.json()["error"]["code"] == "rate_limit_exceeded"
    );
    assert_eq!(mock.hits("/v1/responses"), 2);
}

#[actix_web::test]
async fn full_queue_answers_429_at_once_with_retry_after() {
    // The slot holder answers after 2 s: the refusal must come while it still holds the slot.
    let mock = MockUpstream::start_with(MockOptions {
        slow_delay: Duration::from_secs(2),
        ..MockOptions::default()
    });
    let base = mock.base_url();
    let gw = start_gateway(&format!(
        "providers:\n  openai:\n    api_key: k\n    base_url: {base}/v1\n    max_concurrency: 1\n    max_queue: 0\n"
    ));
    let url = gw.url.clone();
    let slow = tokio::spawn(async move {
        reqwest::Client::new()
            .post(format!("{url}/v1/responses"))
            .body(json!({"model":"gpt-4o-slow","input":"hi"}).to_string())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    // The slow request holds the only slot once the upstream has it.
    mock.wait_for_hits("/v1/responses", 1).await;
    let refused = post_responses(&gw, &json!({"model":"gpt-4o","input":"hi"})).await;
    assert_eq!(refused.status, 429, "{}", refused.text);
    assert!(!slow.is_finished(), "refused without waiting for the slot");
    assert!(refused.header("retry-after").is_some());
    assert_eq!(refused.json()["error"]["code"], "provider_queue_full");
    assert_eq!(slow.await.unwrap(), 200);
    assert_eq!(
        post_responses(&gw, &json!({"model":"gpt-4o","input":"hi"}))
            .await
            .status,
        200,
        "the slot was released"
    );
}

#[actix_web::test]
async fn client_disconnect_cancels_upstream_and_frees_the_slot() {
    let mock = MockUpstream::start();
    let base = mock.base_url();
    let gw = start_gateway(&format!(
        "providers:\n  openai:\n    api_key: k\n    base_url: {base}/v1\n    max_concurrency: 1\n    max_queue: 0\n"
    ));
    let response = reqwest::Client::new()
        .post(format!("{}/v1/responses", gw.url))
        .body(json!({"model":"gpt-4o-slow","input":"hi","stream":true}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.bytes_stream();
    let first = body.next().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("response.created"));
    drop(body);
    mock.wait_until("the upstream stream dropped", |m| m.cancelled_streams() > 0)
        .await;
    assert_eq!(
        mock.cancelled_streams(),
        1,
        "the upstream stream was dropped"
    );
    let next = post_responses(&gw, &json!({"model":"gpt-4o","input":"hi"})).await;
    assert_eq!(next.status, 200, "the permit was released: {}", next.text);
}
