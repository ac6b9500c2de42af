//! OpenTelemetry tracing end to end: the real gateway exports its spans over OTLP/HTTP to a
//! loopback collector. Checks the span tree (request → auth, gen_ai → routing, each upstream
//! attempt, conversation load/store), the GenAI attributes, continuation of the caller's
//! `traceparent`, its propagation to every provider, the trace id in the log line, and that a
//! dead collector changes nothing for callers. One subscriber serves the whole binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod tracing_support;

use std::time::{Duration, Instant};

use common::{
    gateway::{providers_yaml, start_gateway},
    mock_upstream::{Behaviour, MockUpstream},
};
use serde_json::{Value, json};
use tracing_support::{
    CLIENT, DEAD_COLLECTOR_ENV, ExportedSpan, INTERNAL, SERVER, SERVICE, STATUS_ERROR,
    finished_line, flush, one, post, trace_of_request, tracing,
};

fn random_hex(len: usize) -> String {
    uuid::Uuid::new_v4().simple().to_string()[..len].to_owned()
}

fn children<'a>(spans: &'a [ExportedSpan], parent: &ExportedSpan) -> Vec<&'a ExportedSpan> {
    spans
        .iter()
        .filter(|s| s.parent_span_id == parent.span_id)
        .collect()
}

/// Neither keys nor prompt text may reach any exported attribute.
fn assert_no_content(spans: &[ExportedSpan], secrets: &[&str]) {
    let all = format!("{spans:?}");
    for secret in secrets {
        assert!(!all.contains(secret), "`{secret}` exported: {all}");
    }
}

#[actix_web::test]
async fn a_streamed_tool_call_is_one_trace_continuing_the_callers() {
    tracing();
    let mock = MockUpstream::start();
    // The first attempt fails with a 500 and is retried on the same instance.
    mock.push_behaviour(Behaviour::Fail500);
    let yaml = format!(
        "{}routing:\n  retries: 1\n  retry_backoff: 10ms\n",
        providers_yaml(&mock, &["openai"], "")
    );
    let gw = start_gateway(&yaml);
    let (trace_id, caller_span) = (random_hex(32), random_hex(16));
    let traceparent = format!("00-{trace_id}-{caller_span}-01");
    let tools = json!([{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}}}}]);
    let body =
        json!({"model":"gpt-4o","stream":true,"tools":tools,"input":"Weather in Paris, secretly?"});
    let headers = [
        ("traceparent", traceparent.as_str()),
        ("tracestate", "vendor=opaque"),
        ("x-request-id", "trace-stream-1"),
    ];
    let (status, _, text) = post(&gw.url, "/v1/responses", &body, &headers).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("function_call") && text.ends_with("data: [DONE]\n\n"));

    let spans = trace_of_request("trace-stream-1").await;
    assert!(
        spans
            .iter()
            .all(|s| s.trace_id == trace_id && s.service == SERVICE)
    );
    let root = one(&spans, "POST /v1/responses");
    assert_eq!(
        root.parent_span_id, caller_span,
        "continues the caller's span"
    );
    assert_eq!(root.kind, SERVER);
    assert_eq!(root.attr("http.response.status_code"), 200);
    assert_eq!(root.attr("http.route"), "/v1/responses");
    assert_eq!(root.attr("http.request.method"), "POST");
    let auth = one(&spans, "auth");
    let gen_ai = one(&spans, "responses gpt-4o");
    let mut under_root: Vec<_> = children(&spans, root).iter().map(|s| &s.name).collect();
    under_root.sort();
    assert_eq!(under_root, [&auth.name, &gen_ai.name]);
    assert_eq!(gen_ai.kind, INTERNAL);
    for (key, expected) in [
        ("gen_ai.operation.name", json!("responses")),
        ("gen_ai.provider.name", json!("openai")),
        ("gen_ai.request.model", json!("gpt-4o")),
        ("gen_ai.response.finish_reasons", json!(["tool_calls"])),
        ("gateway.provider.instance", json!("openai")),
        ("gateway.request.id", json!("trace-stream-1")),
        ("gateway.stream", json!(true)),
        ("gateway.attempts", json!(2)),
    ] {
        assert_eq!(gen_ai.attr(key), &expected, "{key} in {gen_ai:#?}");
    }
    assert!(
        gen_ai
            .attr("gen_ai.response.id")
            .as_str()
            .unwrap()
            .starts_with("resp_")
    );
    // The model the upstream reports (the fixture's), not the one asked for.
    assert_eq!(
        gen_ai.attr("gen_ai.response.model"),
        "gpt-5-mini-2025-08-07"
    );
    assert!(gen_ai.attr("gen_ai.usage.input_tokens").as_i64().unwrap() > 0);
    assert!(gen_ai.attr("gen_ai.usage.output_tokens").as_i64().unwrap() > 0);
    assert_eq!(gen_ai.attr("error.type"), &Value::Null);

    // Under the gen_ai span: routing, both attempts in order, the store; no load (first turn).
    let steps: Vec<_> = children(&spans, gen_ai)
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(steps.len(), 4, "{steps:?}");
    for name in ["routing", "conversation store"] {
        assert!(steps.contains(&name), "{steps:?}");
    }
    assert!(!spans.iter().any(|s| s.name == "conversation load"));
    assert_eq!(one(&spans, "routing").attr("gateway.route.candidates"), 1);
    assert_eq!(
        one(&spans, "conversation store").attr("gateway.conversation.store"),
        "memory"
    );
    let mut attempts: Vec<_> = spans.iter().filter(|s| s.name == "chat gpt-4o").collect();
    attempts.sort_by_key(|s| s.attr("gateway.attempt").as_i64());
    let [failed, won] = attempts.as_slice() else {
        panic!("two attempts: {attempts:#?}")
    };
    for (attempt, number, status) in [(failed, 1, 500), (won, 2, 200)] {
        assert_eq!(attempt.kind, CLIENT);
        assert_eq!(attempt.parent_span_id, gen_ai.span_id);
        assert_eq!(attempt.attr("gateway.attempt"), number);
        assert_eq!(attempt.attr("http.response.status_code"), status);
        assert_eq!(attempt.attr("gen_ai.operation.name"), "chat");
        assert_eq!(attempt.attr("gen_ai.provider.name"), "openai");
        assert_eq!(attempt.attr("gen_ai.request.model"), "gpt-4o");
        assert_eq!(attempt.attr("server.address"), "127.0.0.1");
    }
    assert_eq!(failed.attr("error.type"), "upstream_error");
    assert_eq!(failed.status_code, STATUS_ERROR);
    assert!(won.attr("gateway.ttfb_ms").as_i64().is_some());
    assert_eq!(won.attr("error.type"), &Value::Null);

    // Each upstream call carried the trace context of its own attempt span.
    let upstream = mock.requests();
    assert_eq!(upstream.len(), 2);
    for (request, attempt) in upstream.iter().zip([failed, won]) {
        let expected = format!("00-{trace_id}-{}-01", attempt.span_id);
        assert_eq!(request.header("traceparent"), Some(expected.as_str()));
        assert_eq!(request.header("tracestate"), Some("vendor=opaque"));
    }

    // The log line names the trace, and logs carry no span context.
    let line = finished_line("trace-stream-1").await;
    assert_eq!(line["fields"]["trace_id"], trace_id.as_str());
    assert!(
        line.get("span").is_none() && line.get("spans").is_none(),
        "{line}"
    );
    assert_no_content(&spans, &["test-openai-key", "secretly", "Paris"]);
}

#[actix_web::test]
async fn every_provider_gets_the_trace_context_and_its_genai_name() {
    tracing();
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(
        &mock,
        &["anthropic", "google", "azureopenai"],
        "",
    ));
    let mut previous: Option<String> = None;
    for (turn, (model, provider)) in [
        ("claude-sonnet-4-5", "anthropic"),
        ("gemini-2.5-flash", "gcp.gemini"),
        ("gpt-4o", "azure.ai.openai"),
    ]
    .into_iter()
    .enumerate()
    {
        let id = format!("trace-json-{turn}");
        let mut body = json!({"model": model, "input": "Say hi"});
        if let Some(previous) = &previous {
            body["previous_response_id"] = json!(previous);
        }
        let (status, _, text) =
            post(&gw.url, "/v1/responses", &body, &[("x-request-id", &id)]).await;
        assert_eq!(status, 200, "{text}");
        previous = serde_json::from_str::<Value>(&text).unwrap()["id"]
            .as_str()
            .map(str::to_owned);

        let spans = trace_of_request(&id).await;
        let root = one(&spans, "POST /v1/responses");
        assert_eq!(root.parent_span_id, "", "no traceparent: a new trace");
        let gen_ai = one(&spans, &format!("responses {model}"));
        assert_eq!(gen_ai.attr("gen_ai.provider.name"), provider);
        assert_eq!(
            gen_ai.attr("gen_ai.response.finish_reasons"),
            &json!(["stop"])
        );
        assert_eq!(gen_ai.attr("gateway.stream"), false);
        let attempt = one(&spans, &format!("chat {model}"));
        assert_eq!(attempt.attr("gen_ai.provider.name"), provider);
        assert_eq!(attempt.attr("http.response.status_code"), 200);
        // Continuations load their conversation (a child of the gen_ai span).
        let loads: Vec<_> = spans
            .iter()
            .filter(|s| s.name == "conversation load")
            .collect();
        assert_eq!(loads.len(), usize::from(turn > 0), "turn {turn}");
        assert!(loads.iter().all(|s| s.parent_span_id == gen_ai.span_id));

        let sent = mock.last_request().unwrap();
        let expected = format!("00-{}-{}-01", root.trace_id, attempt.span_id);
        assert_eq!(
            sent.header("traceparent"),
            Some(expected.as_str()),
            "{provider}"
        );
        assert_eq!(sent.header("tracestate"), None);
        assert_eq!(
            finished_line(&id).await["fields"]["trace_id"],
            root.trace_id.as_str()
        );
        assert_no_content(
            &spans,
            &[
                "test-anthropic-key",
                "test-google-key",
                "test-azure-key",
                "Say hi",
            ],
        );
    }
}

#[actix_web::test]
async fn failures_carry_error_type_and_unsampled_callers_and_probes_are_respected() {
    tracing();
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["openai"], ""));
    let body = json!({"model": "no-such-model", "input": "Hi"});
    let (status, _, _) = post(
        &gw.url,
        "/v1/responses",
        &body,
        &[("x-request-id", "trace-404")],
    )
    .await;
    assert_eq!(status, 404);
    let spans = trace_of_request("trace-404").await;
    let root = one(&spans, "POST /v1/responses");
    assert_eq!(root.attr("http.response.status_code"), 404);
    assert_ne!(
        root.status_code, STATUS_ERROR,
        "a 4xx is the caller's error"
    );
    for name in ["routing", "responses no-such-model"] {
        let span = one(&spans, name);
        assert_eq!(span.attr("error.type"), "model_not_found", "{name}");
        assert_eq!(span.status_code, STATUS_ERROR, "{name}");
    }
    assert!(
        !spans.iter().any(|s| s.kind == CLIENT),
        "no upstream attempt"
    );

    // A caller that did not sample its trace: nothing is exported, the context still flows.
    let (trace_id, parent) = (random_hex(32), random_hex(16));
    let unsampled = format!("00-{trace_id}-{parent}-00");
    let body = json!({"model": "gpt-4o", "input": "Hi"});
    let headers = [
        ("traceparent", unsampled.as_str()),
        ("x-request-id", "trace-unsampled"),
    ];
    let (status, _, _) = post(&gw.url, "/v1/responses", &body, &headers).await;
    assert_eq!(status, 200);
    let sent = mock.last_request().unwrap();
    let header = sent.header("traceparent").unwrap();
    assert!(
        header.starts_with(&format!("00-{trace_id}-")) && header.ends_with("-00"),
        "{header}"
    );
    // Probes are not traced at all.
    let probe = reqwest::Client::new()
        .get(format!("{}/healthz", gw.url))
        .header("x-request-id", "trace-probe")
        .send()
        .await
        .unwrap();
    assert_eq!(probe.status(), 200);
    flush().await.unwrap();
    let collector = tracing().collector.as_ref().unwrap();
    assert!(collector.trace(&trace_id).is_empty());
    assert!(collector.request_span("trace-probe").is_none());
}

#[actix_web::test]
async fn a_dead_collector_does_not_affect_responses() {
    if std::env::var_os(DEAD_COLLECTOR_ENV).is_none() {
        // The subscriber is process-wide: run this test alone in a child process whose
        // exporter points at a closed port.
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "a_dead_collector_does_not_affect_responses",
                "--exact",
                "--nocapture",
            ])
            .env(DEAD_COLLECTOR_ENV, "1")
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{log}");
        assert!(log.contains("1 passed"), "the child ran the test: {log}");
        return;
    }
    let traced = tracing();
    assert!(traced.collector.is_none());
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["openai"], ""));
    for (turn, stream) in [false, true, false, true].into_iter().enumerate() {
        let id = format!("dead-{turn}");
        let body = json!({"model": "gpt-4o", "input": "Hi", "stream": stream});
        let started = Instant::now();
        let (status, headers, text) =
            post(&gw.url, "/v1/responses", &body, &[("x-request-id", &id)]).await;
        assert_eq!(status, 200, "{text}");
        assert_eq!(headers.get("x-request-id").unwrap(), id.as_str());
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        // Spans are still made (and their trace id logged); only the export fails.
        let trace_id = finished_line(&id).await["fields"]["trace_id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(trace_id.len(), 32);
        assert!(
            mock.last_request()
                .unwrap()
                .header("traceparent")
                .unwrap()
                .contains(&trace_id)
        );
    }
    // The failed export surfaces in the log and as an error, never to callers.
    assert!(flush().await.is_err());
    let logs = format!("{:?}", traced.logs.lines());
    assert!(logs.contains("ExportError"), "{logs}");
}
