//! Stream translation: every `.sse` fixture fed whole, byte by byte and at random split points
//! must give identical events; cut streams and error frames become errors.

use serde_json::{Value, json};

use super::{
    CALL_SIG, EURO, JOKE, TEXT_SIG, call, emitter, euro_annotations, fixture, projection, request,
    search, usage,
};
use crate::{
    error::{GatewayError, UpstreamErrorKind},
    providers::{StreamTranslator, gemini::GeminiStream},
    stream::SseDecoder,
};

const STREAM_FIXTURES: [&str; 3] = [
    "stream_generate_content_text.sse",
    "stream_generate_content_function_call.sse",
    "stream_generate_content_grounded.sse",
];

/// The events and final response for `body` cut into `chunks`, or the translator's error.
fn run(body: &[u8], cuts: &[usize]) -> Result<(Vec<Value>, Value), GatewayError> {
    let req = request(json!({"input":"hi","stream":true}));
    let input = req.input_items();
    let mut out = emitter(&req, true);
    let mut translator = GeminiStream::new(call(&req, &input, "gemini-2.5-flash"), "google".into());
    let mut decoder = SseDecoder::new();
    let mut data = Vec::new();
    let mut start = 0;
    for &end in cuts.iter().chain(std::iter::once(&body.len())) {
        data.extend(
            decoder
                .feed(&body[start..end])
                .unwrap()
                .into_iter()
                .map(|e| e.data),
        );
        start = end;
    }
    data.extend(decoder.finish().map(|e| e.data));
    for payload in data {
        translator.on_data(&payload, &mut out)?;
    }
    translator.on_end(&mut out)?;
    let events = out
        .drain()
        .iter()
        .map(|e| {
            let mut value = serde_json::to_value(e).unwrap();
            crate::providers::test_support::reveal(
                &mut value,
                crate::api::ProviderKind::Gemini,
                "gemini-2.5-flash",
            );
            value
        })
        .collect();
    Ok((events, projection(out.response())))
}

/// Deterministic xorshift split points (no randomness in tests, but arbitrary positions).
fn random_cuts(len: usize, seed: u64) -> Vec<usize> {
    let mut state = seed.max(1);
    let mut cuts: Vec<usize> = (0..(len / 7).max(1))
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            usize::try_from(state % len as u64).unwrap()
        })
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

#[test]
fn every_fixture_gives_identical_events_for_any_chunking() {
    for name in STREAM_FIXTURES {
        let body = fixture(name);
        let whole = run(&body, &[]).unwrap();
        let bytewise: Vec<usize> = (1..body.len()).collect();
        assert_eq!(run(&body, &bytewise).unwrap(), whole, "{name} byte by byte");
        for seed in [1, 7, 42, 2024, 99_991] {
            assert_eq!(
                run(&body, &random_cuts(body.len(), seed)).unwrap(),
                whole,
                "{name} seed {seed}"
            );
        }
        for (i, event) in whole.0.iter().enumerate() {
            assert_eq!(event["sequence_number"], i, "{name}");
        }
    }
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

#[test]
fn grounded_stream_annotates_the_open_text_then_reports_the_searches() {
    let (events, response) = run(&fixture("stream_generate_content_grounded.sse"), &[]).unwrap();
    assert_eq!(
        types(&events),
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.annotation.added",
            "response.output_text.annotation.added",
            "response.output_text.annotation.added",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.output_item.done",
            "response.output_item.added",
            "response.output_item.done",
            "response.completed",
        ]
    );
    let added: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "response.output_text.annotation.added")
        .collect();
    assert_eq!(added[2]["annotation_index"], 2);
    assert_eq!(added[2]["annotation"], euro_annotations()[2]);
    assert_eq!(
        response,
        json!({
            "status":"completed","model":"gemini-2.5-flash","incomplete_details":null,"error":null,
            "usage":usage(192, 31, 0, 0),
            "output":[
                {"type":"message","id":"msg_test00","status":"completed","role":"assistant",
                 "content":[{"type":"output_text","text":EURO,"annotations":euro_annotations()}]},
                search("ws_test01", "UEFA Euro 2024 winner"),
                search("ws_test02", "who won euro 2024")
            ]
        })
    );
}

#[test]
fn text_stream_golden() {
    let (events, response) = run(&fixture("stream_generate_content_text.sse"), &[]).unwrap();
    assert_eq!(
        types(&events),
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.output_item.done",
            "response.completed",
        ]
    );
    let deltas: Vec<&str> = events.iter().filter_map(|e| e["delta"].as_str()).collect();
    assert_eq!(deltas.concat(), JOKE);
    assert_eq!(
        response,
        json!({
            "status":"completed","model":"gemini-2.5-flash","incomplete_details":null,"error":null,
            "usage":usage(8, 412, 0, 393),
            "output":[
                {"type":"message","id":"msg_test00","status":"completed","role":"assistant",
                 "content":[{"type":"output_text","text":JOKE,"annotations":[]}]},
                {"type":"reasoning","id":"rs_test01","summary":[],"encrypted_content":format!("sealed:{TEXT_SIG}"),"status":"completed"}
            ]
        })
    );
}

#[test]
fn function_call_stream_golden() {
    let (events, response) =
        run(&fixture("stream_generate_content_function_call.sse"), &[]).unwrap();
    assert_eq!(
        types(&events),
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.output_item.done",
            "response.output_item.added",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.done",
            "response.output_item.done",
            "response.completed",
        ]
    );
    assert_eq!(
        response["output"],
        json!([
            {"type":"reasoning","id":"rs_test00","summary":[],"encrypted_content":format!("sealed:{CALL_SIG}"),"status":"completed"},
            {"type":"function_call","id":"fc_test01","call_id":"call_req1_0","name":"get_weather",
             "arguments":r#"{"location":"San Francisco, CA"}"#,"status":"completed"}
        ])
    );
    assert_eq!(response["usage"], usage(72, 115, 0, 97));
}

fn upstream_kind(result: Result<(Vec<Value>, Value), GatewayError>) -> UpstreamErrorKind {
    match result {
        Err(GatewayError::Upstream(e)) => e.kind,
        other => panic!("expected an upstream error, got {other:?}"),
    }
}

#[test]
fn a_stream_without_finish_reason_was_cut() {
    let body = String::from_utf8(fixture("stream_generate_content_text.sse")).unwrap();
    let frames: Vec<&str> = body
        .split("\r\n\r\n")
        .filter(|f| !f.trim().is_empty())
        .collect();
    let cut = format!("{}\r\n\r\n", frames[..frames.len() - 1].join("\r\n\r\n"));
    assert_eq!(
        upstream_kind(run(cut.as_bytes(), &[])),
        UpstreamErrorKind::Server
    );
    assert_eq!(upstream_kind(run(b"", &[])), UpstreamErrorKind::Server);
}

#[test]
fn error_frames_map_to_their_kind() {
    let cases = [
        (
            r#"{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}"#,
            UpstreamErrorKind::Overloaded,
        ),
        (
            r#"{"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED"}}"#,
            UpstreamErrorKind::RateLimited,
        ),
        (
            r#"[{"error":{"message":"boom","status":"INTERNAL"}}]"#,
            UpstreamErrorKind::Server,
        ),
        (
            r#"{"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT"}}"#,
            UpstreamErrorKind::BadRequest,
        ),
        ("{not json", UpstreamErrorKind::Protocol),
    ];
    for (frame, kind) in cases {
        let body = format!(
            "data: {{\"candidates\":[{{\"content\":{{\"role\":\"model\",\"parts\":[{{\"text\":\"Hi\"}}]}}}}]}}\r\n\r\ndata: {frame}\r\n\r\n"
        );
        assert_eq!(upstream_kind(run(body.as_bytes(), &[])), kind, "{frame}");
    }
}

#[test]
fn a_blocked_prompt_stream_is_incomplete() {
    let body = "data: {\"promptFeedback\":{\"blockReason\":\"SAFETY\"},\"usageMetadata\":{\"promptTokenCount\":5}}\r\n\r\n";
    let (_, response) = run(body.as_bytes(), &[]).unwrap();
    assert_eq!(response["status"], "incomplete");
    assert_eq!(
        response["incomplete_details"],
        json!({"reason":"content_filter"})
    );
    assert_eq!(response["output"], json!([]));
}

#[test]
fn max_tokens_stream_is_incomplete_and_keeps_the_trailing_signature() {
    let body = String::from_utf8(fixture("stream_generate_content_text.sse"))
        .unwrap()
        .replace(
            "\"finishReason\":\"STOP\"",
            "\"finishReason\":\"MAX_TOKENS\"",
        );
    let (events, response) = run(body.as_bytes(), &[]).unwrap();
    assert_eq!(events.last().unwrap()["type"], "response.incomplete");
    assert_eq!(response["status"], "incomplete");
    assert_eq!(
        response["incomplete_details"],
        json!({"reason":"max_output_tokens"})
    );
    assert_eq!(
        response["output"][1]["encrypted_content"],
        format!("sealed:{TEXT_SIG}")
    );
    assert_eq!(response["output"][1]["status"], "completed");
}

#[test]
fn thought_deltas_form_one_summary_before_the_answer() {
    let frames = [
        r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"Let me ","thought":true}]}}]}"#,
        r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"think.","thought":true}]}}]}"#,
        r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"Done."}]},"finishReason":"STOP"}]}"#,
    ];
    let body: String = frames
        .iter()
        .map(|f| format!("data: {f}\r\n\r\n"))
        .collect();
    let (_, response) = run(body.as_bytes(), &[]).unwrap();
    assert_eq!(
        response["output"],
        json!([
            {"type":"reasoning","id":"rs_test00","summary":[{"type":"summary_text","text":"Let me think."}],"status":"completed"},
            {"type":"message","id":"msg_test01","status":"completed","role":"assistant",
             "content":[{"type":"output_text","text":"Done.","annotations":[]}]}
        ])
    );
}
