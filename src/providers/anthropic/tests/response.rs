//! Golden responses: every `*.json` fixture → the Open Responses output, status and usage.

use serde_json::{Value, json};

use super::{call, create, emitter, fixture, fixtures_with, summary};
use crate::{
    api::Item,
    error::{GatewayError, UpstreamErrorKind},
    providers::anthropic::{build_request, parse_response},
};

fn usage(input: u64, output: u64, cached: u64, reasoning: u64) -> Value {
    json!({"input_tokens": input, "output_tokens": output, "total_tokens": input + output,
        "input_tokens_details": {"cached_tokens": cached}, "output_tokens_details": {"reasoning_tokens": reasoning}})
}

fn message(id: &str, status: &str, text: &str) -> Value {
    json!({"type": "message", "id": id, "status": status, "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}]})
}

/// The expected summary for each JSON fixture (shared with the stream twins).
pub(super) fn expected(name: &str) -> Value {
    let completed = |model: &str, output: Value, usage: Value| json!({"status": "completed", "incomplete_details": null, "model": model, "output": output, "usage": usage});
    match name {
        "message_web_search.json" => completed(
            "claude-sonnet-4-5-20250929",
            json!([
                message("msg_test00", "completed", "I'll search for that."),
                {"type": "web_search_call", "id": "ws_test01", "status": "completed",
                    "action": {"type": "search", "query": "claude shannon birth date"}},
                {"type": "message", "id": "msg_test02", "status": "completed", "role": "assistant",
                    "content": [{"type": "output_text",
                        "text": "Based on the search results, Claude Shannon was born on April 30, 1916, in Petoskey, Michigan.",
                        "annotations": [{"type": "url_citation", "url": "https://en.wikipedia.org/wiki/Claude_Shannon",
                            "title": "Claude Shannon - Wikipedia", "start_index": 29, "end_index": 93}]}]}
            ]),
            usage(6039, 931, 0, 0),
        ),
        "message_text.json" => completed(
            "claude-3-opus-latest",
            json!([message("msg_test00", "completed", "Hello there!")]),
            usage(11, 6, 0, 0),
        ),
        "message_tool_use.json" => completed(
            "claude-sonnet-4-20250514",
            json!([
                message("msg_test00", "completed", "I'll check the current weather in Paris for you."),
                {"type": "function_call", "id": "fc_test01", "call_id": "toolu_01NRLabsLyVHZPKxbKvkfSMn",
                    "name": "get_weather", "arguments": "{\"location\":\"Paris\"}", "status": "completed"}
            ]),
            usage(377, 65, 0, 0),
        ),
        "message_thinking.json" => completed(
            "claude-sonnet-4-6",
            json!([
                {"type": "reasoning", "id": "rs_test00", "status": "completed",
                    "summary": [{"type": "summary_text", "text": "The user wants 17 * 23. 17*20 = 340, 17*3 = 51, so 340 + 51 = 391."}],
                    "encrypted_content": "sealed:{\"signature\":\"EqQBCkYIBxgCKkDk3mVfXJ0b6wq2n7tZ1hGZcY4mXoP9rL8sA2dF5gH1jK3lM6nO8pQ0rS2tU4vW6xY8zA0bC2dE4fG6hI8jK0lMEgyZ3JhZGllbnQtc2lnGgw\"}"},
                message("msg_test01", "completed", "17 \u{d7} 23 = 391.")
            ]),
            usage(42, 61, 0, 38),
        ),
        "message_max_tokens.json" => json!({
            "status": "incomplete",
            "incomplete_details": {"reason": "max_output_tokens"},
            "model": "claude-sonnet-4-6",
            "output": [message("msg_test00", "incomplete", "Here are the first steps to care for a parrot:\n\n1. Get a cage that is")],
            "usage": usage(18, 20, 0, 0)
        }),
        other => panic!("no golden expectation for fixture {other}"),
    }
}

#[test]
fn every_json_fixture_matches_its_golden_response() {
    let request = create(json!({"input": "x"}));
    for name in fixtures_with(".json") {
        let mut out = emitter(&request);
        parse_response(
            &fixture(&name),
            call(&request, &[], false),
            &mut out,
            "anthropic",
        )
        .unwrap();
        assert!(out.is_finished(), "{name}");
        assert_eq!(summary(out.response()), expected(&name), "{name}");
    }
}

#[test]
fn usage_counts_cache_reads_and_writes_as_input() {
    let body = json!({"type": "message", "model": "m", "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn",
        "usage": {"input_tokens": 10, "cache_creation_input_tokens": 100, "cache_read_input_tokens": 1000, "output_tokens": 5}});
    let request = create(json!({"input": "x"}));
    let mut out = emitter(&request);
    parse_response(
        body.to_string().as_bytes(),
        call(&request, &[], false),
        &mut out,
        "anthropic",
    )
    .unwrap();
    assert_eq!(summary(out.response())["usage"], usage(1110, 5, 1000, 0));
}

#[test]
fn stop_reasons_map_to_status() {
    let cases = [
        ("end_turn", "completed", Value::Null),
        ("stop_sequence", "completed", Value::Null),
        ("pause_turn", "completed", Value::Null),
        ("something_new", "completed", Value::Null),
        (
            "model_context_window_exceeded",
            "incomplete",
            json!({"reason": "max_output_tokens"}),
        ),
        ("refusal", "incomplete", json!({"reason": "content_filter"})),
    ];
    let request = create(json!({"input": "x"}));
    for (stop, status, details) in cases {
        let body = json!({"type": "message", "model": "m", "content": [{"type": "text", "text": "Part"},
            {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}}],
            "stop_reason": stop, "stop_details": {"type": "refusal", "explanation": "Not allowed."}, "usage": {"input_tokens": 1, "output_tokens": 1}});
        let mut out = emitter(&request);
        parse_response(
            body.to_string().as_bytes(),
            call(&request, &[], false),
            &mut out,
            "anthropic",
        )
        .unwrap();
        let got = summary(out.response());
        assert_eq!(
            (got["status"].clone(), got["incomplete_details"].clone()),
            (json!(status), details),
            "{stop}"
        );
        let parts = got["output"][0]["content"].as_array().unwrap().len();
        assert_eq!(
            parts,
            if stop == "refusal" { 2 } else { 1 },
            "{stop}: refusal explanation becomes a refusal part"
        );
    }
}

#[test]
fn redacted_thinking_becomes_encrypted_only_reasoning() {
    let body = json!({"type": "message", "model": "m", "stop_reason": "end_turn", "usage": {},
        "content": [{"type": "redacted_thinking", "data": "opaque"}, {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"a": [1, 2]}}]});
    let request = create(json!({"input": "x"}));
    let mut out = emitter(&request);
    parse_response(
        body.to_string().as_bytes(),
        call(&request, &[], false),
        &mut out,
        "anthropic",
    )
    .unwrap();
    assert_eq!(
        summary(out.response())["output"],
        json!([
            {"type": "reasoning", "id": "rs_test00", "status": "completed", "summary": [], "encrypted_content": "sealed:{\"redacted_thinking\":\"opaque\"}"},
            {"type": "function_call", "id": "fc_test01", "call_id": "toolu_1", "name": "f", "arguments": "{\"a\":[1,2]}", "status": "completed"}
        ])
    );
}

#[test]
fn thinking_output_round_trips_into_the_next_request() {
    let request = create(json!({"input": "x"}));
    let mut out = emitter(&request);
    parse_response(
        &fixture("message_thinking.json"),
        call(&request, &[], false),
        &mut out,
        "anthropic",
    )
    .unwrap();
    let mut input: Vec<Item> = create(json!({"input": "What is 17 * 23?"})).input_items();
    input.extend(out.response().output.clone());
    input.extend(create(json!({"input": "And 17 * 24?"})).input_items());
    let next = create(json!({"input": "unused"}));
    let built = build_request(call(&next, &input, false), &super::config()).unwrap();
    let built = serde_json::to_value(built).unwrap();
    assert_eq!(
        built["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "What is 17 * 23?"}]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "The user wants 17 * 23. 17*20 = 340, 17*3 = 51, so 340 + 51 = 391.",
                    "signature": "EqQBCkYIBxgCKkDk3mVfXJ0b6wq2n7tZ1hGZcY4mXoP9rL8sA2dF5gH1jK3lM6nO8pQ0rS2tU4vW6xY8zA0bC2dE4fG6hI8jK0lMEgyZ3JhZGllbnQtc2lnGgw"},
                {"type": "text", "text": "17 \u{d7} 23 = 391."}
            ]},
            {"role": "user", "content": [{"type": "text", "text": "And 17 * 24?"}]}
        ])
    );
}

#[test]
fn unreadable_or_error_bodies_are_upstream_errors() {
    let request = create(json!({"input": "x"}));
    let mut out = emitter(&request);
    let err =
        parse_response(b"<html>", call(&request, &[], false), &mut out, "anthropic").unwrap_err();
    let GatewayError::Upstream(err) = err else {
        panic!("{err:?}")
    };
    assert_eq!(err.kind, UpstreamErrorKind::Protocol);
    let body = br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
    let err = parse_response(body, call(&request, &[], false), &mut out, "anthropic").unwrap_err();
    let GatewayError::Upstream(err) = err else {
        panic!("{err:?}")
    };
    assert_eq!(err.kind, UpstreamErrorKind::Overloaded);
}
