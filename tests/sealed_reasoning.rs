//! Reasoning state sealed in `encrypted_content` (`server.secret`), end to end against the mock
//! upstreams: a `store: false` tool loop restores Anthropic's signed thinking block and Gemini's
//! thought signature, also through another gateway with the same secret; an altered envelope is
//! a 400 naming the item; state sealed for another model or under another secret is left out.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{
    gateway::{TestGateway, post_responses, providers_yaml, start_gateway_with_server},
    mock_upstream::{Behaviour, MockUpstream},
    spec::{assert_valid_error_body, assert_valid_response},
};
use serde_json::{Value, json};

const CLAUDE: &str = "claude-sonnet-4-5";
const SIGNATURE: &str = "EqQBCkYIBxgCKkDk3mVfXJ0b6wq2n7tZ1hGZcY4mXoP9rL8sA2dF5gH1jK3lM6nO8pQ0rS2tU4vW6xY8zA0bC2dE4fG6hI8jK0lMEgyZ3JhZGllbnQtc2lnGgw";
const SECRET: &str = "  secret: \"one secret shared by the replicas\"\n";

fn tools() -> Value {
    json!([{"type": "function", "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}])
}

fn gateway(mock: &MockUpstream, provider: &str, server: &str) -> TestGateway {
    start_gateway_with_server(&providers_yaml(mock, &[provider], ""), server)
}

fn json_reply(body: &Value) -> Behaviour {
    Behaviour::Status(
        200,
        body.to_string(),
        vec![("content-type".to_owned(), "application/json".to_owned())],
    )
}

/// Turn one on Anthropic with thinking: the model thinks, then calls a tool. Returns the output.
async fn claude_first_turn(gw: &TestGateway, mock: &MockUpstream) -> Vec<Value> {
    mock.push_behaviour(json_reply(&json!({
        "id": "msg_01", "type": "message", "role": "assistant", "model": CLAUDE,
        "content": [
            {"type": "thinking", "thinking": "I should look the weather up.", "signature": SIGNATURE},
            {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}}
        ],
        "stop_reason": "tool_use", "stop_sequence": null,
        "usage": {"input_tokens": 40, "output_tokens": 30}
    })));
    let reply = post_responses(gw, &turn(CLAUDE, Vec::new())).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.json();
    assert_valid_response(&body);
    let output = body["output"].as_array().unwrap().clone();
    let sealed = output[0]["encrypted_content"].as_str().unwrap();
    assert!(sealed.starts_with("gw1."), "{sealed}");
    assert!(
        !sealed.contains(SIGNATURE) && !sealed.contains("signature"),
        "sealed, not plain: {sealed}"
    );
    output
}

/// A `store: false` turn: the question, `earlier` items verbatim, then the tool's result.
fn turn(model: &str, earlier: Vec<Value>) -> Value {
    let mut input =
        vec![json!({"type": "message", "role": "user", "content": "Weather in Paris?"})];
    let call_id = earlier
        .iter()
        .find(|i| i["type"] == "function_call")
        .map(|c| c["call_id"].clone());
    input.extend(earlier);
    if let Some(call_id) = call_id {
        input.push(json!({"type": "function_call_output", "call_id": call_id, "output": "18°C"}));
    }
    json!({"model": model, "input": input, "store": false, "tools": tools(),
           "reasoning": {"effort": "medium"}, "include": ["reasoning.encrypted_content"]})
}

/// The first upstream assistant turn's blocks in the last request.
fn assistant_blocks(mock: &MockUpstream) -> (Vec<Value>, Value) {
    let body = mock.last_request().unwrap().body;
    let blocks = body["messages"][1]["content"].as_array().unwrap().clone();
    (blocks, body)
}

#[actix_web::test]
async fn another_gateway_with_the_same_secret_restores_the_thinking_block() {
    let mock = MockUpstream::start();
    let first = gateway(&mock, "anthropic", SECRET);
    let output = claude_first_turn(&first, &mock).await;
    // A restart (or another replica) with the same `server.secret`.
    let second = gateway(&mock, "anthropic", SECRET);
    let reply = post_responses(&second, &turn(CLAUDE, output)).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let (blocks, body) = assistant_blocks(&mock);
    assert_eq!(blocks[0]["type"], "thinking", "{body}");
    assert_eq!(blocks[0]["signature"], SIGNATURE);
    assert_eq!(blocks[1]["type"], "tool_use");
    assert_eq!(body["thinking"]["type"], "enabled");
}

#[actix_web::test]
async fn state_from_another_secret_or_model_is_left_out() {
    let mock = MockUpstream::start();
    let first = gateway(&mock, "anthropic", SECRET);
    let output = claude_first_turn(&first, &mock).await;
    let other_secret = gateway(
        &mock,
        "anthropic",
        "  secret: \"a different secret, another fleet\"\n",
    );
    for (gw, model) in [(&other_secret, CLAUDE), (&first, "claude-opus-4-1")] {
        let reply = post_responses(gw, &turn(model, output.clone())).await;
        assert_eq!(reply.status, 200, "{model}: {}", reply.text);
        let (blocks, body) = assistant_blocks(&mock);
        assert_eq!(blocks.len(), 1, "{model}: only the tool_use: {body}");
        assert_eq!(blocks[0]["type"], "tool_use");
        // Without its thinking block the tool turn cannot continue with thinking on.
        assert!(body.get("thinking").is_none(), "{body}");
    }
}

#[actix_web::test]
async fn an_altered_envelope_is_a_400_naming_the_item() {
    let mock = MockUpstream::start();
    let gw = gateway(&mock, "anthropic", SECRET);
    let mut output = claude_first_turn(&gw, &mock).await;
    let sealed = output[0]["encrypted_content"].as_str().unwrap().to_owned();
    let middle = sealed.len() / 2;
    let flipped = if &sealed[middle..=middle] == "A" {
        "B"
    } else {
        "A"
    };
    output[0]["encrypted_content"] = json!(format!(
        "{}{flipped}{}",
        &sealed[..middle],
        &sealed[middle + 1..]
    ));
    let requests = mock.requests().len();
    let reply = post_responses(&gw, &turn(CLAUDE, output)).await;
    assert_eq!(reply.status, 400, "{}", reply.text);
    let body = reply.json();
    assert_valid_error_body(&body);
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert_eq!(body["error"]["param"], "input[1].encrypted_content");
    assert_eq!(mock.requests().len(), requests, "never sent upstream");
}

#[actix_web::test]
async fn gemini_thought_signatures_come_back_on_their_part() {
    let mock = MockUpstream::start();
    let first = gateway(&mock, "google", SECRET);
    mock.push_behaviour(json_reply(&json!({
        "candidates": [{"content": {"role": "model", "parts": [
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
             "thoughtSignature": "c2lnbmF0dXJlLW9mLXRoZS1jYWxs"}]},
            "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15},
        "modelVersion": "gemini-2.5-flash"
    })));
    let reply = post_responses(&first, &turn("gemini-2.5-flash", Vec::new())).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.json();
    assert_valid_response(&body);
    let output = body["output"].as_array().unwrap().clone();
    assert_eq!(output[0]["type"], "reasoning");
    let sealed = output[0]["encrypted_content"].as_str().unwrap();
    assert!(sealed.starts_with("gw1."), "{sealed}");

    let second = gateway(&mock, "google", SECRET);
    let reply = post_responses(&second, &turn("gemini-2.5-flash", output.clone())).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let upstream = mock.last_request().unwrap().body;
    let model_turn = &upstream["contents"][1];
    assert_eq!(model_turn["role"], "model", "{upstream}");
    assert_eq!(
        model_turn["parts"][0]["thoughtSignature"],
        "c2lnbmF0dXJlLW9mLXRoZS1jYWxs"
    );
    assert!(model_turn["parts"][0]["functionCall"].is_object());

    let mut forged = output;
    forged[0]["encrypted_content"] = json!("gw1.AAAA");
    let reply = post_responses(&second, &turn("gemini-2.5-flash", forged)).await;
    assert_eq!(reply.status, 400, "{}", reply.text);
    assert_valid_error_body(&reply.json());
    assert_eq!(reply.json()["error"]["param"], "input[1].encrypted_content");
}
