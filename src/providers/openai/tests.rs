//! Golden tests for the OpenAI Responses translation, from the shared fixtures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;

use super::{OpenAiStream, build_request, parse_error, parse_response};
use crate::{
    api::{CreateResponse, Item, ResponseStatus, StreamEvent},
    error::UpstreamErrorKind,
    providers::{Call, StreamTranslator, test_support},
    stream::{ResponseEmitter, SseDecoder},
};

fn fixture(name: &str) -> String {
    String::from_utf8(test_support::fixture(&format!("openai/{name}"))).unwrap()
}

fn emitter(request: &CreateResponse, record: bool) -> ResponseEmitter {
    test_support::emitter(request, "gpt-4o", record)
}

fn call<'a>(request: &'a CreateResponse, input: &'a [Item], stream: bool) -> Call<'a> {
    Call {
        request,
        input,
        model: "gpt-4o-mini",
        stream,
        request_id: "req_1",
        sealer: crate::providers::test_support::sealer(),
    }
}

fn stream_events(name: &str, chunk: usize) -> (Vec<StreamEvent>, ResponseEmitter) {
    let request = CreateResponse::default();
    let mut out = emitter(&request, true);
    let mut translator = OpenAiStream::new(call(&request, &[], true), "openai".into());
    let mut decoder = SseDecoder::new();
    let text = fixture(name);
    let mut events = Vec::new();
    for piece in text.as_bytes().chunks(chunk) {
        for event in decoder.feed(piece).unwrap() {
            if event.data != "[DONE]" {
                let _ = translator.on_data(&event.data, &mut out);
            }
        }
    }
    if let Some(event) = decoder.finish() {
        let _ = translator.on_data(&event.data, &mut out);
    }
    let _ = translator.on_end(&mut out);
    events.extend(out.drain());
    (events, out)
}

#[test]
fn request_strips_gateway_state_and_never_stores() {
    let request: CreateResponse = serde_json::from_value(
        json!({"model":"x","input":"hi","provider":"openai","metadata":{"a":"b"}}),
    )
    .unwrap();
    let mut input = request.input_items();
    input.push(serde_json::from_value(json!({"type":"function_call","id":"fc_ours","call_id":"c1","name":"f","arguments":"{}","status":"completed"})).unwrap());
    let envelope = crate::providers::test_support::sealer()
        .seal(
            crate::api::ProviderKind::Anthropic,
            "claude-sonnet-4-5",
            b"{}",
        )
        .unwrap();
    input.push(
        serde_json::from_value(
            json!({"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":envelope}),
        )
        .unwrap(),
    );
    // Earlier gateway versions prefixed OpenAI's state; OpenAI's own values pass untouched.
    input.push(
        serde_json::from_value(
            json!({"type":"reasoning","id":"rs_2","summary":[],"encrypted_content":"openai:xyz"}),
        )
        .unwrap(),
    );
    input.push(
        serde_json::from_value(
            json!({"type":"reasoning","id":"rs_3","summary":[],"encrypted_content":"gAAAAABraw"}),
        )
        .unwrap(),
    );
    let body = serde_json::to_value(build_request(call(&request, &input, false)).unwrap()).unwrap();
    assert_eq!(body["store"], false);
    assert_eq!(body["model"], "gpt-4o-mini");
    assert!(body.get("provider").is_none());
    assert!(body.get("metadata").is_none());
    let items = body["input"].as_array().unwrap();
    assert_eq!(
        items.len(),
        4,
        "another provider's sealed reasoning is left out"
    );
    assert!(items[1].get("id").is_none() && items[1].get("status").is_none());
    assert_eq!(items[2]["encrypted_content"], "xyz");
    assert_eq!(items[3]["encrypted_content"], "gAAAAABraw");
}

#[test]
fn item_references_are_rejected_with_the_index() {
    let request = CreateResponse::default();
    let input: Vec<Item> =
        vec![serde_json::from_value(json!({"type":"item_reference","id":"x"})).unwrap()];
    let err = build_request(call(&request, &input, false)).unwrap_err();
    assert_eq!(err.param().as_deref(), Some("input[0]"));
}

#[test]
fn json_text_and_tool_call_fixtures_parse() {
    let request = CreateResponse::default();
    let mut out = emitter(&request, false);
    parse_response(
        fixture("responses_text.json").as_bytes(),
        call(&request, &[], false),
        &mut out,
        "openai",
    )
    .unwrap();
    let response = out.into_response();
    assert_eq!(response.status, ResponseStatus::Completed);
    assert!(response.usage.unwrap().total_tokens > 0);
    assert!(matches!(response.output[0], Item::Message(_)));
    let mut out = emitter(&request, false);
    parse_response(
        fixture("responses_tool_call.json").as_bytes(),
        call(&request, &[], false),
        &mut out,
        "openai",
    )
    .unwrap();
    assert!(
        out.response()
            .output
            .iter()
            .any(|i| matches!(i, Item::FunctionCall(_)))
    );
}

#[test]
fn streams_give_identical_events_for_any_chunking() {
    for name in [
        "responses_text_stream.sse",
        "responses_tool_call_stream.sse",
        "responses_stream_failed.sse",
    ] {
        let (whole, _) = stream_events(name, usize::MAX);
        for chunk in [1, 7, 64, 333] {
            let (split, _) = stream_events(name, chunk);
            assert_eq!(
                serde_json::to_value(&split).unwrap(),
                serde_json::to_value(&whole).unwrap(),
                "{name} at {chunk}"
            );
        }
    }
    let (events, out) = stream_events("responses_text_stream.sse", usize::MAX);
    assert_eq!(out.response().status, ResponseStatus::Completed);
    assert_eq!(events.last().unwrap().event_type(), "response.completed");
}

#[test]
fn failed_stream_reports_an_error() {
    let request = CreateResponse::default();
    let mut out = emitter(&request, true);
    let mut translator = OpenAiStream::new(call(&request, &[], true), "openai".into());
    let mut decoder = SseDecoder::new();
    let mut failed = false;
    for event in decoder
        .feed(fixture("responses_stream_failed.sse").as_bytes())
        .unwrap()
    {
        if translator.on_data(&event.data, &mut out).is_err() {
            failed = true;
            break;
        }
    }
    assert!(failed);
    assert!(out.is_started());
}

#[test]
fn errors_map_by_status_and_code() {
    let parse = |name: &str| {
        let (status, headers, body) = test_support::parse_http(fixture(name).as_bytes());
        parse_error("openai", status, &headers, &body)
    };
    let bad = parse("error_400_invalid_request.http");
    assert_eq!(bad.kind, UpstreamErrorKind::BadRequest);
    assert!(!bad.message.is_empty());
    let limited = parse("error_429_rate_limit.http");
    assert_eq!(limited.kind, UpstreamErrorKind::RateLimited);
    assert_eq!(
        limited.retry_after,
        Some(std::time::Duration::from_millis(3728)),
        "the wait is read from the message when no retry-after header is sent"
    );
    let quota = parse("error_429_insufficient_quota.http");
    assert_eq!(quota.kind, UpstreamErrorKind::QuotaExceeded);
    assert!(
        !quota.message.contains("billing"),
        "non-400 messages are generic"
    );
}

/// OpenAI's context-window answers: a 400 before the stream, and `response.failed` inside it
/// (both carry `code: "context_length_exceeded"` and the same message).
const CONTEXT_MESSAGE: &str =
    "Your input exceeds the context window of this model. Please adjust your input and try again.";

#[test]
fn context_overflow_keeps_its_code_and_message() {
    let body = json!({"error": {"message": CONTEXT_MESSAGE, "type": "invalid_request_error",
        "param": "input", "code": "context_length_exceeded"}});
    let err = parse_error(
        "openai",
        400,
        &reqwest::header::HeaderMap::new(),
        body.to_string().as_bytes(),
    );
    assert_eq!(err.kind, UpstreamErrorKind::ContextLengthExceeded);
    assert_eq!(err.message, CONTEXT_MESSAGE);
    let client = crate::error::GatewayError::from(err);
    assert_eq!(client.status().as_u16(), 400);
    assert_eq!(client.code(), "context_length_exceeded");
    assert_eq!(client.param().as_deref(), Some("input"));
}

#[test]
fn failed_stream_codes_keep_their_meaning() {
    let cases = [
        (
            "context_length_exceeded",
            CONTEXT_MESSAGE,
            "context_length_exceeded",
            400,
        ),
        (
            "rate_limit_exceeded",
            "Rate limit reached for gpt-4o on tokens per min (TPM). Please try again in 1.5s.",
            "rate_limit_exceeded",
            429,
        ),
        (
            "insufficient_quota",
            "You exceeded your current quota.",
            "insufficient_quota",
            429,
        ),
        (
            "server_is_overloaded",
            "Our servers are busy.",
            "server_is_overloaded",
            503,
        ),
        (
            "server_error",
            "The server had an error.",
            "upstream_error",
            502,
        ),
    ];
    for (code, message, expected, status) in cases {
        let request = CreateResponse::default();
        let mut out = emitter(&request, true);
        let mut translator = OpenAiStream::new(call(&request, &[], true), "openai".into());
        let failed = json!({"type": "response.failed", "response": {"id": "resp_1",
            "status": "failed", "error": {"code": code, "message": message}}});
        let err = translator
            .on_data(&failed.to_string(), &mut out)
            .unwrap_err();
        assert_eq!(
            (err.code(), err.status().as_u16()),
            (expected, status),
            "{code}"
        );
        let shown = err.to_object().message;
        match code {
            "context_length_exceeded" => assert_eq!(shown, CONTEXT_MESSAGE),
            "rate_limit_exceeded" => assert!(shown.ends_with("Please try again in 2s."), "{shown}"),
            _ => assert!(!shown.contains(message), "{shown}"),
        }
    }
}

#[test]
fn tools_and_settings_reach_openai_as_the_caller_sent_them() {
    let tools = json!([
        {"type": "function", "name": "f", "description": "d", "parameters": {"type": "object"}, "strict": true},
        {"type": "web_search", "search_context_size": "high",
         "user_location": {"type": "approximate", "country": "NL"}},
        {"type": "future_tool", "anything": [1, {"nested": null}]}
    ]);
    let request: CreateResponse = serde_json::from_value(json!({
        "model": "x", "input": "hi", "tools": tools,
        "tool_choice": {"type": "function", "name": "f"},
        "text": {"format": {"type": "json_schema", "name": "s", "schema": {"type": "object"}, "strict": true}},
        "reasoning": {"effort": "low"}, "temperature": 0.5, "max_output_tokens": 99,
    }))
    .unwrap();
    let input = request.input_items();
    let body = serde_json::to_value(build_request(call(&request, &input, true)).unwrap()).unwrap();
    assert_eq!(
        body.pointer("/tools/1"),
        tools.pointer("/1"),
        "hosted tools verbatim"
    );
    assert_eq!(
        body.pointer("/tools/2"),
        tools.pointer("/2"),
        "unknown tools verbatim"
    );
    assert_eq!(body.pointer("/tools/0/name"), Some(&json!("f")));
    assert_eq!(body.pointer("/tool_choice/name"), Some(&json!("f")));
    assert_eq!(body.pointer("/text/format/name"), Some(&json!("s")));
    assert_eq!(body.pointer("/reasoning/effort"), Some(&json!("low")));
    assert_eq!(body.pointer("/temperature"), Some(&json!(0.5)));
    assert_eq!(body.pointer("/max_output_tokens"), Some(&json!(99)));
    assert_eq!(body.pointer("/stream"), Some(&json!(true)));
    assert_eq!(
        body.pointer("/include"),
        Some(&json!(["reasoning.encrypted_content"]))
    );
    assert_eq!(body.pointer("/input/0/content"), Some(&json!("hi")));
    for absent in ["instructions", "top_p", "service_tier", "truncation"] {
        assert!(
            body.get(absent).is_none(),
            "{absent} is left out when unset"
        );
    }
}

#[test]
fn delta_events_borrow_their_text() {
    let data = r#"{"type":"response.output_text.delta","item_id":"msg_1","delta":"Hi","sequence_number":3}"#;
    let event: super::wire::OpenAiStreamEvent<'_> = serde_json::from_str(data).unwrap();
    assert!(matches!(
        event.kind,
        std::borrow::Cow::Borrowed("response.output_text.delta")
    ));
    assert!(matches!(event.delta, std::borrow::Cow::Borrowed("Hi")));
}

#[test]
fn events_the_gateway_does_not_read_are_skipped_whatever_they_hold() {
    let request = CreateResponse::default();
    let mut out = emitter(&request, true);
    let mut translator = OpenAiStream::new(call(&request, &[], true), "openai".into());
    for data in [
        "null",
        r#"{"type":"response.future.delta","delta":{"x":[1]},"item":5,"response":"r"}"#,
        r#"{"sequence_number":1}"#,
    ] {
        translator.on_data(data, &mut out).unwrap();
    }
    assert!(out.drain().is_empty());
    assert!(translator.on_data("{not json", &mut out).is_err());
}

#[test]
fn an_incomplete_function_call_is_not_an_answer() {
    let request = CreateResponse::default();
    for body in [
        json!({"id": "r", "status": "completed", "output": [{"type": "function_call", "name": "f"}]}),
        json!({"id": "r", "status": "completed", "output": [{"type": "message"}]}),
        json!({"id": "r", "status": "completed", "output": [{"content": []}]}),
        json!({"id": "r", "status": "completed", "output": [], "usage": 5}),
    ] {
        let mut out = emitter(&request, false);
        let err = parse_response(
            body.to_string().as_bytes(),
            call(&request, &[], false),
            &mut out,
            "openai",
        )
        .unwrap_err();
        assert_eq!(err.code(), "upstream_protocol_error", "{body}");
    }
}

#[test]
fn history_items_go_out_as_open_responses_has_them_without_our_state() {
    let items = json!([
        {"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
         "phase": "final_answer", "content": [{"type": "output_text", "text": "hi", "annotations": []}]},
        {"type": "function_call_output", "id": "fco_1", "call_id": "c1",
         "output": [{"type": "input_text", "text": "done"}]},
        {"type": "custom_tool_call", "id": "ctc_1", "call_id": "c2", "name": "apply_patch",
         "namespace": "tools", "input": "*** Begin Patch", "status": "completed"},
        {"type": "custom_tool_call_output", "call_id": "c2", "output": "applied"},
        {"type": "web_search_call", "id": "ws_1", "status": "completed",
         "action": {"type": "search", "query": "q", "sources": [{"url": "u"}]}}
    ]);
    let input: Vec<Item> = serde_json::from_value(items.clone()).unwrap();
    let request = CreateResponse::default();
    let body = serde_json::to_value(build_request(call(&request, &input, false)).unwrap()).unwrap();
    let sent = body["input"].as_array().unwrap();
    assert_eq!(sent.len(), 5);
    for (i, sent) in sent.iter().enumerate() {
        // Exactly the item's own Open Responses JSON without our `id` and `status`.
        let mut own = serde_json::to_value(&input[i]).unwrap();
        let own_map = own.as_object_mut().unwrap();
        own_map.remove("id");
        own_map.remove("status");
        assert_eq!(sent, &own, "item {i}");
    }
    assert_eq!(
        sent[4],
        json!({"type": "web_search_call", "action": {"type": "search", "query": "q", "sources": [{"url": "u"}]}}),
        "dialect items verbatim but for our id and status"
    );
}
