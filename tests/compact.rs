//! `POST /v1/responses/compact` through the real server: the compacted window validates as a
//! `CompactResource`, its summary comes from the chosen model, and the gateway accepts the window
//! as later input (HTTP and WebSocket) with every provider.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod ws_client;

use common::{
    gateway::{
        TestGateway, get, post_raw, post_responses, providers_yaml, start_gateway, system_text_at,
    },
    json::pointers_to_text_starting,
    mock_upstream::MockUpstream,
    spec::{SpecValidator, assert_valid_error_body},
};
use serde_json::{Value, json};

async fn post_compact(gw: &TestGateway, body: &Value) -> common::gateway::Reply {
    post_raw(gw, "/v1/responses/compact", body.to_string()).await
}

/// Every text the upstream request carries, flattened (for "does it mention X" checks).
fn upstream_text(mock: &MockUpstream) -> String {
    mock.last_request().unwrap().body.to_string()
}

#[actix_web::test]
async fn compaction_round_trips_through_each_provider() {
    for (provider, model) in [
        ("openai", "gpt-4o-mini"),
        ("azureopenai", "gpt-4o-mini"),
        ("anthropic", "claude-sonnet-4-5"),
        ("google", "gemini-2.5-flash"),
    ] {
        let mock = MockUpstream::start();
        let gw = start_gateway(&providers_yaml(&mock, &[provider], ""));
        let first = post_responses(
            &gw,
            &json!({"model": model, "input": "Create a landing page for a dog cafe."}),
        )
        .await
        .json();
        let reply = post_compact(
            &gw,
            &json!({"model": model, "previous_response_id": first["id"],
                    "input": [{"role": "user", "content": "Make it blue."}],
                    "instructions": "You are a web designer."}),
        )
        .await;
        assert_eq!(reply.status, 200, "{provider}: {}", reply.text);
        let compacted = reply.json();
        SpecValidator::get().assert_valid("CompactResource", &compacted);
        assert_eq!(compacted["object"], "response.compaction");
        assert!(compacted["usage"]["total_tokens"].as_u64().unwrap() > 0);
        let output = compacted["output"].as_array().unwrap();
        let kinds: Vec<&str> = output.iter().map(|i| i["type"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["message", "message", "compaction"], "{provider}");
        assert_eq!(output[0]["role"], "user");
        assert_eq!(output[1]["content"][0]["text"], "Make it blue.");
        let opaque = output[2]["encrypted_content"].as_str().unwrap();
        assert!(opaque.starts_with("gateway:v1:"), "{opaque}");

        // The summariser saw the whole conversation as a transcript, stateless.
        let summariser = upstream_text(&mock);
        for needle in [
            "USER: Create a landing page",
            "ASSISTANT: ",
            "USER: Make it blue.",
            "web designer",
        ] {
            assert!(
                summariser.contains(needle),
                "{provider}: {needle} missing in {summariser}"
            );
        }

        // The window is valid input: the compaction item arrives upstream as its summary.
        let mut input = output.clone();
        input.push(json!({"role": "user", "content": "Add a contact form."}));
        let next = post_responses(&gw, &json!({"model": model, "input": input})).await;
        assert_eq!(next.status, 200, "{provider}: {}", next.text);
        let sent = mock.last_request().unwrap().body;
        // A system message after the kept user messages, in each provider's place for it.
        let found = pointers_to_text_starting(&sent, "Summary of the earlier conversation:");
        assert_eq!(found, [system_text_at(provider, 2)], "{provider}: {sent}");
        let opaque = pointers_to_text_starting(&sent, "gateway:v1:");
        assert!(
            opaque.is_empty(),
            "{provider}: the opaque form never goes upstream: {opaque:?}"
        );
    }
}

#[actix_web::test]
async fn a_compacted_window_starts_a_websocket_chain() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["anthropic"], ""));
    let model = "claude-sonnet-4-5";
    let compacted = post_compact(
        &gw,
        &json!({"model": model, "input": [
            {"role": "user", "content": "Plan a trip to Rome."},
            {"role": "assistant", "content": "Day 1: Colosseum."},
            {"type": "function_call", "call_id": "call_1", "name": "book", "arguments": "{}"}
        ]}),
    )
    .await
    .json();
    SpecValidator::get().assert_valid("CompactResource", &compacted);
    let output = compacted["output"].as_array().unwrap().clone();
    let kinds: Vec<&str> = output.iter().map(|i| i["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["message", "compaction", "function_call"],
        "a pending call stays"
    );
    let mut input = output;
    input.push(json!({"type": "function_call_output", "call_id": "call_1", "output": "booked"}));
    let mut ws = ws_client::connect(&gw).await;
    let turn = ws
        .turn(
            json!({"type": "response.create", "model": model, "input": input,
                     "tools": [{"type": "function", "name": "book",
                                "parameters": {"type": "object", "properties": {}}}]}),
        )
        .await;
    assert_eq!(turn.response()["status"], "completed");
    let system = mock.last_request().unwrap().body["system"].to_string();
    assert!(
        system.contains("Summary of the earlier conversation:"),
        "{system}"
    );
}

#[actix_web::test]
async fn bad_compaction_requests_are_rejected() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["openai"], ""));
    let cases = [
        (json!({"input": "hi"}), 400, Some("model")),
        (json!({"model": "gpt-4o"}), 400, Some("input")),
        (json!({"model": "gpt-4o", "input": []}), 400, Some("input")),
        (
            json!({"model": "gpt-4o", "input": "hi", "prompt_cache_key": "k".repeat(65)}),
            400,
            Some("prompt_cache_key"),
        ),
        (
            json!({"model": "gpt-4o", "previous_response_id": "resp_nope"}),
            404,
            Some("previous_response_id"),
        ),
        (
            json!({"model": "nope-model", "input": "hi"}),
            404,
            Some("model"),
        ),
        (json!({"model": 5, "input": "hi"}), 400, Some("model")),
    ];
    for (body, status, param) in cases {
        let reply = post_compact(&gw, &body).await;
        assert_eq!(reply.status, status, "{body}: {}", reply.text);
        assert_valid_error_body(&reply.json());
        assert_eq!(reply.json()["error"]["param"].as_str(), param, "{body}");
    }
    assert_eq!(mock.requests().len(), 0);
    assert_eq!(get(&gw, "/v1/responses/compact").await.status, 405);
    // A damaged gateway compaction item is the caller's error, not the provider's.
    let damaged = post_responses(
        &gw,
        &json!({"model": "gpt-4o", "input": [
            {"type": "compaction", "encrypted_content": "gateway:v1:{broken"},
            {"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(damaged.status, 400);
    assert_eq!(mock.requests().len(), 0);
}
