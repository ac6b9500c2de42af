//! Tests of the test harness itself (tests/common): fixture table and SSE parsing, the spec validator, the strict
//! stream checker, and `MockUpstream` routes, auth, scripted behaviours, recording and cancel detection.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[path = "harness_selftest/mock.rs"]
mod mock;
#[path = "harness_selftest/mock_behaviours.rs"]
mod mock_behaviours;
#[path = "harness_selftest/rules.rs"]
mod rules;

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

use common::mock_upstream::fixtures::{self, fixture, fixture_json, frame_separator, sse_frames};
use common::spec::{
    SpecValidator, assert_valid_error_body, assert_valid_event, assert_valid_response,
    assert_valid_sse_stream, parse_sse,
};
use serde_json::{Value, json};

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f`, expecting a panic whose message contains `needle` (the expected panic is not printed).
fn expect_panic(needle: &str, f: impl FnOnce()) {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                default(info);
            }
        }));
    });
    QUIET.with(|q| q.set(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(false));
    let Err(payload) = result else {
        panic!("expected a panic mentioning {needle:?}, but nothing panicked")
    };
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default();
    assert!(
        message.contains(needle),
        "panic message should mention {needle:?}, got:\n{message}"
    );
}

#[test]
fn fixture_table_lists_every_file_in_tests_fixtures() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut on_disk = Vec::new();
    for provider in ["openai", "azure-openai", "anthropic", "gemini"] {
        for entry in std::fs::read_dir(root.join(provider)).unwrap() {
            on_disk.push(format!(
                "{provider}/{}",
                entry.unwrap().file_name().to_string_lossy()
            ));
        }
    }
    on_disk.sort();
    let mut listed: Vec<String> = fixtures::ALL.iter().map(|(n, _)| (*n).to_owned()).collect();
    listed.sort();
    assert_eq!(listed, on_disk);
}

#[test]
fn every_sse_fixture_parses() {
    for (name, text) in fixtures::ALL.iter().filter(|(n, _)| n.ends_with(".sse")) {
        let events = parse_sse(text);
        assert!(!events.is_empty(), "{name}: no events");
        let gemini = name.starts_with("gemini/");
        assert_eq!(
            text.contains("\r\n"),
            gemini,
            "{name}: CRLF only in Gemini fixtures"
        );
        for (event, data) in &events {
            if data == "[DONE]" {
                continue;
            }
            assert!(
                data.is_object(),
                "{name}: data is not a JSON object: {data}"
            );
            if event != "message" {
                assert_eq!(
                    data["type"].as_str(),
                    Some(event.as_str()),
                    "{name}: event name != type"
                );
            }
        }
        // Frames re-assemble to the file (modulo the final terminator some Anthropic files lack).
        let joined = sse_frames(text).concat();
        assert!(
            joined.starts_with(*text),
            "{name}: frames do not reproduce the file"
        );
        assert!(
            joined.ends_with(frame_separator(text)),
            "{name}: last frame is not terminated"
        );
        if name.starts_with("openai/responses_") {
            for (i, (_, data)) in events.iter().enumerate() {
                assert_eq!(
                    data["sequence_number"].as_u64(),
                    Some(i as u64),
                    "{name}: sequence gap"
                );
            }
        }
    }
    let done = parse_sse(fixture("openai/chat_completion_text_stream.sse"));
    assert_eq!(done.last().unwrap().1, json!("[DONE]"));
}

#[test]
fn http_fixtures_parse_with_status_and_headers() {
    let fx = fixtures::http_fixture("anthropic/error_429_rate_limit.http");
    assert_eq!(fx.status, 429);
    assert_eq!(fx.header("Retry-After"), Some("21"));
    assert_eq!(
        serde_json::from_str::<Value>(&fx.body).unwrap()["error"]["type"],
        "rate_limit_error"
    );
    assert_eq!(
        fixtures::http_fixture("anthropic/error_529_overloaded.http").status,
        529
    );
    assert_eq!(
        fixtures::http_fixture("azure-openai/error_429_rate_limit.http").header("retry-after-ms"),
        Some("6000")
    );
}

fn minimal_response() -> Value {
    json!({
        "id": "resp_123", "object": "response", "created_at": 1_700_000_000, "completed_at": 1_700_000_001,
        "status": "completed", "incomplete_details": null, "model": "gpt-4o-mini", "previous_response_id": null,
        "instructions": null,
        "output": [{"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
                    "content": [{"type": "output_text", "text": "Hi", "annotations": []}]}],
        "error": null, "tools": [], "tool_choice": "auto", "truncation": "disabled", "parallel_tool_calls": true,
        "text": {"format": {"type": "text"}}, "top_p": 1.0, "presence_penalty": 0.0, "frequency_penalty": 0.0,
        "top_logprobs": 0, "temperature": 1.0, "reasoning": null,
        "usage": {"input_tokens": 3, "output_tokens": 1, "total_tokens": 4,
                  "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 0}},
        "max_output_tokens": null, "max_tool_calls": null, "store": false, "background": false,
        "service_tier": "default", "metadata": {}, "safety_identifier": null, "prompt_cache_key": null
    })
}

#[test]
fn spec_validator_accepts_a_minimal_response_and_rejects_a_broken_one() {
    assert_valid_response(&minimal_response());
    let mut no_id = minimal_response();
    no_id.as_object_mut().unwrap().remove("id");
    assert!(
        SpecValidator::get()
            .validate("ResponseResource", &no_id)
            .is_err()
    );
    expect_panic("\"id\" is a required property", || {
        assert_valid_response(&no_id)
    });
    let mut bad_status = minimal_response();
    bad_status["output"][0]["status"] = json!("done");
    expect_panic("not a valid ResponseResource", || {
        assert_valid_response(&bad_status)
    });
}

#[test]
fn spec_validator_knows_all_24_event_types() {
    let spec = SpecValidator::get();
    assert_eq!(spec.event_types().len(), 24, "{:?}", spec.event_types());
    assert_eq!(
        spec.event_schema_name("response.created"),
        Some("ResponseCreatedStreamingEvent")
    );
    assert_eq!(spec.event_schema_name("error"), Some("ErrorStreamingEvent"));
    assert_valid_event(
        &json!({"type": "response.output_text.delta", "sequence_number": 3, "item_id": "msg_1",
        "output_index": 0, "content_index": 0, "delta": "Hi", "logprobs": []}),
    );
    expect_panic("unknown streaming event type", || {
        assert_valid_event(&json!({"type": "acme:trace", "sequence_number": 0}));
    });
    expect_panic("ResponseOutputTextDeltaStreamingEvent", || {
        assert_valid_event(&json!({"type": "response.output_text.delta", "sequence_number": 0}));
    });
}

#[test]
fn error_body_check() {
    assert_valid_error_body(
        &json!({"error": {"type": "invalid_request_error", "code": null, "message": "bad",
        "param": "model"}}),
    );
    assert_valid_error_body(
        &json!({"error": {"type": "server_error", "code": "x", "message": "m", "param": null}}),
    );
    expect_panic("lacks error.param", || {
        assert_valid_error_body(&json!({"error": {"type": "t", "code": null, "message": "m"}}));
    });
    expect_panic("error.message must be a string", || {
        assert_valid_error_body(
            &json!({"error": {"type": "t", "code": null, "message": null, "param": null}}),
        );
    });
    expect_panic("no `error` object", || {
        assert_valid_error_body(&json!({"message": "m"}))
    });
}

fn frame(event: &Value) -> String {
    format!(
        "event: {}\ndata: {event}\n\n",
        event["type"].as_str().unwrap()
    )
}

/// A well-formed Open Responses stream: created, in_progress, one text message, completed, [DONE].
fn good_stream_events() -> Vec<Value> {
    let mut created = minimal_response();
    created["status"] = json!("in_progress");
    created["output"] = json!([]);
    created["usage"] = Value::Null;
    created["completed_at"] = Value::Null;
    let item = json!({"type": "message", "id": "msg_1", "status": "in_progress", "role": "assistant", "content": []});
    let part = json!({"type": "output_text", "text": "", "annotations": []});
    let ids = json!({"item_id": "msg_1", "output_index": 0, "content_index": 0});
    let with = |base: Value, extra: &Value| {
        let mut v = base;
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        v
    };
    let mut events = vec![
        json!({"type": "response.created", "response": created.clone()}),
        json!({"type": "response.in_progress", "response": created}),
        json!({"type": "response.output_item.added", "output_index": 0, "item": item}),
        with(
            json!({"type": "response.content_part.added", "part": part}),
            &ids,
        ),
        with(
            json!({"type": "response.output_text.delta", "delta": "Hi", "logprobs": []}),
            &ids,
        ),
        with(
            json!({"type": "response.output_text.done", "text": "Hi", "logprobs": []}),
            &ids,
        ),
        with(
            json!({"type": "response.content_part.done", "part": {"type": "output_text", "text": "Hi", "annotations": []}}),
            &ids,
        ),
        json!({"type": "response.output_item.done", "output_index": 0, "item": minimal_response()["output"][0]}),
        json!({"type": "response.completed", "response": minimal_response()}),
    ];
    for (i, e) in events.iter_mut().enumerate() {
        e["sequence_number"] = json!(i);
    }
    events
}

fn render(events: &[Value]) -> String {
    events.iter().map(frame).collect::<String>() + "data: [DONE]\n\n"
}

#[test]
fn sse_stream_checker_accepts_a_good_stream() {
    let events = assert_valid_sse_stream(&render(&good_stream_events()));
    assert_eq!(events.len(), 9);
    assert_eq!(events[8]["type"], "response.completed");
    // Comment keep-alives are fine.
    let with_comment = render(&good_stream_events()).replacen(
        "event: response.in_progress",
        ": keep-alive\n\nevent: response.in_progress",
        1,
    );
    assert_valid_sse_stream(&with_comment);
    // error followed by response.failed is a valid ending.
    let mut failed = good_stream_events()[..5].to_vec();
    failed.push(json!({"type": "error", "sequence_number": 5,
        "error": {"type": "server_error", "code": null, "message": "boom", "param": null}}));
    let mut resp = minimal_response();
    resp["status"] = json!("failed");
    resp["error"] = json!({"code": "server_error", "message": "boom"});
    failed.push(json!({"type": "response.failed", "sequence_number": 6, "response": resp}));
    assert_valid_sse_stream(&render(&failed));
}

#[test]
fn sse_stream_checker_rejects_bad_streams() {
    let good = good_stream_events();
    let mut gap = good.clone();
    gap[4]["sequence_number"] = json!(5);
    expect_panic("sequence_number should be 4", || {
        drop(assert_valid_sse_stream(&render(&gap)))
    });

    let mut starts_at_one = good.clone();
    for e in &mut starts_at_one {
        e["sequence_number"] = json!(e["sequence_number"].as_u64().unwrap() + 1);
    }
    expect_panic("sequence_number should be 0", || {
        drop(assert_valid_sse_stream(&render(&starts_at_one)))
    });

    let renamed = render(&good).replacen(
        "event: response.output_text.delta",
        "event: response.text.delta",
        1,
    );
    expect_panic("!= JSON type", || drop(assert_valid_sse_stream(&renamed)));

    let no_done = render(&good).replace("data: [DONE]\n\n", "");
    expect_panic("must end with `data: [DONE]", || {
        drop(assert_valid_sse_stream(&no_done))
    });

    let crlf = render(&good).replace('\n', "\r\n");
    expect_panic("CR", || drop(assert_valid_sse_stream(&crlf)));

    expect_panic("no terminal event", || {
        drop(assert_valid_sse_stream(&render(&good[..8])))
    });

    let mut two_terminals = good.clone();
    two_terminals.push(
        json!({"type": "response.completed", "sequence_number": 9, "response": minimal_response()}),
    );
    expect_panic("after the terminal", || {
        drop(assert_valid_sse_stream(&render(&two_terminals)))
    });

    let mut error_then_done = good[..5].to_vec();
    error_then_done.push(json!({"type": "error", "sequence_number": 5,
        "error": {"type": "server_error", "code": null, "message": "boom", "param": null}}));
    error_then_done.push(
        json!({"type": "response.completed", "sequence_number": 6, "response": minimal_response()}),
    );
    expect_panic("immediately followed by response.failed", || {
        drop(assert_valid_sse_stream(&render(&error_then_done)))
    });

    let mut invalid = good.clone();
    invalid[2]["item"] = json!({"type": "message"});
    expect_panic("does not match the spec", || {
        drop(assert_valid_sse_stream(&render(&invalid)))
    });

    let three_lines = render(&good).replacen("\ndata: ", "\nid: 1\ndata: ", 1);
    expect_panic("not exactly `event: X", || {
        drop(assert_valid_sse_stream(&three_lines))
    });
}

#[test]
fn openai_fixtures_are_openai_dialect_not_open_responses() {
    // Documents what the gateway must translate: OpenAI's flat `error` event is not the Open Responses shape.
    let failed: Vec<Value> = parse_sse(fixture("openai/responses_stream_failed.sse"))
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    let error = failed.iter().find(|e| e["type"] == "error").unwrap();
    assert!(
        SpecValidator::get()
            .validate("ErrorStreamingEvent", error)
            .is_err()
    );
    // OpenAI's Response objects lack three keys Open Responses requires, so they cannot be passed through as-is.
    let errors = SpecValidator::get()
        .validate(
            "ResponseResource",
            &fixture_json("openai/responses_text.json"),
        )
        .unwrap_err();
    assert_eq!(errors.len(), 3, "{errors:?}");
    for key in ["completed_at", "presence_penalty", "frequency_penalty"] {
        assert!(errors.iter().any(|e| e.contains(key)), "{key}: {errors:?}");
    }
}
