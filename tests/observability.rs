//! The per-request log line (captured from a global JSON subscriber) and request ids (JSON,
//! SSE, errors, 401s from the auth middleware, forwarded upstream) through the real server. The
//! metrics recorder is process-wide, so tests use their own provider names and compare deltas.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod observability_support;

use common::{
    gateway::{get, start_gateway},
    mock_upstream::{Behaviour, MockUpstream},
};
use futures::StreamExt;
use observability_support::{
    GPT_4O_FIXTURE_COST, finished_line, lines_for, logs, openai_instance, post,
    prometheus_text::sample_sum, scrape,
};
use serde_json::json;

// === the log line ===

#[actix_web::test]
async fn a_request_writes_one_line_with_every_field_and_no_secrets() {
    logs();
    let mock = MockUpstream::start();
    let gw = start_gateway(&openai_instance(&mock, "obs-log", ""));
    let response = post(
        &gw,
        &json!({"model":"gpt-4o","input":"secret prompt"}),
        Some("log-json-1"),
        None,
    )
    .await;
    assert_eq!(response.status(), 200);
    let line = finished_line("log-json-1").await;
    for (field, expected) in [
        ("caller", json!("anonymous")),
        ("model", json!("gpt-4o")),
        ("upstream_model", json!("gpt-4o")),
        ("provider", json!("obs-log")),
        ("attempts", json!(1)),
        ("failovers", json!(0)),
        ("status", json!(200)),
        ("response_status", json!("completed")),
        ("stream", json!(false)),
        ("client_disconnect", json!(false)),
        ("input_tokens", json!(14)),
        ("output_tokens", json!(50)),
        ("cached_tokens", json!(0)),
        ("reasoning_tokens", json!(0)),
        ("priced", json!(true)),
    ] {
        assert_eq!(line[field], expected, "{field} in {line}");
    }
    assert!((line["cost_usd"].as_f64().unwrap() - GPT_4O_FIXTURE_COST).abs() < 1e-12);
    assert!(line["latency_ms"].as_u64().is_some() && line["ttfb_ms"].as_u64().is_some());
    let all = serde_json::to_string(&lines_for("log-json-1")).unwrap();
    assert!(
        !all.contains("test-openai-key") && !all.contains("secret prompt"),
        "{all}"
    );

    let stream = post(
        &gw,
        &json!({"model":"gpt-4o","input":"hi","stream":true}),
        Some("log-sse-1"),
        None,
    )
    .await;
    assert_eq!(stream.headers()["x-request-id"], "log-sse-1");
    stream.text().await.unwrap();
    let line = finished_line("log-sse-1").await;
    assert_eq!(line["stream"], true);
    assert_eq!(line["status"], 200);
    assert!(line["ttfb_ms"].as_u64().unwrap() <= line["latency_ms"].as_u64().unwrap());

    // Rejected before routing (bad JSON) and after (unknown model): one line each.
    let bad = reqwest::Client::new()
        .post(format!("{}/v1/responses", gw.url))
        .header("x-request-id", "log-bad-json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(
        finished_line("log-bad-json").await["error_code"],
        "invalid_json"
    );
    let missing = post(
        &gw,
        &json!({"model":"nope-model","input":"hi"}),
        Some("log-404"),
        None,
    )
    .await;
    assert_eq!(missing.status(), 404);
    let line = finished_line("log-404").await;
    assert_eq!(
        (line["status"].clone(), line["error_code"].clone()),
        (json!(404), json!("model_not_found"))
    );
    // A 400's message may quote the body: it stays off the info line.
    let invalid = post(
        &gw,
        &json!({"model":"gpt-4o","input":"hi","temperature":"marker-xyz"}),
        Some("log-400"),
        None,
    )
    .await;
    assert_eq!(invalid.status(), 400);
    assert_eq!(finished_line("log-400").await["error"], "");
    let all = serde_json::to_string(&lines_for("log-400")).unwrap();
    assert!(!all.contains("marker-xyz"), "{all}");
}

#[actix_web::test]
async fn failover_and_client_disconnect_are_on_the_line_and_counted() {
    logs();
    let mock = MockUpstream::start();
    let base = mock.base_url();
    let gw = start_gateway(&format!(
        "providers:\n  obs-fo-a:\n    type: openai\n    api_key: key-a\n    base_url: {base}/v1\n  obs-fo-b:\n    type: openai\n    api_key: key-b\n    base_url: {base}/v1\nrouting:\n  retries: 0\n"
    ));
    let before = scrape(&gw).await;
    mock.push_behaviour(Behaviour::Fail500);
    let response = post(
        &gw,
        &json!({"model":"gpt-4o","input":"hi"}),
        Some("fo-1"),
        None,
    )
    .await;
    assert_eq!(response.status(), 200);
    let line = finished_line("fo-1").await;
    assert_eq!(
        (line["attempts"].clone(), line["failovers"].clone()),
        (json!(2), json!(1))
    );
    assert_eq!(line["provider"], "obs-fo-b");

    let response = post(
        &gw,
        &json!({"model":"gpt-4o-slow","input":"hi","stream":true}),
        Some("dc-1"),
        None,
    )
    .await;
    let mut body = response.bytes_stream();
    body.next().await.unwrap().unwrap();
    drop(body);
    let line = finished_line("dc-1").await;
    assert_eq!(line["client_disconnect"], true);
    assert_eq!(line["status"], 499);

    let after = scrape(&gw).await;
    let delta = |name: &str, labels: &[(&str, &str)]| {
        sample_sum(&after, name, labels) - sample_sum(&before, name, labels)
    };
    assert_eq!(
        delta("gateway_failovers_total", &[("provider", "obs-fo-a")]),
        1.0
    );
    assert_eq!(
        delta(
            "gateway_upstream_errors_total",
            &[("provider", "obs-fo-a"), ("class", "server")]
        ),
        1.0
    );
    // The routing strategy picks either instance for the disconnected stream.
    let both = |name: &str, labels: &[(&str, &str)]| {
        ["obs-fo-a", "obs-fo-b"]
            .iter()
            .map(|p| delta(name, &[&[("provider", *p)], labels].concat()))
            .sum::<f64>()
    };
    assert_eq!(
        both("gateway_client_disconnects_total", &[("model", "other")]),
        1.0
    );
    assert_eq!(
        both(
            "gateway_requests_total",
            &[("status", "499"), ("model", "other")]
        ),
        1.0
    );
}

#[actix_web::test]
async fn a_retry_on_the_same_provider_is_counted_as_a_retry() {
    logs();
    let mock = MockUpstream::start();
    let gw = start_gateway(&openai_instance(
        &mock,
        "obs-retry",
        "routing:\n  retries: 1\n  retry_backoff: \"1ms\"\n",
    ));
    let before = scrape(&gw).await;
    mock.push_behaviour(Behaviour::Fail500);
    let response = post(
        &gw,
        &json!({"model":"gpt-4o","input":"hi"}),
        Some("retry-1"),
        None,
    )
    .await;
    assert_eq!(response.status(), 200);
    let line = finished_line("retry-1").await;
    assert_eq!(
        (
            line["attempts"].clone(),
            line["retries"].clone(),
            line["failovers"].clone()
        ),
        (json!(2), json!(1), json!(0))
    );
    let after = scrape(&gw).await;
    let p = [("provider", "obs-retry")];
    assert_eq!(
        sample_sum(&after, "gateway_retries_total", &p)
            - sample_sum(&before, "gateway_retries_total", &p),
        1.0
    );
}

// === request ids ===

#[actix_web::test]
async fn request_ids_round_trip_on_every_kind_of_response_and_go_upstream() {
    let mock = MockUpstream::start();
    let base = mock.base_url();
    let gw = start_gateway(&format!(
        "{}  azureopenai:\n    api_key: k\n    endpoint: {base}\n    deployment_id: dep\n",
        openai_instance(&mock, "openai", "")
    ));
    let ok = post(
        &gw,
        &json!({"model":"gpt-4o","provider":"openai","input":"hi"}),
        Some("rid-json"),
        None,
    )
    .await;
    assert_eq!(ok.headers()["x-request-id"], "rid-json");
    assert_eq!(
        mock.last_request().unwrap().header("x-client-request-id"),
        Some("rid-json")
    );
    let azure = post(
        &gw,
        &json!({"model":"gpt-4o","provider":"azureopenai","input":"hi"}),
        Some("rid-az"),
        None,
    )
    .await;
    assert_eq!(azure.headers()["x-request-id"], "rid-az");
    assert_eq!(
        mock.last_request()
            .unwrap()
            .header("x-ms-client-request-id"),
        Some("rid-az")
    );
    let sse = post(
        &gw,
        &json!({"model":"gpt-4o","input":"hi","stream":true}),
        Some("rid-sse"),
        None,
    )
    .await;
    assert_eq!(sse.headers()["x-request-id"], "rid-sse");
    let err = post(
        &gw,
        &json!({"model":"nope","input":"hi"}),
        Some("rid-404"),
        None,
    )
    .await;
    assert_eq!(
        (err.status().as_u16(), &err.headers()["x-request-id"]),
        (404, &"rid-404".parse().unwrap())
    );
    for path in ["/healthz", "/no/such/route", "/v1/models", "/metrics"] {
        let reply = get(&gw, path).await;
        let id = reply.header("x-request-id").unwrap_or_default();
        assert!(id.starts_with("req_"), "{path}: minted id, got {id:?}");
    }
    let bad = post(
        &gw,
        &json!({"model":"gpt-4o","input":"hi"}),
        Some("has spaces"),
        None,
    )
    .await;
    assert!(
        bad.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .starts_with("req_")
    );
}

#[actix_web::test]
async fn the_auth_middleware_401_carries_the_id_and_is_counted() {
    logs();
    let mock = MockUpstream::start();
    let gw = start_gateway(&openai_instance(
        &mock,
        "obs-auth",
        "auth:\n  enabled: true\n  api_keys:\n    - name: ci\n      key: sk-gw-ci-0123456789abcdef\n",
    ));
    let before = scrape(&gw).await;
    let denied = post(
        &gw,
        &json!({"model":"gpt-4o","input":"hi"}),
        Some("rid-401"),
        None,
    )
    .await;
    assert_eq!(denied.status(), 401);
    assert_eq!(denied.headers()["x-request-id"], "rid-401");
    let logged = lines_for("rid-401");
    assert!(
        logged
            .iter()
            .any(|l| l["fields"]["message"] == "Request not authenticated."),
        "{logged:?}"
    );
    let after = scrape(&gw).await;
    let reason = [("reason", "missing_credentials")];
    assert!(
        sample_sum(&after, "gateway_auth_failures_total", &reason)
            > sample_sum(&before, "gateway_auth_failures_total", &reason)
    );
}
