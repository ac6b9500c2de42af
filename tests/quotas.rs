//! Caller quotas and budgets (`quotas:`): an API key's `rpm` held across two replicas sharing
//! the machine's Redis, with OpenAI's rate-limit headers on every answer; a daily budget spent
//! on one replica refusing on the other; JWT callers sharing their organisation's quota by a
//! claim; `tpm` corrected from the real usage; each caller's limits in `GET /v1/usage`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod auth_idp;
mod common;

use std::time::{Duration, Instant};

use auth_idp::{
    Idp, TestKey, claims,
    http::{API_KEY, auth_yaml, call, create, hello, wait_for_keys},
};
use common::{
    gateway::{Reply, TestGateway, providers_yaml, start_gateway},
    mock_upstream::MockUpstream,
    redis::{Prefix, REDIS_URL},
    spec::assert_valid_error_body,
};
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

/// `redis:` and `fleet:` for the machine's Redis under `prefix`.
fn fleet_yaml(prefix: &str) -> String {
    format!(
        "redis:\n  url: \"{REDIS_URL}\"\n  key_prefix: \"{prefix}\"\n  command_timeout: 500ms\nfleet:\n  heartbeat_interval: 200ms\nconversations:\n  store: memory\n"
    )
}

/// A gateway config: the openai provider at `mock`, the `ci` key, `quotas`, and `extra`.
fn yaml(mock: &MockUpstream, quotas: &str, extra: &str) -> String {
    format!(
        "{}{}quotas:\n{quotas}{extra}",
        providers_yaml(mock, &["openai"], ""),
        auth_yaml(None, true)
    )
}

fn header(reply: &Reply, name: &str) -> String {
    reply
        .header(name)
        .unwrap_or_else(|| panic!("no {name}: {:?}", reply.headers))
        .to_owned()
}

/// Panics unless `reply` is a 429 with `code`, a retry-after and a valid error body.
fn assert_refused(reply: &Reply, code: &str) -> u64 {
    assert_eq!(reply.status, 429, "{}", reply.text);
    assert_valid_error_body(&reply.json());
    assert_eq!(reply.json()["error"]["code"], code, "{}", reply.text);
    assert_eq!(reply.json()["error"]["type"], "too_many_requests");
    header(reply, "retry-after").parse().unwrap()
}

async fn usage(gw: &TestGateway, token: &str) -> Value {
    let reply = call(
        gw,
        "GET",
        "/v1/usage",
        Some(&format!("Bearer {token}")),
        None,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()
}

#[actix_web::test]
async fn an_api_keys_rpm_holds_across_two_replicas_with_openai_headers() {
    let prefix = Prefix::new();
    let mock = MockUpstream::start();
    let config = yaml(
        &mock,
        "  api_keys:\n    ci: {rpm: 3}\n",
        &fleet_yaml(&prefix.0),
    );
    let replicas = [start_gateway(&config), start_gateway(&config)];
    for (i, left) in [2, 1, 0].into_iter().enumerate() {
        let reply = create(&replicas[i % 2], API_KEY, &hello()).await;
        assert_eq!(reply.status, 200, "request {i}: {}", reply.text);
        assert_eq!(header(&reply, "x-ratelimit-limit-requests"), "3");
        assert_eq!(
            header(&reply, "x-ratelimit-remaining-requests"),
            left.to_string()
        );
        assert!(header(&reply, "x-ratelimit-reset-requests").ends_with('s'));
        assert!(
            reply.header("x-ratelimit-limit-tokens").is_none(),
            "no tpm set"
        );
    }
    for gw in &replicas {
        let refused = create(gw, API_KEY, &hello()).await;
        let wait = assert_refused(&refused, "quota_exceeded");
        assert!((1..=20).contains(&wait), "{wait}");
        assert_eq!(header(&refused, "x-ratelimit-remaining-requests"), "0");
        let message = refused.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains("try again in"), "{message}");
    }
    assert_eq!(mock.hits("/v1/responses"), 3, "three between both replicas");
    // The caller sees its own limits in /v1/usage, from either replica.
    let report = usage(&replicas[1], API_KEY).await;
    let limits = &report["limits"][0];
    assert_eq!(limits["caller"], "key:ci");
    assert_eq!(limits["requests"]["limit"], 3);
    assert_eq!(limits["requests"]["remaining"], 0);
    assert!(limits["requests"]["reset_seconds"].as_f64().unwrap() > 0.0);
}

#[actix_web::test]
async fn a_budget_spent_on_one_replica_refuses_on_the_other() {
    let prefix = Prefix::new();
    let mock = MockUpstream::start();
    // A millionth of a dollar: one gpt-4o-mini answer spends more.
    let config = yaml(
        &mock,
        "  api_keys:\n    ci: {budget_usd: 0.000001, budget_period: day}\n",
        &fleet_yaml(&prefix.0),
    );
    let (one, two) = (start_gateway(&config), start_gateway(&config));
    assert_eq!(create(&one, API_KEY, &hello()).await.status, 200);
    // The spend reaches Redis right after the answer: poll replica two's report (bounded).
    let started = Instant::now();
    loop {
        let report = usage(&two, API_KEY).await;
        let budget = &report["limits"][0]["budget"];
        assert_eq!(budget["period"], "day");
        if budget["spent_usd"].as_f64().unwrap() > 0.0 {
            assert_eq!(budget["remaining_usd"], 0.0);
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "{report}");
        tokio::task::yield_now().await;
    }
    let refused = create(&two, API_KEY, &hello()).await;
    let wait = assert_refused(&refused, "budget_exceeded");
    assert!(wait <= 86_400, "until the next UTC day: {wait}");
    assert_eq!(mock.hits("/v1/responses"), 1);
    assert_refused(&create(&one, API_KEY, &hello()).await, "budget_exceeded");
}

#[actix_web::test]
async fn jwt_callers_share_their_organisations_quota_and_others_get_the_default() {
    let mock = MockUpstream::start();
    let key = TestKey::rsa("k1", Algorithm::RS256);
    let idp = Idp::start(&[&key]);
    let config = format!(
        "{}{}quotas:\n  claim: org\n  default: {{rpm: 1}}\n  claims:\n    acme: {{rpm: 2}}\n",
        providers_yaml(&mock, &["openai"], ""),
        auth_yaml(Some(&idp.issuer), false)
    );
    let gw = start_gateway(&config);
    let token = |sub: &str, org: Option<&str>| {
        let mut c = claims(&idp.issuer);
        c["sub"] = json!(sub);
        if let Some(org) = org {
            c["org"] = json!(org);
        }
        key.sign(&c)
    };
    let (alice, bob) = (token("alice", Some("acme")), token("bob", Some("acme")));
    wait_for_keys(&gw, &alice).await;
    assert_eq!(create(&gw, &alice, &hello()).await.status, 200);
    let second = create(&gw, &bob, &hello()).await;
    assert_eq!(second.status, 200, "{}", second.text);
    assert_eq!(header(&second, "x-ratelimit-remaining-requests"), "0");
    let refused = create(&gw, &alice, &hello()).await;
    assert_refused(&refused, "quota_exceeded");
    let message = refused.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("org:acme"), "{message}");
    // Carol has no organisation claim: the default, as herself.
    let carol = token("carol", None);
    let first = create(&gw, &carol, &hello()).await;
    assert_eq!(header(&first, "x-ratelimit-limit-requests"), "1");
    assert_refused(&create(&gw, &carol, &hello()).await, "quota_exceeded");
    let report = usage(&gw, &alice).await;
    assert_eq!(report["limits"][0]["caller"], "org:acme");
}

#[actix_web::test]
async fn tokens_per_minute_are_charged_from_the_real_usage_in_one_process() {
    let mock = MockUpstream::start();
    let config = yaml(&mock, "  default: {tpm: 200}\n", "");
    let gw = start_gateway(&config);
    let first = create(&gw, API_KEY, &hello()).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let used = first.json()["usage"]["total_tokens"].as_u64().unwrap();
    assert_eq!(header(&first, "x-ratelimit-limit-tokens"), "200");
    // The estimate was taken on admission; the real usage replaces it at the end.
    let report = usage(&gw, API_KEY).await;
    let tokens = &report["limits"][0]["tokens"];
    let remaining = tokens["remaining"].as_u64().unwrap();
    assert!(
        (199..=201).contains(&(remaining + used)),
        "200 less the {used} used: {remaining}"
    );
    // Streamed answers carry the headers too.
    let stream = create(
        &gw,
        API_KEY,
        &json!({"model": "gpt-4o-mini", "input": "Hello!", "stream": true}),
    )
    .await;
    assert_eq!(stream.status, 200, "{}", stream.text);
    assert_eq!(header(&stream, "x-ratelimit-limit-tokens"), "200");
    let mut refused = None;
    for _ in 0..10 {
        let reply = create(&gw, API_KEY, &hello()).await;
        if reply.status == 429 {
            refused = Some(reply);
            break;
        }
    }
    let refused = refused.expect("the minute's tokens run out");
    assert_refused(&refused, "quota_exceeded");
    assert!(
        refused.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("tokens per minute")
    );
}

#[actix_web::test]
async fn a_background_response_over_the_quota_is_refused_when_created() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&yaml(&mock, "  api_keys:\n    ci: {rpm: 1}\n", ""));
    assert_eq!(create(&gw, API_KEY, &hello()).await.status, 200);
    let body = json!({"model": "gpt-4o-mini", "input": "Hello!", "background": true});
    let refused = create(&gw, API_KEY, &body).await;
    assert_refused(&refused, "quota_exceeded");
    assert_eq!(mock.hits("/v1/responses"), 1);
}
