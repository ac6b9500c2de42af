//! Self-tests of `MockUpstream`'s scripted behaviours: keyword failures, max-tokens and in-band variants, the pushed
//! queue, cut streams, slow / hang / chunk delay, and client-disconnect detection.

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::json;

use crate::common::mock_upstream::{Behaviour, MockOptions, MockUpstream, fixture};
use crate::common::spec::parse_sse;
use crate::mock::{P, assert_json_fixture, assert_sse_fixture, call, request};

#[actix_web::test]
async fn keyword_failures_use_each_providers_error_shape() {
    let mock = MockUpstream::start();
    let r = call(&mock, P::Anthropic, "claude-fail-429", false).await;
    assert_eq!((r.status, r.header("retry-after")), (429, Some("21")));
    assert_eq!(r.json()["error"]["type"], "rate_limit_error");
    let r = call(&mock, P::Azure, "dep-fail-429", true).await;
    assert_eq!(
        (
            r.status,
            r.header("retry-after"),
            r.header("retry-after-ms")
        ),
        (429, Some("6"), Some("6000"))
    );
    let r = call(&mock, P::Responses, "gpt-fail-429", false).await;
    assert_eq!(
        (r.status, r.header("x-ratelimit-reset-tokens")),
        (429, Some("1.864s"))
    );
    assert_eq!(r.json()["error"]["code"], "rate_limit_exceeded");
    let r = call(&mock, P::Chat, "gpt-fail-quota", false).await;
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_str()),
        (429, Some("insufficient_quota"))
    );
    let r = call(&mock, P::Gemini, "gemini-fail-429", false).await;
    assert_eq!(
        (r.status, r.json()["error"]["status"].as_str()),
        (429, Some("RESOURCE_EXHAUSTED"))
    );

    let expect = [
        (P::Responses, "fail-500", 500),
        (P::Chat, "fail-503", 503),
        (P::Azure, "fail-500", 500),
        (P::Anthropic, "fail-529", 529),
        (P::Anthropic, "fail-500", 500),
        (P::Gemini, "fail-503", 503),
        (P::Responses, "fail-400", 400),
        (P::Azure, "fail-400", 400),
        (P::Anthropic, "fail-400", 400),
        (P::Gemini, "fail-400", 400),
        (P::Responses, "fail-401", 401),
        (P::Gemini, "fail-401", 401),
        (P::Azure, "fail-404", 404),
    ];
    for (p, keyword, status) in expect {
        let r = call(&mock, p, &format!("model-{keyword}"), false).await;
        assert_eq!(r.status, status, "{keyword}: {}", r.text);
        assert!(r.json()["error"].is_object(), "{keyword}: {}", r.text);
    }
    assert_eq!(
        call(&mock, P::Anthropic, "fail-529", false).await.json()["error"]["type"],
        "overloaded_error"
    );
    assert_eq!(
        call(&mock, P::Azure, "x-fail-404", false).await.json()["error"]["code"],
        "DeploymentNotFound"
    );
}

#[actix_web::test]
async fn max_tokens_and_in_band_variants() {
    let mock = MockUpstream::start();
    assert_json_fixture(
        &call(&mock, P::Responses, "max-tokens", false).await,
        "openai/responses_incomplete_max_tokens.json",
    );
    let r = call(&mock, P::Responses, "max-tokens", true).await;
    let last = parse_sse(&r.text).pop().unwrap().1;
    assert_eq!(
        (last["type"].as_str(), last["response"]["status"].as_str()),
        (Some("response.incomplete"), Some("incomplete"))
    );
    assert_eq!(
        call(&mock, P::Chat, "max-tokens", false).await.json()["choices"][0]["finish_reason"],
        "length"
    );
    assert!(
        call(&mock, P::Azure, "max-tokens", true)
            .await
            .text
            .contains("\"finish_reason\":\"length\"")
    );
    assert_json_fixture(
        &call(&mock, P::Anthropic, "max-tokens", false).await,
        "anthropic/message_max_tokens.json",
    );
    assert!(
        call(&mock, P::Anthropic, "max-tokens", true)
            .await
            .text
            .contains("\"stop_reason\":\"max_tokens\"")
    );
    assert_json_fixture(
        &call(&mock, P::Gemini, "max-tokens", false).await,
        "gemini/generate_content_max_tokens.json",
    );
    assert!(
        call(&mock, P::Gemini, "max-tokens", true)
            .await
            .text
            .contains("\"finishReason\":\"MAX_TOKENS\"")
    );

    assert_sse_fixture(
        &call(&mock, P::Responses, "stream-error", true).await,
        "openai/responses_stream_failed.sse",
    );
    assert_sse_fixture(
        &call(&mock, P::Anthropic, "stream-error", true).await,
        "anthropic/stream_error_overloaded.sse",
    );
    for p in [P::Chat, P::Azure, P::Gemini] {
        let r = call(&mock, p, "stream-error", true).await;
        let last = parse_sse(&r.text).pop().unwrap().1;
        assert!(last["error"]["message"].is_string(), "{}", r.text);
        assert!(!r.text.contains("[DONE]"));
    }
    assert_eq!(
        call(&mock, P::Chat, "stream-error", false).await.status,
        500
    );

    assert_json_fixture(
        &call(&mock, P::Azure, "content-filter", false).await,
        "azure-openai/chat_completion_output_filtered.json",
    );
    assert_json_fixture(
        &call(&mock, P::Gemini, "prompt-blocked", false).await,
        "gemini/generate_content_prompt_blocked.json",
    );
    assert_json_fixture(
        &call(&mock, P::Gemini, "parallel-calls", false).await,
        "gemini/generate_content_parallel_function_calls.json",
    );
    assert_sse_fixture(
        &call(&mock, P::Anthropic, "refusal", true).await,
        "anthropic/message_refusal_stream.sse",
    );
    assert_eq!(
        call(&mock, P::Anthropic, "refusal", false).await.json()["stop_reason"],
        "refusal"
    );
}

#[actix_web::test]
async fn pushed_behaviours_run_in_order_before_keywords() {
    let mock = MockUpstream::start();
    mock.push_behaviour(Behaviour::Fail500);
    mock.push_behaviour(Behaviour::Ok);
    mock.push_behaviour(Behaviour::Status(
        418,
        "{\"teapot\":true}".into(),
        vec![("x-custom".into(), "1".into())],
    ));
    assert_eq!(mock.pending_behaviours(), 3);
    assert_eq!(
        call(&mock, P::Anthropic, "claude-fail-429", false)
            .await
            .status,
        500
    );
    assert_eq!(
        call(&mock, P::Anthropic, "claude-fail-429", false)
            .await
            .status,
        200,
        "Ok ignores keywords"
    );
    let r = call(&mock, P::Anthropic, "claude", false).await;
    assert_eq!(
        (r.status, r.header("x-custom"), r.json()),
        (418, Some("1"), json!({"teapot": true}))
    );
    assert_eq!(
        call(&mock, P::Anthropic, "claude-fail-429", false)
            .await
            .status,
        429,
        "queue empty: keywords again"
    );
    assert_eq!(mock.pending_behaviours(), 0);
}

#[actix_web::test]
async fn cut_stream_ends_early_with_a_broken_body() {
    let mock = MockUpstream::start();
    for p in [P::Responses, P::Chat, P::Azure, P::Anthropic, P::Gemini] {
        let resp = request(&mock, p, "cut-stream", true, json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        let mut stream = resp.bytes_stream();
        let mut received = Vec::new();
        let mut failed = false;
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(bytes) => received.extend_from_slice(&bytes),
                Err(_) => failed = true,
            }
        }
        assert!(failed, "the body should end with a transport error");
        let text = String::from_utf8(received).unwrap();
        let events = parse_sse(&text);
        assert!(events.len() <= 3, "{} events", events.len());
        assert!(
            !text.contains("response.completed")
                && !text.contains("[DONE]")
                && !text.contains("message_stop")
        );
    }
    let err = request(&mock, P::Responses, "cut-stream", false, json!({}))
        .send()
        .await
        .unwrap()
        .text()
        .await;
    assert!(err.is_err(), "non-stream cut: half a body, then an error");
    assert_eq!(
        mock.cancelled_streams(),
        0,
        "deliberate aborts are not client cancels"
    );
}

#[actix_web::test]
async fn slow_hang_and_chunk_delay() {
    let mock = MockUpstream::start();
    let t = Instant::now();
    let r = call(&mock, P::Responses, "gpt-slow", true).await;
    let frames = parse_sse(&r.text).len() as u32;
    assert!(
        t.elapsed() >= Duration::from_millis(300) + Duration::from_millis(50) * (frames - 1),
        "{:?}",
        t.elapsed()
    );
    let t = Instant::now();
    assert_eq!(
        call(&mock, P::Anthropic, "slow-fail-500", false)
            .await
            .status,
        500,
        "slow combines with keywords"
    );
    assert!(t.elapsed() >= Duration::from_millis(300));

    let hang = request(&mock, P::Chat, "hang", false, json!({}))
        .timeout(Duration::from_millis(400))
        .send()
        .await;
    assert!(hang.is_err_and(|e| e.is_timeout()));

    let delayed = MockUpstream::start_with(MockOptions {
        chunk_delay: Duration::from_millis(20),
        ..MockOptions::default()
    });
    let t = Instant::now();
    let r = call(&delayed, P::Gemini, "gemini", true).await;
    assert!(
        t.elapsed() >= Duration::from_millis(60),
        "4 frames, 3 gaps: {:?}",
        t.elapsed()
    );
    assert_eq!(r.text, fixture("gemini/stream_generate_content_text.sse"));
}

#[actix_web::test]
async fn counts_streams_the_client_abandons() {
    let mock = MockUpstream::start();
    call(&mock, P::Anthropic, "claude-slow", true).await;
    assert_eq!(
        mock.cancelled_streams(),
        0,
        "a stream read to the end is not cancelled"
    );

    let resp = request(&mock, P::Anthropic, "claude-slow", true, json!({}))
        .send()
        .await
        .unwrap();
    let mut stream = resp.bytes_stream();
    assert!(stream.next().await.unwrap().is_ok());
    drop(stream);
    mock.wait_until("the stream dropped", |m| m.cancelled_streams() > 0)
        .await;
    assert_eq!(mock.cancelled_streams(), 1);
}
