//! Stream translation: every `*.sse` fixture fed whole, byte by byte and at random split points
//! must give identical events; each also has a golden event sequence and final response.

use serde_json::{Value, json};

use super::{call, create, emitter, fixture, fixtures_with, response::expected, summary};
use crate::{
    api::ProviderKind,
    error::{GatewayError, UpstreamErrorKind},
    providers::test_support::reveal,
    providers::{StreamTranslator, anthropic::AnthropicStream},
    stream::SseDecoder,
};

#[derive(Debug, PartialEq)]
struct Outcome {
    /// Events as JSON, sealed reasoning revealed (each run seals with a fresh nonce).
    events: Vec<Value>,
    error: Option<(UpstreamErrorKind, String)>,
    response: Value,
}

impl Outcome {
    fn types(&self) -> Vec<&str> {
        self.events
            .iter()
            .map(|e| e["type"].as_str().unwrap())
            .collect()
    }
}

/// Feeds `bytes` cut at `cuts` through the SSE decoder and the translator, like the gateway does.
fn run(bytes: &[u8], cuts: &[usize]) -> Outcome {
    let request = create(json!({"input": "x"}));
    let mut out = emitter(&request);
    let mut translator = AnthropicStream::new(call(&request, &[], true), "anthropic".to_owned());
    let mut decoder = SseDecoder::new();
    let mut events = Vec::new();
    let mut result: Result<(), GatewayError> = Ok(());
    let mut start = 0;
    for end in cuts.iter().copied().chain([bytes.len()]) {
        for event in decoder.feed(&bytes[start..end]).unwrap() {
            if result.is_ok() {
                result = translator.on_data(&event.data, &mut out);
                events.extend(out.drain());
            }
        }
        start = end;
    }
    if result.is_ok()
        && let Some(event) = decoder.finish()
    {
        result = translator.on_data(&event.data, &mut out);
    }
    if result.is_ok() {
        result = translator.on_end(&mut out);
    }
    events.extend(out.drain());
    let error = result.err().map(|e| match e {
        GatewayError::Upstream(u) => (u.kind, u.message),
        other => panic!("unexpected error {other:?}"),
    });
    let events = events
        .iter()
        .map(|e| {
            let mut value = serde_json::to_value(e).unwrap();
            reveal(&mut value, ProviderKind::Anthropic, "claude-sonnet-4-5");
            value
        })
        .collect();
    Outcome {
        events,
        error,
        response: summary(out.response()),
    }
}

/// Deterministic pseudo-random cut points (xorshift), sorted and distinct.
fn random_cuts(len: usize, seed: u64) -> Vec<usize> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut cuts: Vec<usize> = (0..8)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            1 + (state as usize) % (len - 1)
        })
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

/// Runs a body whole, byte by byte and at random splits; all must agree.
fn run_every_way(bytes: &[u8]) -> Outcome {
    let whole = run(bytes, &[]);
    let bytewise: Vec<usize> = (1..bytes.len()).collect();
    assert_eq!(run(bytes, &bytewise), whole, "byte by byte");
    for seed in 0..25 {
        assert_eq!(
            run(bytes, &random_cuts(bytes.len(), seed)),
            whole,
            "random cuts, seed {seed}"
        );
    }
    whole
}

const TEXT_ITEM: [&str; 3] = [
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
];
const TEXT_DONE: [&str; 3] = [
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
];

fn golden_types(name: &str) -> Vec<&'static str> {
    let mut t = vec!["response.created", "response.in_progress"];
    match name {
        "message_text_stream.sse" => {
            t.extend(TEXT_ITEM);
            t.extend(["response.output_text.delta", "response.output_text.delta"]);
            t.extend(TEXT_DONE);
            t.push("response.completed");
        }
        "message_tool_use_stream.sse" => {
            t.extend(TEXT_ITEM);
            t.push("response.output_text.delta");
            t.extend(TEXT_DONE);
            t.push("response.output_item.added");
            t.extend(["response.function_call_arguments.delta"; 4]);
            t.extend([
                "response.function_call_arguments.done",
                "response.output_item.done",
                "response.completed",
            ]);
        }
        "message_thinking_stream.sse" => {
            t.extend([
                "response.output_item.added",
                "response.reasoning_summary_part.added",
            ]);
            t.extend(["response.reasoning_summary_text.delta"; 2]);
            t.extend([
                "response.reasoning_summary_text.done",
                "response.reasoning_summary_part.done",
                "response.output_item.done",
            ]);
            t.extend(TEXT_ITEM);
            t.push("response.output_text.delta");
            t.extend(TEXT_DONE);
            t.push("response.completed");
        }
        "message_refusal_stream.sse" => t.extend([
            "response.output_item.added",
            "response.content_part.added",
            "response.refusal.delta",
            "response.refusal.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.incomplete",
        ]),
        "stream_error_overloaded.sse" => t.extend(TEXT_ITEM),
        "message_web_search_stream.sse" => {
            t.extend(TEXT_ITEM);
            t.extend(TEXT_DONE);
            t.extend(["response.output_item.added", "response.output_item.done"]);
            t.extend(TEXT_ITEM);
            t.extend([
                "response.output_text.delta",
                "response.output_text.annotation.added",
            ]);
            t.extend(TEXT_DONE);
            t.push("response.completed");
        }
        other => panic!("no golden expectation for fixture {other}"),
    }
    t
}

fn golden_response(name: &str) -> Value {
    match name {
        "message_text_stream.sse" => expected("message_text.json"),
        "message_web_search_stream.sse" => json!({
            "status": "completed",
            "incomplete_details": null,
            "model": "claude-sonnet-4-5-20250929",
            "output": [
                {"type": "message", "id": "msg_test00", "status": "completed", "role": "assistant",
                    "content": [{"type": "output_text", "text": "I'll check the weather.", "annotations": []}]},
                {"type": "web_search_call", "id": "ws_test01", "status": "completed",
                    "action": {"type": "search", "query": "weather NYC today"}},
                {"type": "message", "id": "msg_test02", "status": "completed", "role": "assistant",
                    "content": [{"type": "output_text", "text": "It is sunny in NYC, with a high of 72°F.",
                        "annotations": [{"type": "url_citation", "url": "https://weather.example.com/nyc",
                            "title": "Weather in New York City", "start_index": 0, "end_index": 40}]}]}
            ],
            "usage": {"input_tokens": 2679, "output_tokens": 510, "total_tokens": 3189,
                "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 0}}
        }),
        "message_thinking_stream.sse" => expected("message_thinking.json"),
        "message_tool_use_stream.sse" => {
            // Argument fragments are forwarded verbatim, so the upstream's spacing survives.
            let mut value = expected("message_tool_use.json");
            value["output"][1]["arguments"] = json!("{\"location\": \"Paris\"}");
            value
        }
        "message_refusal_stream.sse" => json!({
            "status": "incomplete",
            "incomplete_details": {"reason": "content_filter"},
            "model": "claude-opus-4-7",
            "output": [{"type": "message", "id": "msg_test00", "status": "incomplete", "role": "assistant",
                "content": [{"type": "refusal", "refusal": "This request was refused due to policy."}]}],
            "usage": {"input_tokens": 20, "output_tokens": 0, "total_tokens": 20,
                "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 0}}
        }),
        "stream_error_overloaded.sse" => json!({
            "status": "in_progress",
            "incomplete_details": null,
            "model": "claude-sonnet-4-6",
            "output": [{"type": "message", "id": "msg_test00", "status": "in_progress", "role": "assistant", "content": []}],
            "usage": null
        }),
        other => panic!("no golden expectation for fixture {other}"),
    }
}

#[test]
fn every_sse_fixture_gives_the_same_golden_events_however_it_is_split() {
    for name in fixtures_with(".sse") {
        let outcome = run_every_way(&fixture(&name));
        assert_eq!(outcome.types(), golden_types(&name), "{name}");
        assert_eq!(outcome.response, golden_response(&name), "{name}");
        for (i, event) in outcome.events.iter().enumerate() {
            assert_eq!(event["sequence_number"], i as u64, "{name}");
        }
        let expect_error = name == "stream_error_overloaded.sse";
        assert_eq!(
            outcome.error.is_some(),
            expect_error,
            "{name}: {:?}",
            outcome.error
        );
    }
}

#[test]
fn in_stream_overload_is_a_retryable_error_after_content() {
    let outcome = run(&fixture("stream_error_overloaded.sse"), &[]);
    let (kind, message) = outcome.error.unwrap();
    assert_eq!(kind, UpstreamErrorKind::Overloaded);
    assert!(
        !message.contains("Overloaded"),
        "client message is ours: {message}"
    );
    assert_eq!(
        outcome.events.last().map(|e| e["type"].clone()),
        Some(json!("response.output_text.delta"))
    );
}

#[test]
fn a_stream_without_message_stop_is_cut() {
    let body = String::from_utf8(fixture("message_text_stream.sse")).unwrap();
    let cut = body.split("event: message_stop").next().unwrap();
    let outcome = run_every_way(cut.as_bytes());
    assert!(!outcome.types().contains(&"response.completed"));
    assert_eq!(outcome.error.map(|e| e.0), Some(UpstreamErrorKind::Server));
}

fn sse(frames: &[Value]) -> Vec<u8> {
    let mut body = String::new();
    for frame in frames {
        body.push_str(&format!(
            "event: {}\ndata: {frame}\n\n",
            frame["type"].as_str().unwrap()
        ));
    }
    body.into_bytes()
}

fn start() -> Value {
    json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-x",
        "content": [], "stop_reason": null, "usage": {"input_tokens": 5, "output_tokens": 1}}})
}

#[test]
fn unknown_events_blocks_and_deltas_are_skipped() {
    let body = sse(&[
        start(),
        json!({"type": "brand_new_event", "payload": {"x": 1}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": "{\"q\":1}"}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_delta", "index": 1, "delta": {"type": "citations_delta", "citation": {"type": "x"}}}),
        json!({"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Hi"}}),
        json!({"type": "content_block_stop", "index": 1}),
        json!({"type": "content_block_start", "index": 2, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_delta", "index": 2, "delta": {"type": "text_delta", "text": " there"}}),
        json!({"type": "content_block_stop", "index": 2}),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 3}}),
        json!({"type": "message_stop"}),
    ]);
    let outcome = run_every_way(&body);
    assert_eq!(outcome.error, None);
    assert_eq!(
        outcome.response["output"].as_array().unwrap().len(),
        1,
        "consecutive text blocks share one message"
    );
    assert_eq!(
        outcome.response["output"][0]["content"][0]["text"],
        json!("Hi there")
    );
    assert_eq!(outcome.response["model"], json!("claude-x"));
}

#[test]
fn redacted_thinking_and_tool_use_without_deltas() {
    let body = sse(&[
        start(),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "redacted_thinking", "data": "opaque"}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}}),
        json!({"type": "content_block_stop", "index": 1}),
        json!({"type": "content_block_start", "index": 2, "content_block": {"type": "tool_use", "id": "toolu_2", "name": "g", "input": {"k": true}}}),
        json!({"type": "content_block_stop", "index": 2}),
        json!({"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 9}}),
        json!({"type": "message_stop"}),
    ]);
    let outcome = run_every_way(&body);
    assert_eq!(
        outcome.response["output"],
        json!([
            {"type": "reasoning", "id": "rs_test00", "status": "completed", "summary": [], "encrypted_content": "sealed:{\"redacted_thinking\":\"opaque\"}"},
            {"type": "function_call", "id": "fc_test01", "call_id": "toolu_1", "name": "f", "arguments": "{}", "status": "completed"},
            {"type": "function_call", "id": "fc_test02", "call_id": "toolu_2", "name": "g", "arguments": "{\"k\":true}", "status": "completed"}
        ])
    );
    assert_eq!(outcome.response["status"], json!("completed"));
}

#[test]
fn in_stream_error_types_map_to_kinds() {
    let cases = [
        ("overloaded_error", UpstreamErrorKind::Overloaded),
        ("rate_limit_error", UpstreamErrorKind::RateLimited),
        ("api_error", UpstreamErrorKind::Server),
        ("invalid_request_error", UpstreamErrorKind::BadRequest),
        ("timeout_error", UpstreamErrorKind::Timeout),
        ("mystery_error", UpstreamErrorKind::Server),
    ];
    for (kind, expected) in cases {
        let body = sse(&[
            start(),
            json!({"type": "error", "error": {"type": kind, "message": "upstream says max_tokens: too big"}}),
        ]);
        let (got, message) = run(&body, &[]).error.unwrap();
        assert_eq!(got, expected, "{kind}");
        assert_eq!(
            message.contains("upstream says"),
            expected == UpstreamErrorKind::BadRequest,
            "{kind}: {message}"
        );
    }
}

#[test]
fn malformed_data_is_a_protocol_error() {
    let outcome = run(b"event: message_start\ndata: {not json\n\n", &[]);
    assert_eq!(
        outcome.error.map(|e| e.0),
        Some(UpstreamErrorKind::Protocol)
    );
}
