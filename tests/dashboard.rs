//! deploy/grafana/llm-gateway.json stays in step with the metrics: valid JSON, a data source
//! variable every panel uses, and only metric names the gateway exports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use llm_gateway::observability::metrics as m;
use serde_json::Value;

const DASHBOARD: &str = include_str!("../deploy/grafana/llm-gateway.json");

/// Every series name the gateway exports (histograms with their suffixes).
fn exported() -> BTreeSet<String> {
    let mut names: BTreeSet<String> = [
        m::REQUESTS,
        m::TOKENS,
        m::COST,
        m::UPSTREAM_ERRORS,
        m::FAILOVERS,
        m::RETRIES,
        m::CLIENT_DISCONNECTS,
        m::AUTH_FAILURES,
        m::PROVIDER_IN_FLIGHT,
        m::PROVIDER_QUEUED,
        m::PROVIDER_BREAKER,
        m::STORE_ENTRIES,
        m::STORE_BYTES,
        m::STORE_EVICTIONS,
        m::STORE_EXPIRATIONS,
        m::STORE_FAILURES,
        m::USAGE_FLUSH_FAILURES,
        m::BUILD_INFO,
        "process_resident_memory_bytes",
        "process_virtual_memory_bytes",
        "process_open_fds",
        "process_cpu_seconds_total",
        "process_start_time_seconds",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    for histogram in [m::REQUEST_DURATION, m::TIME_TO_FIRST_BYTE] {
        for suffix in ["_bucket", "_sum", "_count"] {
            names.insert(format!("{histogram}{suffix}"));
        }
    }
    names
}

/// Every panel, rows' nested panels included.
fn panels(dashboard: &Value) -> Vec<&Value> {
    let mut all = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        all.push(panel);
        all.extend(panel["panels"].as_array().into_iter().flatten());
    }
    all
}

/// The metric names in a PromQL expression: identifiers starting `gateway_` or `process_`.
fn metric_names(expr: &str) -> Vec<&str> {
    expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| word.starts_with("gateway_") || word.starts_with("process_"))
        .collect()
}

#[test]
fn the_dashboard_is_valid_json_with_a_datasource_variable() {
    let dashboard: Value = serde_json::from_str(DASHBOARD).unwrap();
    let variables = dashboard["templating"]["list"].as_array().unwrap();
    assert!(
        variables.iter().any(|v| v["name"] == "datasource"
            && v["type"] == "datasource"
            && v["query"] == "prometheus"),
        "no prometheus datasource variable"
    );
    let panels = panels(&dashboard);
    assert!(panels.len() > 10);
    for panel in panels.iter().filter(|p| p["type"] != "row") {
        assert_eq!(
            panel["datasource"]["uid"], "${datasource}",
            "{}",
            panel["title"]
        );
        let targets = panel["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{}", panel["title"]);
        for target in targets {
            assert_eq!(target["datasource"]["uid"], "${datasource}");
        }
    }
}

#[test]
fn every_expression_names_exported_metrics() {
    let dashboard: Value = serde_json::from_str(DASHBOARD).unwrap();
    let exported = exported();
    let mut used = BTreeSet::new();
    for panel in panels(&dashboard) {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().unwrap();
            let depth = expr.chars().try_fold(0i32, |depth, c| {
                let depth = depth + i32::from(c == '(') - i32::from(c == ')');
                (depth >= 0).then_some(depth)
            });
            assert_eq!(depth, Some(0), "unbalanced parentheses: {expr}");
            for name in metric_names(expr) {
                assert!(exported.contains(name), "{name} is not exported: {expr}");
                used.insert(name.to_owned());
            }
        }
    }
    for needed in [
        m::REQUESTS,
        "gateway_request_duration_seconds_bucket",
        "gateway_time_to_first_byte_seconds_bucket",
        m::UPSTREAM_ERRORS,
        m::PROVIDER_IN_FLIGHT,
        m::TOKENS,
        m::COST,
        m::BUILD_INFO,
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
    ] {
        assert!(used.contains(needed), "no panel shows {needed}");
    }
}
