//! `GET /metrics` (increments after a mixed workload, the text format, bounded labels, auth and
//! the off switch) and `GET /v1/usage` (per caller and model, admin scope, Redis across
//! replicas) through the real server. Tests use their own provider names and compare deltas.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod observability_support;

use std::{
    collections::BTreeSet,
    time::{Duration, Instant},
};

use common::{
    gateway::start_gateway,
    mock_upstream::{Behaviour, MockUpstream},
};
use observability_support::{
    GPT_4O_FIXTURE_COST, get_with, openai_instance, post,
    prometheus_text::{self, sample_sum},
    scrape,
};
use serde_json::{Value, json};

// === /metrics ===

#[actix_web::test]
async fn a_mixed_workload_moves_the_right_counters() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&openai_instance(
        &mock,
        "obs-count",
        "routing:\n  retries: 0\n",
    ));
    let before = scrape(&gw).await;
    assert_eq!(
        post(&gw, &json!({"model":"gpt-4o","input":"hi"}), None, None)
            .await
            .status(),
        200
    );
    let stream = post(
        &gw,
        &json!({"model":"gpt-4o","input":"hi","stream":true}),
        None,
        None,
    )
    .await;
    stream.text().await.unwrap();
    mock.push_behaviour(Behaviour::Fail500);
    assert_eq!(
        post(&gw, &json!({"model":"gpt-4o","input":"hi"}), None, None)
            .await
            .status(),
        502
    );
    let after = scrape(&gw).await;
    let p = ("provider", "obs-count");
    let m = ("model", "gpt-4o");
    let delta = |name: &str, labels: &[(&str, &str)]| {
        sample_sum(&after, name, labels) - sample_sum(&before, name, labels)
    };
    assert_eq!(
        delta("gateway_requests_total", &[p, m, ("status", "200")]),
        2.0
    );
    assert_eq!(
        delta("gateway_requests_total", &[p, m, ("status", "502")]),
        1.0
    );
    assert_eq!(
        delta("gateway_tokens_total", &[p, m, ("kind", "input")]),
        28.0
    );
    assert_eq!(
        delta("gateway_tokens_total", &[p, m, ("kind", "output")]),
        100.0
    );
    assert_eq!(
        delta("gateway_upstream_errors_total", &[p, ("class", "server")]),
        1.0
    );
    assert_eq!(
        delta("gateway_request_duration_seconds_count", &[p, m]),
        3.0
    );
    assert_eq!(
        delta("gateway_time_to_first_byte_seconds_count", &[p, m]),
        2.0
    );
    assert!((delta("gateway_cost_usd_total", &[p, m]) - 2.0 * GPT_4O_FIXTURE_COST).abs() < 1e-9);
    assert!(after.contains("# TYPE gateway_cost_usd_total counter"));
    // Sampled from the actors at scrape time.
    assert_eq!(sample_sum(&after, "gateway_provider_in_flight", &[p]), 0.0);
    assert_eq!(
        sample_sum(&after, "gateway_provider_breaker_state", &[p]),
        0.0
    );
    assert!(after.contains("gateway_conversation_store_entries"));
}

#[actix_web::test]
async fn random_model_names_do_not_grow_the_label_set() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&openai_instance(&mock, "obs-card", ""));
    for i in 0..40 {
        // `gpt-*` routes to OpenAI (served), anything else is 404: both are counted.
        let model = if i % 2 == 0 {
            format!("gpt-rnd{i}x")
        } else {
            format!("zz-rnd{i}x")
        };
        post(&gw, &json!({"model": model, "input":"hi"}), None, None).await;
    }
    let text = scrape(&gw).await;
    let models: BTreeSet<String> = text
        .lines()
        .filter(|l| l.starts_with("gateway_"))
        .filter_map(|l| l.split("model=\"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect();
    assert!(models.iter().all(|m| !m.contains("rnd")), "{models:?}");
    assert!(models.contains("other"));
    assert!(
        sample_sum(
            &text,
            "gateway_requests_total",
            &[("provider", "obs-card"), ("model", "other")]
        ) >= 20.0
    );
}

#[actix_web::test]
async fn metrics_follow_require_auth_and_can_be_disabled() {
    let mock = MockUpstream::start();
    let auth = "auth:\n  enabled: true\n  api_keys:\n    - name: ci\n      key: sk-gw-ci-0123456789abcdef\n";
    let open = start_gateway(&openai_instance(&mock, "obs-open", auth));
    assert_eq!(get_with(&open, "/metrics", None).await.0, 200);
    assert_eq!(
        get_with(&open, "/v1/usage", None).await.0,
        401,
        "usage always needs credentials"
    );
    let closed = start_gateway(&openai_instance(
        &mock,
        "obs-closed",
        &format!("{auth}metrics:\n  require_auth: true\n"),
    ));
    assert_eq!(get_with(&closed, "/metrics", None).await.0, 401);
    assert_eq!(
        get_with(&closed, "/metrics", Some("sk-gw-ci-0123456789abcdef"))
            .await
            .0,
        200
    );
    let off = start_gateway(&openai_instance(
        &mock,
        "obs-off",
        "metrics:\n  enabled: false\n",
    ));
    assert_eq!(get_with(&off, "/metrics", None).await.0, 404);
}

/// The values of the samples called `name` carrying every label in `labels`.
fn values(text: &str, name: &str, labels: &[(&str, &str)]) -> Vec<f64> {
    prometheus_text::parse(text)
        .into_iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .collect()
}

#[actix_web::test]
async fn a_fresh_gateway_shows_zeros_build_info_and_process_metrics() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&openai_instance(
        &mock,
        "obs-zero",
        "models:\n  obs-zero-group:\n    targets: [{ provider: obs-zero, model: gpt-4o }]\n",
    ));
    // Scraped before any request: nothing has moved these series yet.
    let text = scrape(&gw).await;
    let p = ("provider", "obs-zero");
    for class in [
        "server",
        "timeout",
        "connect",
        "rate_limited",
        "queue_full",
        "circuit_open",
    ] {
        assert_eq!(
            values(
                &text,
                "gateway_upstream_errors_total",
                &[p, ("class", class)]
            ),
            [0.0],
            "{class}"
        );
    }
    for name in ["gateway_failovers_total", "gateway_retries_total"] {
        assert_eq!(values(&text, name, &[p]), [0.0], "{name}");
    }
    for model in ["gpt-4o", "gpt-4o-mini", "obs-zero-group"] {
        let m = ("model", model);
        assert_eq!(
            values(&text, "gateway_requests_total", &[p, m, ("status", "200")]),
            [0.0],
            "{model}"
        );
        for kind in ["input", "output", "cached", "reasoning"] {
            assert_eq!(
                values(&text, "gateway_tokens_total", &[p, m, ("kind", kind)]),
                [0.0]
            );
        }
        assert_eq!(values(&text, "gateway_cost_usd_total", &[p, m]), [0.0]);
        assert_eq!(
            values(&text, "gateway_client_disconnects_total", &[p, m]),
            [0.0]
        );
        assert_eq!(
            values(&text, "gateway_request_duration_seconds_count", &[p, m]),
            [0.0]
        );
        assert_eq!(
            values(&text, "gateway_time_to_first_byte_seconds_count", &[p, m]),
            [0.0]
        );
    }
    let build = ("version", env!("CARGO_PKG_VERSION"));
    assert_eq!(
        values(
            &text,
            "gateway_build_info",
            &[build, ("commit", llm_gateway::COMMIT)]
        ),
        [1.0],
        "{text}"
    );
    if cfg!(target_os = "linux") {
        for name in [
            "process_resident_memory_bytes",
            "process_open_fds",
            "process_cpu_seconds_total",
            "process_start_time_seconds",
        ] {
            let found = values(&text, name, &[]);
            assert!(found.len() == 1 && found[0] > 0.0, "{name}: {found:?}");
        }
        assert!(text.contains("# TYPE process_cpu_seconds_total counter"));
    }
}

// === usage ===

#[actix_web::test]
async fn usage_totals_per_caller_and_model_with_admin_scope() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&openai_instance(
        &mock,
        "obs-usage",
        "auth:\n  enabled: true\n  api_keys:\n    - name: ci\n      key: sk-gw-ci-0123456789abcdef\n    - name: ops\n      key: sk-gw-ops-0123456789abcdef\nusage:\n  admins: [\"key:ops\"]\n",
    ));
    let (ci, ops) = ("sk-gw-ci-0123456789abcdef", "sk-gw-ops-0123456789abcdef");
    for _ in 0..2 {
        assert_eq!(
            post(&gw, &json!({"model":"gpt-4o","input":"hi"}), None, Some(ci))
                .await
                .status(),
            200
        );
    }
    let stream = post(
        &gw,
        &json!({"model":"gpt-4o-mini","input":"hi","stream":true}),
        None,
        Some(ops),
    )
    .await;
    stream.text().await.unwrap();
    let (status, text) = get_with(&gw, "/v1/usage", Some(ci)).await;
    assert_eq!(status, 200, "{text}");
    let own: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(own["scope"], "caller");
    assert_eq!(own["data"].as_array().unwrap().len(), 1);
    let row = &own["data"][0];
    assert_eq!(
        (row["caller"].clone(), row["model"].clone()),
        (json!("key:ci"), json!("gpt-4o"))
    );
    assert_eq!(
        (
            row["requests"].clone(),
            row["input_tokens"].clone(),
            row["output_tokens"].clone()
        ),
        (json!(2), json!(28), json!(100))
    );
    assert!((row["cost_usd"].as_f64().unwrap() - 2.0 * GPT_4O_FIXTURE_COST).abs() < 1e-9);
    let all: Value = serde_json::from_str(&get_with(&gw, "/v1/usage", Some(ops)).await.1).unwrap();
    assert_eq!(all["scope"], "all");
    let callers: Vec<&str> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["caller"].as_str().unwrap())
        .collect();
    assert_eq!(callers, ["key:ci", "key:ops"]);
    assert_eq!(all["total"]["requests"], 3);
}

#[actix_web::test]
async fn usage_in_redis_adds_up_across_replicas() {
    let mock = MockUpstream::start();
    let prefix = format!("llm-gateway-test:{}:", uuid::Uuid::new_v4().simple());
    let store = format!(
        "conversations:\n  store: redis\n  redis_url: \"redis://127.0.0.1:6379\"\n  key_prefix: \"{prefix}\"\n"
    );
    let first = start_gateway(&openai_instance(&mock, "obs-redis", &store));
    let second = start_gateway(&openai_instance(&mock, "obs-redis", &store));
    for gw in [&first, &second] {
        assert_eq!(
            post(gw, &json!({"model":"gpt-4o","input":"hi"}), None, None)
                .await
                .status(),
            200
        );
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    let row = loop {
        let body: Value =
            serde_json::from_str(&get_with(&first, "/v1/usage", None).await.1).unwrap();
        let row = body["data"][0].clone();
        if row["requests"] == 2 || Instant::now() > deadline {
            assert_eq!(body["store"], "redis");
            break row;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        (row["requests"].clone(), row["output_tokens"].clone()),
        (json!(2), json!(100))
    );
    if let Ok(mut conn) =
        redis::Client::open("redis://127.0.0.1:6379").and_then(|c| c.get_connection())
    {
        let _: Result<(), _> = redis::cmd("DEL")
            .arg(format!("{prefix}usage"))
            .query(&mut conn);
    }
}
