//! WebSocket mode as coding agents (Codex) use it, through the real server: the `generate: false`
//! warm-up that prepares a turn without a model call, turns that chain from it sending only
//! their new items, and the error frames agents act on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod ws_client;

use common::{
    gateway::{providers_yaml, start_gateway},
    mock_upstream::{Behaviour, MockUpstream},
};
use serde_json::{Value, json};
use ws_client::connect;

/// A frame as Codex sends it: always `stream`, `store: false`, tools and instructions each time.
fn codex_frame(model: &str, previous: Option<&str>, input: Value) -> Value {
    json!({"type": "response.create", "model": model, "instructions": "You are a coding agent.",
           "previous_response_id": previous, "input": input, "stream": true, "store": false,
           "tools": [{"type": "function", "name": "get_weather", "description": "Weather",
                      "parameters": {"type": "object", "properties": {"location": {"type": "string"}}}}],
           "tool_choice": "auto", "parallel_tool_calls": false,
           "include": ["reasoning.encrypted_content"], "client_metadata": {"session": "s1"}})
}

fn warm_up(model: &str) -> Value {
    let mut frame = codex_frame(model, None, json!([]));
    frame["generate"] = json!(false);
    frame
}

fn user(text: &str) -> Value {
    json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]})
}

#[actix_web::test]
async fn generate_false_prepares_a_turn_without_calling_the_model() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["openai"], ""));
    let mut ws = connect(&gw).await;
    let prepared = ws.turn(warm_up("gpt-4o-mini")).await;
    let kinds: Vec<&str> = prepared
        .events
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "response.created",
            "response.in_progress",
            "response.completed"
        ]
    );
    let response = prepared.response();
    assert_eq!(response["status"], "completed");
    assert_eq!(response["output"], json!([]));
    assert_eq!(response["instructions"], "You are a coding agent.");
    assert_eq!(response["usage"]["total_tokens"], 0);
    assert_eq!(mock.requests().len(), 0, "no model call");
    // Each warm-up is a fresh id.
    let again = ws.turn(warm_up("gpt-4o-mini")).await;
    assert_ne!(again.id(), prepared.id());

    let first = ws
        .turn(codex_frame(
            "gpt-4o-mini",
            Some(&prepared.id()),
            json!([user("Hello")]),
        ))
        .await;
    assert_eq!(first.response()["previous_response_id"], prepared.id());
    let upstream = mock.last_request().unwrap().body;
    assert_eq!(upstream["input"], json!([user("Hello")]));
    assert!(upstream.get("previous_response_id").is_none());
    assert!(upstream.get("generate").is_none());
}

#[actix_web::test]
async fn a_turn_sends_only_its_new_items_after_a_tool_call() {
    // Anthropic: the mock refuses a tool result that does not follow its tool_use, so the
    // cached call must come back in place.
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["anthropic"], ""));
    let model = "claude-sonnet-4-5";
    let mut ws = connect(&gw).await;
    let prepared = ws.turn(warm_up(model)).await;
    mock.push_behaviour(Behaviour::CallTool("get_weather".into()));
    let first = ws
        .turn(codex_frame(
            model,
            Some(&prepared.id()),
            json!([user("Weather in Paris?")]),
        ))
        .await;
    let call = first.call();
    mock.push_behaviour(Behaviour::Text);
    let output =
        json!({"type": "function_call_output", "call_id": call["call_id"], "output": "sunny"});
    let second = ws
        .turn(codex_frame(model, Some(&first.id()), json!([output])))
        .await;
    assert_eq!(second.response()["status"], "completed");
    assert_eq!(second.response()["previous_response_id"], first.id());
    let messages = mock.last_request().unwrap().body["messages"].clone();
    let blocks: Vec<&str> = messages
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["content"].as_array().unwrap())
        .map(|b| b["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        blocks,
        ["text", "text", "tool_use", "tool_result"],
        "{messages}"
    );
    assert_eq!(messages[1]["content"][1]["id"], call["call_id"]);
    assert_eq!(mock.requests().len(), 2, "the warm-up called no model");
}

#[actix_web::test]
async fn warm_up_errors_are_error_frames() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["openai"], ""));
    let mut ws = connect(&gw).await;
    let mut no_model = warm_up("gpt-4o-mini");
    no_model.as_object_mut().unwrap().remove("model");
    let turn = ws.turn(no_model).await;
    assert_eq!(turn.error()["status"], 400);
    assert_eq!(turn.error()["error"]["param"], "model");
    let mut unknown = warm_up("gpt-4o-mini");
    unknown["previous_response_id"] = json!("resp_unknown");
    let turn = ws.turn(unknown).await;
    assert_eq!(turn.error()["status"], 404);
    assert_eq!(turn.error()["error"]["code"], "previous_response_not_found");
    let mut bad = warm_up("gpt-4o-mini");
    bad["generate"] = json!("no");
    let turn = ws.turn(bad).await;
    assert_eq!(turn.error()["status"], 400);
    assert_eq!(turn.error()["error"]["code"], "invalid_type");
    assert_eq!(mock.requests().len(), 0);
}

#[actix_web::test]
async fn upstream_failures_are_error_frames_with_the_codes_agents_act_on() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["openai"], ""));
    let mut ws = connect(&gw).await;
    let prepared = ws.turn(warm_up("gpt-4o-mini")).await;
    mock.push_behaviour(Behaviour::FailQuota);
    let turn = ws
        .turn(codex_frame(
            "gpt-4o-mini",
            Some(&prepared.id()),
            json!([user("Hi")]),
        ))
        .await;
    let error = turn.error();
    assert_eq!(error["type"], "error");
    assert_eq!(error["status"], 429);
    assert_eq!(error["error"]["code"], "insufficient_quota");
    assert!(error["error"]["message"].is_string());
}
