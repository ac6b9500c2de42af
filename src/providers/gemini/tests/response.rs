//! Golden response translation: every `generate_content_*.json` fixture → response output.

use serde_json::{Value, json};

use super::{
    CALL_SIG, EURO, JOKE, TEXT_SIG, call, emitter, euro_annotations, fixture, projection, request,
    search, usage,
};
use crate::{
    error::{GatewayError, UpstreamErrorKind},
    providers::gemini::parse_response,
};

fn parse(body: &[u8]) -> Result<Value, GatewayError> {
    let req = request(json!({"input":"hi"}));
    let input = req.input_items();
    let mut out = emitter(&req, false);
    parse_response(
        body,
        call(&req, &input, "gemini-2.5-flash"),
        &mut out,
        "google",
    )?;
    assert!(out.is_finished());
    Ok(projection(out.response()))
}

fn parse_fixture(name: &str) -> Value {
    parse(&fixture(name)).unwrap()
}

fn signature_item(id: &str, sig: &str) -> Value {
    json!({"type":"reasoning","id":id,"summary":[],"encrypted_content":format!("sealed:{sig}"),"status":"completed"})
}

fn call_item(id: &str, call_id: &str, arguments: &str) -> Value {
    json!({"type":"function_call","id":id,"call_id":call_id,"name":"get_weather","arguments":arguments,"status":"completed"})
}

#[test]
fn grounded_fixture_gives_searches_then_cited_text() {
    assert_eq!(
        parse_fixture("generate_content_grounded.json"),
        json!({
            "status":"completed","model":"gemini-2.5-flash","incomplete_details":null,"error":null,
            "usage":usage(192, 31, 0, 0),
            "output":[
                search("ws_test00", "UEFA Euro 2024 winner"),
                search("ws_test01", "who won euro 2024"),
                {"type":"message","id":"msg_test02","status":"completed","role":"assistant",
                 "content":[{"type":"output_text","text":EURO,"annotations":euro_annotations()}]}
            ]
        })
    );
}

#[test]
fn text_fixture() {
    assert_eq!(
        parse_fixture("generate_content_text.json"),
        json!({
            "status":"completed","model":"gemini-2.5-flash","incomplete_details":null,"error":null,
            "usage":usage(8, 404, 0, 385),
            "output":[
                signature_item("rs_test00", TEXT_SIG),
                {"type":"message","id":"msg_test01","status":"completed","role":"assistant",
                 "content":[{"type":"output_text","text":JOKE,"annotations":[]}]}
            ]
        })
    );
}

#[test]
fn function_call_fixture() {
    assert_eq!(
        parse_fixture("generate_content_function_call.json"),
        json!({
            "status":"completed","model":"gemini-2.5-flash","incomplete_details":null,"error":null,
            "usage":usage(72, 115, 0, 97),
            "output":[
                signature_item("rs_test00", CALL_SIG),
                call_item("fc_test01", "call_req1_0", r#"{"location":"San Francisco, CA"}"#)
            ]
        })
    );
}

#[test]
fn parallel_function_calls_fixture() {
    assert_eq!(
        parse_fixture("generate_content_parallel_function_calls.json"),
        json!({
            "status":"completed","model":"gemini-2.5-flash","incomplete_details":null,"error":null,
            "usage":usage(74, 156, 0, 126),
            "output":[
                signature_item("rs_test00", CALL_SIG),
                call_item("fc_test01", "call_req1_0", r#"{"location":"Paris"}"#),
                call_item("fc_test02", "call_req1_1", r#"{"location":"London"}"#)
            ]
        })
    );
}

#[test]
fn max_tokens_fixture_is_incomplete() {
    assert_eq!(
        parse_fixture("generate_content_max_tokens.json"),
        json!({
            "status":"incomplete","model":"gemini-2.5-flash",
            "incomplete_details":{"reason":"max_output_tokens"},"error":null,
            "usage":usage(11, 53, 0, 44),
            "output":[
                {"type":"message","id":"msg_test00","status":"incomplete","role":"assistant",
                 "content":[{"type":"output_text","text":"Here is a detailed, step-by-step plan for","annotations":[]}]}
            ]
        })
    );
}

#[test]
fn prompt_blocked_fixture_is_an_empty_content_filter_response() {
    assert_eq!(
        parse_fixture("generate_content_prompt_blocked.json"),
        json!({
            "status":"incomplete","model":"gemini-2.5-flash",
            "incomplete_details":{"reason":"content_filter"},"error":null,
            "usage":usage(23, 0, 0, 0),
            "output":[]
        })
    );
}

#[test]
fn thoughts_ids_and_cached_tokens() {
    let body = json!({
        "candidates":[{"content":{"role":"model","parts":[
            {"text":"Thinking about it.","thought":true},
            {"text":"Answer."},
            {"functionCall":{"id":"gem-7","name":"get_weather"}}
        ]},"finishReason":"STOP"}],
        "usageMetadata":{"promptTokenCount":100,"cachedContentTokenCount":60,"candidatesTokenCount":5,
                         "thoughtsTokenCount":7,"toolUsePromptTokenCount":3},
        "modelVersion":"gemini-3-flash-preview"
    });
    let value = parse(body.to_string().as_bytes()).unwrap();
    assert_eq!(value["usage"], usage(103, 12, 60, 7));
    assert_eq!(value["model"], "gemini-3-flash-preview");
    assert_eq!(
        value["output"],
        json!([
            {"type":"reasoning","id":"rs_test00","summary":[{"type":"summary_text","text":"Thinking about it."}],"status":"completed"},
            {"type":"message","id":"msg_test01","status":"completed","role":"assistant",
             "content":[{"type":"output_text","text":"Answer.","annotations":[]}]},
            call_item("fc_test02", "gem-7", "{}")
        ])
    );
}

#[test]
fn finish_reasons_map_to_status() {
    let cases = [
        (
            "SAFETY",
            None,
            json!("incomplete"),
            json!({"reason":"content_filter"}),
            Value::Null,
        ),
        (
            "IMAGE_SAFETY",
            None,
            json!("incomplete"),
            json!({"reason":"content_filter"}),
            Value::Null,
        ),
        (
            "CONTINUATION",
            None,
            json!("incomplete"),
            json!({"reason":"max_output_tokens"}),
            Value::Null,
        ),
        (
            "MALFORMED_FUNCTION_CALL",
            Some("Malformed function call: print(x"),
            json!("failed"),
            Value::Null,
            json!({"code":"server_error","message":"MALFORMED_FUNCTION_CALL: Malformed function call: print(x"}),
        ),
        (
            "OTHER",
            None,
            json!("failed"),
            Value::Null,
            json!({"code":"server_error","message":"OTHER"}),
        ),
    ];
    for (reason, message, status, incomplete, error) in cases {
        let body = json!({"candidates":[{"content":{"role":"model","parts":[{"text":"partial"}]},
                                         "finishReason":reason,"finishMessage":message}]});
        let value = parse(body.to_string().as_bytes()).unwrap();
        assert_eq!(value["status"], status, "{reason}");
        assert_eq!(value["incomplete_details"], incomplete, "{reason}");
        assert_eq!(value["error"], error, "{reason}");
    }
}

#[test]
fn unreadable_bodies_are_protocol_errors() {
    for body in [
        &b"not json"[..],
        br#"{"usageMetadata":{"promptTokenCount":1}}"#,
    ] {
        match parse(body) {
            Err(GatewayError::Upstream(e)) => assert_eq!(e.kind, UpstreamErrorKind::Protocol),
            other => panic!("expected a protocol error, got {other:?}"),
        }
    }
}
