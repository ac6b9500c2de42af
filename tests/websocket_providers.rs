//! A five-turn tool-using conversation over one WebSocket connection with each provider, mixing
//! stored and `store: false` turns so every continuation path is taken: stored → pass-through,
//! `store: false` after stored, `store: false` after `store: false` (resolved on the connection),
//! stored after `store: false`, and stored after stored.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod ws_client;

use common::{
    gateway::{providers_yaml, start_gateway},
    mock_upstream::MockUpstream,
};
use serde_json::{Value, json};
use ws_client::connect;

/// `store` for turns 1..=5.
const STORE: [bool; 5] = [true, false, false, true, true];

fn tools() -> Value {
    json!([{"type": "function", "name": "get_weather", "description": "Current weather",
            "parameters": {"type": "object", "properties": {"location": {"type": "string"}},
                           "required": ["location"]}}])
}

/// Runs the conversation; answers the last upstream request body.
async fn five_turns(provider: &str, model: &str) -> Value {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &[provider], ""));
    let mut ws = connect(&gw).await;
    let first = ws
        .turn(
            json!({"type": "response.create", "model": model, "tools": tools(),
                     "instructions": "Use the tool.", "input": "Weather in Paris?"}),
        )
        .await;
    assert!(
        first
            .events
            .iter()
            .any(|e| e["type"] == "response.function_call_arguments.delta"),
        "{provider}: the call's arguments stream"
    );
    let mut previous = first;
    for (turn, store) in STORE.iter().enumerate().skip(1) {
        let call = previous.call();
        let mut input = vec![
            json!({"type": "function_call_output", "call_id": call["call_id"],
                                    "output": format!("{{\"temp\": {}}}", 20 + turn)}),
        ];
        if turn == 2 {
            input.push(json!({"type": "message", "role": "user", "content": "And tomorrow?"}));
        }
        let next = ws
            .turn(
                json!({"type": "response.create", "model": model, "tools": tools(),
                         "previous_response_id": previous.id(), "store": store, "input": input}),
            )
            .await;
        assert_eq!(
            next.response()["previous_response_id"],
            previous.id(),
            "{provider} turn {}",
            turn + 1
        );
        assert_eq!(next.response()["store"], *store);
        previous = next;
    }
    assert_eq!(
        mock.requests().len(),
        5,
        "{provider}: one upstream call per turn"
    );
    mock.last_request().unwrap().body
}

fn count(values: &[Value], pred: impl Fn(&Value) -> bool) -> usize {
    values.iter().filter(|v| pred(v)).count()
}

#[actix_web::test]
async fn five_tool_turns_with_openai() {
    let body = five_turns("openai", "gpt-4o-mini").await;
    // The Responses API gets the whole history as input items.
    let input = body["input"].as_array().unwrap();
    assert_eq!(count(input, |i| i["type"] == "function_call"), 4);
    assert_eq!(count(input, |i| i["type"] == "function_call_output"), 4);
    assert_eq!(count(input, |i| i["role"] == "user"), 2);
}

#[actix_web::test]
async fn five_tool_turns_with_azure_openai() {
    let body = five_turns("azureopenai", "gpt-4o-mini").await;
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(count(messages, |m| m["role"] == "tool"), 4);
    assert_eq!(count(messages, |m| m["tool_calls"].is_array()), 4);
    assert_eq!(count(messages, |m| m["role"] == "user"), 2);
}

#[actix_web::test]
async fn five_tool_turns_with_anthropic() {
    let body = five_turns("anthropic", "claude-sonnet-4-5").await;
    let blocks: Vec<Value> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["content"].as_array().cloned().unwrap_or_default())
        .collect();
    assert_eq!(count(&blocks, |b| b["type"] == "tool_use"), 4);
    assert_eq!(count(&blocks, |b| b["type"] == "tool_result"), 4);
}

#[actix_web::test]
async fn five_tool_turns_with_gemini() {
    let body = five_turns("google", "gemini-2.5-flash").await;
    let parts: Vec<Value> = body["contents"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["parts"].as_array().cloned().unwrap_or_default())
        .collect();
    assert_eq!(count(&parts, |p| p.get("functionCall").is_some()), 4);
    assert_eq!(count(&parts, |p| p.get("functionResponse").is_some()), 4);
}
