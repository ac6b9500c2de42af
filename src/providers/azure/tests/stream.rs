//! `AzureStream`: SSE fixtures (whole, byte by byte, random cuts) → Open Responses events.

use serde_json::{Value, json};

use super::{emitter, event_types, fixture, run_stream, run_stream_all_splits, summary};
use crate::{
    api::CreateResponse,
    error::{GatewayError, UpstreamErrorKind},
    providers::{StreamTranslator, azure::AzureStream},
};

fn sse(frames: &[Value]) -> Vec<u8> {
    let mut text: String = frames.iter().map(|f| format!("data: {f}\n\n")).collect();
    text.push_str("data: [DONE]\n\n");
    text.into_bytes()
}

fn chunk(delta: Value, finish: Option<&str>) -> Value {
    json!({"id": "c", "object": "chat.completion.chunk", "model": "m",
           "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
}

fn tool(index: u32, id: Option<&str>, name: Option<&str>, args: &str) -> Value {
    let mut call = json!({"index": index, "function": {"arguments": args}});
    if let Some(id) = id {
        call["id"] = json!(id);
        call["type"] = json!("function");
    }
    if let Some(name) = name {
        call["function"]["name"] = json!(name);
    }
    json!({"tool_calls": [call]})
}

fn upstream_kind(result: Result<(), GatewayError>) -> UpstreamErrorKind {
    match result {
        Err(GatewayError::Upstream(e)) => e.kind,
        other => panic!("expected an upstream error, got {other:?}"),
    }
}

const TEXT_EVENTS: [&str; 9] = [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
];

#[test]
fn openai_text_stream() {
    let run = run_stream_all_splits(&fixture("openai/chat_completion_text_stream.sse"));
    run.result.unwrap();
    let types = event_types(&run.events);
    assert_eq!(types.len(), 8 + 30, "30 text deltas");
    assert_eq!(
        types
            .iter()
            .filter(|t| **t == "response.output_text.delta")
            .count(),
        30
    );
    let got = summary(&run.response);
    assert_eq!(got["status"], "completed");
    assert_eq!(got["model"], "gpt-4o-2024-08-06");
    assert_eq!(
        got["output"][0]["content"][0]["text"],
        "I'm unable to provide real-time weather updates. To get the current weather in San Francisco, I recommend checking a reliable weather website or a weather app."
    );
    assert_eq!(got["usage"]["input_tokens"], 14);
    assert_eq!(got["usage"]["output_tokens"], 30);
    assert_eq!(
        run.events.last().unwrap()["response"]["usage"]["total_tokens"],
        44
    );
}

#[test]
fn azure_text_stream_skips_the_prompt_filter_frame() {
    let bytes = fixture("azure-openai/chat_completion_text_stream.sse");
    let run = run_stream_all_splits(&bytes);
    run.result.unwrap();
    let types = event_types(&run.events);
    assert_eq!(types.len(), 11);
    assert_eq!(types[..5], TEXT_EVENTS[..5]);
    assert_eq!(types[7..], TEXT_EVENTS[5..]);
    let deltas: Vec<&str> = run
        .events
        .iter()
        .filter_map(|e| e["delta"].as_str())
        .collect();
    assert_eq!(deltas, ["Ahoy", "! Keep yer parrot", " well fed, arrr!"]);
    assert_eq!(
        summary(&run.response),
        json!({"status": "completed", "incomplete_details": null, "model": "gpt-4.1-2025-04-14",
               "output": [{"type": "message", "id": "msg_test00", "status": "completed", "role": "assistant",
                           "content": [{"type": "output_text", "text": "Ahoy! Keep yer parrot well fed, arrr!", "annotations": []}]}],
               "usage": {"input_tokens": 33, "output_tokens": 11, "total_tokens": 44,
                         "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 0}}})
    );

    // The pre-chunk alone produces nothing, so a failure right after it can still fail over.
    let request = CreateResponse::default();
    let mut out = emitter(&request);
    let mut translator = AzureStream::new(super::call(&request, &[], true), "azureopenai".into());
    let first = String::from_utf8(bytes).unwrap();
    let first = first
        .lines()
        .next()
        .unwrap()
        .strip_prefix("data: ")
        .unwrap()
        .to_owned();
    translator.on_data(&first, &mut out).unwrap();
    assert!(out.drain().is_empty() && !out.is_started());
}

#[test]
fn tool_call_streams_stream_arguments_live() {
    for (path, call_id, args) in [
        (
            "openai/chat_completion_tool_call_stream.sse",
            "call_CTf1nWJLqSeRgDqaCG27xZ74",
            "{\"city\":\"San Francisco\",\"state\":\"CA\"}",
        ),
        (
            "azure-openai/chat_completion_tool_call_stream.sse",
            "call_Wp3kN8xQ2rT5vY7zB1cD4fG6",
            "{\"location\":\"Seattle, WA\"}",
        ),
    ] {
        let run = run_stream_all_splits(&fixture(path));
        run.result.unwrap();
        let types = event_types(&run.events);
        assert_eq!(
            types[..3],
            [
                "response.created",
                "response.in_progress",
                "response.output_item.added"
            ]
        );
        assert!(
            types[3..types.len() - 3]
                .iter()
                .all(|t| *t == "response.function_call_arguments.delta")
        );
        assert_eq!(
            types[types.len() - 3..],
            [
                "response.function_call_arguments.done",
                "response.output_item.done",
                "response.completed"
            ]
        );
        assert_eq!(
            summary(&run.response)["output"],
            json!([{"type": "function_call", "id": "fc_test00", "call_id": call_id, "name": "get_weather",
                    "arguments": args, "status": "completed"}])
        );
    }
}

#[test]
fn sequential_calls_stream_live_and_interleaved_calls_are_buffered() {
    // Sequential: the second call opens (and streams) before the finish chunk.
    let sequential = sse(&[
        chunk(json!({"role": "assistant", "content": "Checking."}), None),
        chunk(tool(0, Some("call_a"), Some("f"), ""), None),
        chunk(tool(0, None, None, "{\"x\":1}"), None),
        chunk(tool(1, Some("call_b"), Some("g"), ""), None),
        chunk(tool(1, None, None, "{\"y\":"), None),
        chunk(tool(1, None, None, "2}"), None),
        chunk(json!({}), Some("tool_calls")),
    ]);
    let run = run_stream_all_splits(&sequential);
    run.result.unwrap();
    let second_delta = run
        .events
        .iter()
        .position(|e| {
            e["type"] == "response.function_call_arguments.delta" && e["delta"] == "{\"y\":"
        })
        .unwrap();
    assert!(second_delta < run.events.len() - 3);
    let output = summary(&run.response)["output"].clone();
    assert_eq!(output[0]["content"][0]["text"], "Checking.");
    assert_eq!(output[1]["call_id"], "call_a");
    assert_eq!(output[1]["arguments"], "{\"x\":1}");
    assert_eq!(output[2]["call_id"], "call_b");
    assert_eq!(output[2]["arguments"], "{\"y\":2}");

    // Interleaved: call 1 arrives while call 0 is unfinished; both end up whole and in order.
    let interleaved = sse(&[
        chunk(tool(0, Some("call_a"), Some("f"), "{\"x\""), None),
        chunk(tool(1, Some("call_b"), Some("g"), "{\"y\":2}"), None),
        chunk(tool(0, None, None, ":1}"), None),
        chunk(json!({}), Some("tool_calls")),
    ]);
    let run = run_stream_all_splits(&interleaved);
    run.result.unwrap();
    let output = summary(&run.response)["output"].clone();
    assert_eq!(output.as_array().unwrap().len(), 2);
    assert_eq!(
        (
            output[0]["call_id"].as_str(),
            output[0]["arguments"].as_str()
        ),
        (Some("call_a"), Some("{\"x\":1}"))
    );
    assert_eq!(
        (
            output[1]["call_id"].as_str(),
            output[1]["arguments"].as_str()
        ),
        (Some("call_b"), Some("{\"y\":2}"))
    );
    for event in &run.events {
        if event["type"] == "response.function_call_arguments.done" {
            let item = &output[event["output_index"].as_u64().unwrap() as usize];
            assert_eq!(event["arguments"], item["arguments"]);
        }
    }
}

#[test]
fn stream_finish_reasons_length_and_content_filter() {
    for (reason, expected) in [
        ("length", "max_output_tokens"),
        ("content_filter", "content_filter"),
    ] {
        let bytes = sse(&[
            chunk(json!({"role": "assistant", "content": "Once"}), None),
            chunk(json!({"content": " upon"}), None),
            chunk(json!({}), Some(reason)),
        ]);
        let run = run_stream_all_splits(&bytes);
        run.result.unwrap();
        let got = summary(&run.response);
        assert_eq!(got["status"], "incomplete");
        assert_eq!(got["incomplete_details"]["reason"], expected);
        assert_eq!(got["output"][0]["status"], "incomplete");
        assert_eq!(got["output"][0]["content"][0]["text"], "Once upon");
        assert_eq!(run.events.last().unwrap()["type"], "response.incomplete");
    }
}

#[test]
fn refusal_deltas_become_a_refusal_part() {
    let bytes = sse(&[
        chunk(
            json!({"role": "assistant", "content": null, "refusal": ""}),
            None,
        ),
        chunk(json!({"refusal": "I can't"}), None),
        chunk(json!({"refusal": " help."}), None),
        chunk(json!({}), Some("stop")),
    ]);
    let run = run_stream_all_splits(&bytes);
    run.result.unwrap();
    assert!(event_types(&run.events).contains(&"response.refusal.done"));
    assert_eq!(
        summary(&run.response)["output"][0]["content"],
        json!([{"type": "refusal", "refusal": "I can't help."}])
    );
}

#[test]
fn cut_streams_and_error_frames_are_errors() {
    let full = String::from_utf8(fixture("azure-openai/chat_completion_text_stream.sse")).unwrap();
    let cut_at = full.find("\"finish_reason\":\"stop\"").unwrap();
    let cut = &full[..full[..cut_at].rfind("data: ").unwrap()];
    let run = run_stream(cut.as_bytes(), &[]);
    assert_eq!(upstream_kind(run.result), UpstreamErrorKind::Server);
    assert!(!run.events.iter().any(|e| e["type"] == "response.completed"));

    let failing = sse(&[
        chunk(json!({"role": "assistant", "content": "Hi"}), None),
        json!({"error": {"message": "The server had an error while processing your request.", "type": "server_error", "param": null, "code": null}}),
    ]);
    assert_eq!(
        upstream_kind(run_stream(&failing, &[]).result),
        UpstreamErrorKind::Server
    );
    let limited = sse(&[
        json!({"error": {"message": "Rate limit reached", "type": "tokens", "code": "rate_limit_exceeded"}}),
    ]);
    assert_eq!(
        upstream_kind(run_stream(&limited, &[]).result),
        UpstreamErrorKind::RateLimited
    );
    assert_eq!(
        upstream_kind(run_stream(b"data: {not json\n\n", &[]).result),
        UpstreamErrorKind::Protocol
    );
}

#[test]
fn calls_without_an_index_are_told_apart_by_id() {
    let no_index = |id: Option<&str>, name: Option<&str>, args: &str| {
        let mut delta = tool(0, id, name, args);
        delta["tool_calls"][0]
            .as_object_mut()
            .unwrap()
            .remove("index");
        delta
    };
    let bytes = sse(&[
        chunk(no_index(Some("call_1"), Some("f"), "{\"a\":"), None),
        chunk(no_index(None, None, "1}"), None),
        chunk(no_index(Some("call_2"), Some("g"), "{}"), None),
        chunk(json!({}), Some("tool_calls")),
    ]);
    let run = run_stream_all_splits(&bytes);
    run.result.unwrap();
    let output = summary(&run.response)["output"].clone();
    let calls: Vec<(&str, &str)> = output
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["call_id"].as_str().unwrap(),
                c["arguments"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(calls, [("call_1", "{\"a\":1}"), ("call_2", "{}")]);
}

#[test]
fn created_names_the_upstream_model() {
    let run = run_stream(
        &fixture("azure-openai/chat_completion_text_stream.sse"),
        &[],
    );
    assert_eq!(run.events[0]["response"]["model"], "gpt-4.1-2025-04-14");
}
