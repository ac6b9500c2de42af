//! `parse_response`: `chat.completion` bodies (OpenAI and Azure fixtures) → final response.

use serde_json::{Value, json};

use super::{call, emitter, fixture, summary};
use crate::{
    api::CreateResponse,
    error::{GatewayError, UpstreamErrorKind},
    providers::azure::parse_response,
};

fn parse(body: &[u8]) -> Result<Value, GatewayError> {
    let request = CreateResponse::default();
    let mut out = emitter(&request);
    parse_response(body, call(&request, &[], false), &mut out, "azureopenai")?;
    assert!(out.is_finished());
    Ok(summary(out.response()))
}

fn usage(input: u64, output: u64, cached: u64, reasoning: u64) -> Value {
    json!({"input_tokens": input, "output_tokens": output, "total_tokens": input + output,
           "input_tokens_details": {"cached_tokens": cached},
           "output_tokens_details": {"reasoning_tokens": reasoning}})
}

fn message(status: &str, text: &str) -> Value {
    json!({"type": "message", "id": "msg_test00", "status": status, "role": "assistant",
           "content": [{"type": "output_text", "text": text, "annotations": []}]})
}

#[test]
fn openai_text_completion() {
    let text = "I'm unable to provide real-time weather updates. To get the current weather in San Francisco, I recommend checking a reliable weather website or app like the Weather Channel or a local news station.";
    assert_eq!(
        parse(&fixture("openai/chat_completion_text.json")).unwrap(),
        json!({"status": "completed", "incomplete_details": null, "model": "gpt-4o-2024-08-06",
               "output": [message("completed", text)], "usage": usage(14, 37, 0, 0)})
    );
}

#[test]
fn openai_tool_call_completion() {
    assert_eq!(
        parse(&fixture("openai/chat_completion_tool_call.json")).unwrap(),
        json!({"status": "completed", "incomplete_details": null, "model": "gpt-4o-2024-08-06",
               "output": [{"type": "function_call", "id": "fc_test00", "call_id": "call_CUdUoJpsWWVdxXntucvnol1M",
                           "name": "get_weather", "arguments": "{\"city\":\"San Francisco\",\"state\":\"CA\"}",
                           "status": "completed"}],
               "usage": usage(48, 19, 0, 0)})
    );
}

#[test]
fn azure_text_completion_ignores_filter_annotations() {
    let text = "Ahoy! Keep yer parrot in a roomy cage, feed it pellets, fruit 'n veg, and give it daily company, arrr!";
    assert_eq!(
        parse(&fixture("azure-openai/chat_completion_text.json")).unwrap(),
        json!({"status": "completed", "incomplete_details": null, "model": "gpt-4.1-2025-04-14",
               "output": [message("completed", text)], "usage": usage(33, 29, 0, 0)})
    );
}

#[test]
fn azure_tool_call_completion() {
    let got = parse(&fixture("azure-openai/chat_completion_tool_call.json")).unwrap();
    assert_eq!(
        got["output"],
        json!([{"type": "function_call", "id": "fc_test00", "call_id": "call_Wp3kN8xQ2rT5vY7zB1cD4fG6",
                "name": "get_weather", "arguments": "{\"location\":\"Seattle, WA\"}", "status": "completed"}])
    );
    assert_eq!(got["usage"], usage(64, 17, 0, 0));
}

#[test]
fn azure_output_filter_is_incomplete_content_filter() {
    assert_eq!(
        parse(&fixture(
            "azure-openai/chat_completion_output_filtered.json"
        ))
        .unwrap(),
        json!({"status": "incomplete", "incomplete_details": {"reason": "content_filter"},
               "model": "gpt-4.1-2025-04-14",
               "output": [message("incomplete", "The battle scene opens with")], "usage": usage(21, 6, 0, 0)})
    );
}

#[test]
fn length_is_incomplete_max_output_tokens_and_details_are_read() {
    let body = json!({"model": "m", "choices": [{"index": 0, "finish_reason": "length",
        "message": {"role": "assistant", "content": "Once upon"}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 50, "prompt_tokens_details": {"cached_tokens": 4},
                  "completion_tokens_details": {"reasoning_tokens": 48}}});
    let got = parse(body.to_string().as_bytes()).unwrap();
    assert_eq!(got["status"], "incomplete");
    assert_eq!(
        got["incomplete_details"],
        json!({"reason": "max_output_tokens"})
    );
    assert_eq!(got["output"], json!([message("incomplete", "Once upon")]));
    assert_eq!(got["usage"], usage(10, 50, 4, 48));
}

#[test]
fn refusal_and_missing_call_ids() {
    let body = json!({"model": "m", "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
        "role": "assistant", "content": null, "refusal": "I can't do that.",
        "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": ""}}]}}]});
    let got = parse(body.to_string().as_bytes()).unwrap();
    assert_eq!(
        got["output"],
        json!([
            {"type": "message", "id": "msg_test00", "status": "completed", "role": "assistant",
             "content": [{"type": "refusal", "refusal": "I can't do that."}]},
            {"type": "function_call", "id": "fc_test01", "call_id": "call_test_0", "name": "f",
             "arguments": "{}", "status": "completed"}
        ])
    );
    assert_eq!(got["usage"], Value::Null);
}

#[test]
fn in_band_errors_and_garbage_are_errors() {
    let err = parse(
        br#"{"error":{"message":"The server had an error","type":"server_error","code":null}}"#,
    )
    .unwrap_err();
    let GatewayError::Upstream(e) = err else {
        panic!("not upstream")
    };
    assert_eq!(e.kind, UpstreamErrorKind::Server);
    for body in [&b"not json"[..], br#"{"choices":[]}"#] {
        let GatewayError::Upstream(e) = parse(body).unwrap_err() else {
            panic!("not upstream")
        };
        assert_eq!(e.kind, UpstreamErrorKind::Protocol);
    }
}
