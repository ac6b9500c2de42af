//! Model groups and their strategies, retries with backoff and `retry-after`, 429 cooling and
//! local rate limits, through the real server against mock upstreams.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::{
    gateway::{get, post_responses, start_gateway},
    mock_upstream::{Behaviour, MockUpstream},
    spec::assert_valid_response,
};
use serde_json::json;

/// An OpenAI instance block named `name` with key `key-<name>` at `mock`.
fn instance(name: &str, mock: &MockUpstream, extra: &str) -> String {
    format!(
        "  {name}:\n    type: openai\n    api_key: key-{name}\n    base_url: {}/v1\n{extra}",
        mock.base_url()
    )
}

/// Which instance (by key) served each upstream request, in order.
fn keys(mock: &MockUpstream) -> Vec<String> {
    mock.requests()
        .iter()
        .map(|r| {
            let auth = r.header("authorization").unwrap_or("");
            auth.trim_start_matches("Bearer key-").to_owned()
        })
        .collect()
}

/// An OpenAI 429 with `retry-after-ms`.
fn limited(ms: u64) -> Behaviour {
    Behaviour::Status(
        429,
        r#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#
            .to_owned(),
        vec![("retry-after-ms".to_owned(), ms.to_string())],
    )
}

fn hi(model: &str) -> serde_json::Value {
    json!({"model": model, "input": "hi"})
}

#[actix_web::test]
async fn a_failing_target_is_retried_with_backoff_then_the_next_is_tried() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&format!(
        "providers:\n{}{}models:\n  pool:\n    targets: [{{provider: a, model: gpt-4o}}, {{provider: b, model: gpt-4o}}]\nrouting:\n  retries: 1\n  retry_backoff: 10ms\n",
        instance("a", &mock, ""),
        instance("b", &mock, "")
    ));
    mock.push_behaviour(Behaviour::Fail500);
    mock.push_behaviour(Behaviour::Fail529);
    let reply = post_responses(&gw, &hi("pool")).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_valid_response(&reply.json());
    assert_eq!(keys(&mock), ["a", "a", "b"], "one retry on a, then b");
    mock.clear_requests();
    mock.push_behaviour(Behaviour::Fail400);
    let bad = post_responses(&gw, &hi("pool")).await;
    assert_eq!(bad.status, 400);
    assert_eq!(keys(&mock), ["a"], "a 400 is never retried");
}

#[actix_web::test]
async fn retry_after_is_honoured_before_the_retry() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&format!(
        "providers:\n{}routing:\n  retry_backoff: 1ms\n",
        instance("a", &mock, "")
    ));
    let unavailable = Behaviour::Status(
        503,
        r#"{"error":{"message":"busy"}}"#.to_owned(),
        vec![("retry-after-ms".to_owned(), "400".to_owned())],
    );
    for behaviour in [unavailable, limited(300)] {
        mock.clear_requests();
        mock.push_behaviour(behaviour);
        let started = Instant::now();
        let reply = post_responses(&gw, &hi("gpt-4o")).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert!(started.elapsed() >= Duration::from_millis(300), "waited");
        assert_eq!(keys(&mock), ["a", "a"]);
    }
}

#[actix_web::test]
async fn a_retry_after_beyond_the_cap_is_answered_at_once() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&format!(
        "providers:\n{}routing:\n  max_retry_wait: 1s\n",
        instance("a", &mock, "")
    ));
    mock.push_behaviour(limited(30_000));
    let started = Instant::now();
    let reply = post_responses(&gw, &hi("gpt-4o")).await;
    assert_eq!(reply.status, 429, "{}", reply.text);
    assert!(started.elapsed() < Duration::from_millis(900));
    assert_eq!(reply.header("retry-after"), Some("30"));
    assert_eq!(mock.hits("/v1/responses"), 1);
}

#[actix_web::test]
async fn a_429_moves_traffic_away_for_exactly_its_retry_after() {
    let (a, b) = (MockUpstream::start(), MockUpstream::start());
    let gw = start_gateway(&format!(
        "providers:\n{}{}models:\n  pool:\n    targets: [{{provider: a, model: gpt-4o}}, {{provider: b, model: gpt-4o}}]\n",
        instance("a", &a, ""),
        instance("b", &b, "")
    ));
    a.push_behaviour(limited(1_000));
    let limited_at = Instant::now();
    assert_eq!(post_responses(&gw, &hi("pool")).await.status, 200);
    assert_eq!(
        (a.hits("/"), b.hits("/")),
        (1, 1),
        "a 429 fails over at once"
    );
    // The cooling began after `limited_at` and before this answer came back.
    let answered_at = Instant::now();
    while limited_at.elapsed() < Duration::from_millis(700) {
        assert_eq!(post_responses(&gw, &hi("pool")).await.status, 200);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(a.hits("/"), 1, "a cools while its retry-after runs");
    // Then traffic until `a` takes some again: never before its retry-after ran out (the cooling
    // began after `limited_at`), and soon after it (bounded).
    let back = loop {
        let sent = Instant::now();
        assert_eq!(post_responses(&gw, &hi("pool")).await.status, 200);
        if a.hits("/") == 2 {
            break sent;
        }
        assert!(
            answered_at.elapsed() < Duration::from_secs(5),
            "a never took traffic again"
        );
        // Pacing only, as above: the loop ends on the observed hit.
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        back.duration_since(limited_at) >= Duration::from_secs(1),
        "a took traffic {:?} after its 1 s retry-after began",
        back.duration_since(limited_at)
    );
}

#[actix_web::test]
async fn everything_cooling_answers_429_with_the_soonest_retry_after() {
    let (a, b) = (MockUpstream::start(), MockUpstream::start());
    let gw = start_gateway(&format!(
        "providers:\n{}{}models:\n  pool:\n    targets: [{{provider: a, model: gpt-4o}}, {{provider: b, model: gpt-4o}}]\nrouting:\n  retries: 0\n",
        instance("a", &a, ""),
        instance("b", &b, "")
    ));
    a.push_behaviour(limited(3_000));
    b.push_behaviour(limited(1_500));
    let first = post_responses(&gw, &hi("pool")).await;
    assert_eq!(first.status, 429, "{}", first.text);
    let second = post_responses(&gw, &hi("pool")).await;
    assert_eq!(second.status, 429, "{}", second.text);
    assert_eq!(second.json()["error"]["code"], "rate_limit_exceeded");
    assert_eq!(
        second.header("retry-after"),
        Some("2"),
        "b's 1.5 s, rounded up"
    );
    assert_eq!(
        (a.hits("/"), b.hits("/")),
        (1, 1),
        "nothing was sent while cooling"
    );
}

#[actix_web::test]
async fn the_local_rpm_limit_routes_around_then_answers_429() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&format!(
        "providers:\n{}{}models:\n  pool:\n    targets: [{{provider: a, model: gpt-4o}}, {{provider: b, model: gpt-4o}}]\n",
        instance("a", &mock, "    rpm: 2\n"),
        instance("b", &mock, "    rpm: 1\n")
    ));
    for _ in 0..3 {
        assert_eq!(post_responses(&gw, &hi("pool")).await.status, 200);
    }
    assert_eq!(keys(&mock), ["a", "a", "b"]);
    let refused = post_responses(&gw, &hi("pool")).await;
    assert_eq!(refused.status, 429, "{}", refused.text);
    assert_eq!(refused.json()["error"]["code"], "rate_limit_exceeded");
    let wait: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!(
        (29..=31).contains(&wait),
        "a's next slot, the soonest: {wait}"
    );
    assert_eq!(mock.hits("/"), 3, "over the limit nothing is sent");
}

#[actix_web::test]
async fn weighted_groups_split_new_conversations_and_keep_each_on_one_target() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&format!(
        "providers:\n{}{}models:\n  ab:\n    strategy: weighted\n    targets: [{{provider: a, model: gpt-4o, weight: 50}}, {{provider: b, model: gpt-4o-mini, weight: 50}}]\n",
        instance("a", &mock, ""),
        instance("b", &mock, "")
    ));
    let mut used = std::collections::BTreeSet::new();
    for _ in 0..12 {
        mock.clear_requests();
        let mut previous: Option<String> = None;
        for turn in 0..3 {
            let mut body = json!({"model": "ab", "input": format!("turn {turn}")});
            if let Some(id) = &previous {
                body["previous_response_id"] = json!(id);
            }
            let reply = post_responses(&gw, &body).await;
            assert_eq!(reply.status, 200, "{}", reply.text);
            previous = reply.json()["id"].as_str().map(str::to_owned);
        }
        let served = keys(&mock);
        assert!(served.iter().all(|k| *k == served[0]), "sticky: {served:?}");
        used.insert(served[0].clone());
    }
    assert_eq!(used.len(), 2, "both targets get conversations");
    let listed = get(&gw, "/v1/models").await.json();
    assert_eq!(
        listed["data"][0]["id"], "ab",
        "groups are listed by their public name"
    );
}

#[actix_web::test]
async fn least_busy_latency_and_cost_pick_by_live_state_and_price() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&format!(
        "providers:\n{}{}models:\n  busy:\n    strategy: least_busy\n    targets: [{{provider: a, model: gpt-4o-slow}}, {{provider: b, model: gpt-4o}}]\n  fast:\n    strategy: latency\n    targets: [{{provider: a, model: gpt-4o-slow}}, {{provider: b, model: gpt-4o}}]\n  cheap:\n    strategy: cost\n    targets: [{{provider: a, model: gpt-4o}}, {{provider: b, model: gpt-4o-mini}}]\n  priced:\n    strategy: cost\n    targets: [{{provider: a, model: gpt-4o-mini}}, {{provider: b, model: gpt-4o, price: {{input: 0.01, output: 0.01}}}}]\n",
        instance("a", &mock, ""),
        instance("b", &mock, "")
    ));
    let url = gw.url.clone();
    let slow = actix_web::rt::spawn(async move {
        reqwest::Client::new()
            .post(format!("{url}/v1/responses"))
            .body(hi("busy").to_string())
            .send()
            .await
            .unwrap()
            .status()
    });
    // `a` is busy once the upstream holds its request.
    mock.wait_for_hits("/", 1).await;
    assert_eq!(post_responses(&gw, &hi("busy")).await.status, 200);
    assert_eq!(keys(&mock), ["a", "b"], "a is busy, so b");
    assert_eq!(slow.await.unwrap(), 200);

    mock.clear_requests();
    for _ in 0..3 {
        assert_eq!(post_responses(&gw, &hi("fast")).await.status, 200);
    }
    // a measured ~300 ms before, so b is preferred; its few ms keep it preferred.
    assert_eq!(keys(&mock), ["b", "b", "b"]);

    mock.clear_requests();
    assert_eq!(post_responses(&gw, &hi("cheap")).await.status, 200);
    assert_eq!(post_responses(&gw, &hi("priced")).await.status, 200);
    let models: Vec<String> = mock
        .requests()
        .iter()
        .map(|r| r.body["model"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        models,
        ["gpt-4o-mini", "gpt-4o"],
        "the table, then the config price"
    );
}

#[actix_web::test]
async fn the_tpm_limit_charges_an_estimate_and_corrects_it_from_usage() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&format!(
        "providers:\n{}",
        instance("a", &mock, "    tpm: 600\n")
    ));
    // About 500 tokens each (2,000 characters); the mock answers with 64 tokens of usage.
    let big = json!({"model": "gpt-4o", "input": "x".repeat(2_000)});
    assert_eq!(post_responses(&gw, &big).await.status, 200);
    let second = post_responses(&gw, &big).await;
    assert_eq!(
        second.status, 200,
        "the first charge was corrected to 64 tokens"
    );
    let huge = json!({"model": "gpt-4o", "input": "x".repeat(8_000)});
    let refused = post_responses(&gw, &huge).await;
    assert_eq!(refused.status, 429, "{}", refused.text);
    assert_eq!(refused.json()["error"]["code"], "rate_limit_exceeded");
    assert_eq!(mock.hits("/"), 2);
}
