//! End to end through the real server against a mock Anthropic Messages API.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{
    gateway::{post_responses, providers_yaml, start_gateway},
    mock_upstream::MockUpstream,
    spec::{assert_valid_error_body, assert_valid_response, assert_valid_sse_stream},
};
use serde_json::json;

const MODEL: &str = "claude-sonnet-4-5";

#[actix_web::test]
async fn text_json_and_stream() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["anthropic"], ""));
    let reply = post_responses(
        &gw,
        &json!({"model":MODEL,"input":"Hello","instructions":"Be brief."}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.json();
    assert_valid_response(&body);
    assert_eq!(body["status"], "completed");
    let upstream = mock.last_request().unwrap();
    assert_eq!(upstream.path, "/v1/messages");
    assert_eq!(upstream.header("x-api-key"), Some("test-anthropic-key"));
    assert!(
        upstream.header("authorization").is_none(),
        "caller auth never forwarded"
    );
    assert_eq!(upstream.body["system"], "Be brief.");
    assert!(upstream.body["max_tokens"].as_u64().unwrap() > 0);

    let stream = post_responses(&gw, &json!({"model":MODEL,"input":"Hello","stream":true})).await;
    let events = assert_valid_sse_stream(&stream.text);
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "response.output_text.delta")
    );
    assert_eq!(events.last().unwrap()["type"], "response.completed");
}

#[actix_web::test]
async fn tool_loop_with_history_in_anthropic_order() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["anthropic"], ""));
    let tools = json!([{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}}}}]);
    let first = post_responses(
        &gw,
        &json!({"model":MODEL,"input":"Weather in Paris?","tools":tools,"stream":true}),
    )
    .await;
    let events = assert_valid_sse_stream(&first.text);
    let response = &events.last().unwrap()["response"];
    let call = response["output"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "function_call")
        .unwrap();
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "response.function_call_arguments.delta")
    );
    let second = post_responses(
        &gw,
        &json!({"model":MODEL,"previous_response_id":response["id"],"tools":tools,
                "input":[{"type":"function_call_output","call_id":call["call_id"],"output":"{\"temp\":21}"}]}),
    )
    .await;
    assert_eq!(second.status, 200, "{}", second.text);
    assert_valid_response(&second.json());
    let messages = mock.last_request().unwrap().body["messages"].clone();
    let roles: Vec<&str> = messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant", "user"]);
    let result = &messages[2]["content"][0];
    assert_eq!(result["type"], "tool_result");
    assert_eq!(result["tool_use_id"], call["call_id"]);
}

#[actix_web::test]
async fn reasoning_is_streamed_as_summary() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["anthropic"], ""));
    let reply = post_responses(
        &gw,
        &json!({"model":MODEL,"input":"Think","reasoning":{"effort":"medium"},"stream":true}),
    )
    .await;
    let events = assert_valid_sse_stream(&reply.text);
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "response.reasoning_summary_text.delta")
    );
    assert!(mock.last_request().unwrap().body.get("thinking").is_some());
}

#[actix_web::test]
async fn limits_refusals_and_errors() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["anthropic"], ""));
    let cut = post_responses(&gw, &json!({"model":"claude-max-tokens","input":"Long"}))
        .await
        .json();
    assert_valid_response(&cut);
    assert_eq!(cut["status"], "incomplete");
    assert_eq!(cut["incomplete_details"]["reason"], "max_output_tokens");
    for (model, status) in [
        ("claude-fail-400", 400),
        ("claude-fail-401", 502),
        ("claude-fail-429", 429),
        ("claude-fail-529", 503),
    ] {
        let reply = post_responses(&gw, &json!({"model":model,"input":"hi"})).await;
        assert_eq!(reply.status, status, "{model}: {}", reply.text);
        assert_valid_error_body(&reply.json());
        assert!(!reply.text.contains("test-anthropic-key"));
    }
    let overloaded = post_responses(
        &gw,
        &json!({"model":"claude-stream-error","input":"hi","stream":true}),
    )
    .await;
    let events = assert_valid_sse_stream(&overloaded.text);
    assert_eq!(events.last().unwrap()["type"], "response.failed");
}

#[actix_web::test]
async fn overloaded_anthropic_fails_over_to_a_fallback() {
    let mock = MockUpstream::start();
    let yaml = format!(
        "{}routing:\n  retries: 1\n  retry_backoff: 10ms\n  fallbacks:\n    claude-fail-529: [\"openai/gpt-4o-mini\"]\n",
        providers_yaml(&mock, &["anthropic", "openai"], "")
    );
    let gw = start_gateway(&yaml);
    let reply = post_responses(&gw, &json!({"model":"claude-fail-529","input":"hi"})).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        mock.hits("/v1/messages"),
        2,
        "a 529 is retried once, then the fallback"
    );
    assert_eq!(mock.hits("/v1/responses"), 1);
}

/// Extended thinking with tool use across turns with `store: false`: the second turn resends
/// the first turn's output items verbatim, and the upstream receives the signed thinking block
/// back in its place, before the `tool_use` it led to (Anthropic requires it there).
#[actix_web::test]
async fn a_thinking_tool_loop_survives_store_false() {
    use common::mock_upstream::Behaviour;
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["anthropic"], ""));
    let signature = "EqQBCkYIBxgCKkDk3mVfXJ0b6wq2n7tZ1hGZcY4mXoP9rL8sA2dF5gH1jK3lM6nO8pQ0rS2tU4vW6xY8zA0bC2dE4fG6hI8jK0lMEgyZ3JhZGllbnQtc2lnGgw";
    let first_answer = json!({
        "id": "msg_01", "type": "message", "role": "assistant", "model": MODEL,
        "content": [
            {"type": "thinking", "thinking": "I should look the weather up.", "signature": signature},
            {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}}
        ],
        "stop_reason": "tool_use", "stop_sequence": null,
        "usage": {"input_tokens": 40, "output_tokens": 30}
    });
    mock.push_behaviour(Behaviour::Status(
        200,
        first_answer.to_string(),
        vec![("content-type".to_owned(), "application/json".to_owned())],
    ));
    let tools = json!([{"type": "function", "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]);
    let first = post_responses(
        &gw,
        &json!({"model": MODEL, "input": "Weather in Paris?", "store": false, "tools": tools,
            "reasoning": {"effort": "medium"}, "include": ["reasoning.encrypted_content"]}),
    )
    .await;
    assert_eq!(first.status, 200, "{}", first.text);
    let first = first.json();
    assert_valid_response(&first);
    let output = first["output"].as_array().unwrap().clone();
    assert_eq!(output[0]["type"], "reasoning");
    assert!(
        output[0]["encrypted_content"]
            .as_str()
            .is_some_and(|e| !e.is_empty())
    );
    let call = output
        .iter()
        .find(|i| i["type"] == "function_call")
        .unwrap();
    // Turn two: the first turn's items verbatim, then the tool's result.
    let mut input =
        vec![json!({"type": "message", "role": "user", "content": "Weather in Paris?"})];
    input.extend(output.iter().cloned());
    input.push(json!({"type": "function_call_output", "call_id": call["call_id"], "output": "18°C, sunny"}));
    let second = post_responses(
        &gw,
        &json!({"model": MODEL, "input": input, "store": false, "tools": tools,
            "reasoning": {"effort": "medium"}, "include": ["reasoning.encrypted_content"]}),
    )
    .await;
    assert_eq!(second.status, 200, "{}", second.text);
    let upstream = mock.last_request().unwrap().body;
    let messages = upstream["messages"].as_array().unwrap();
    let assistant = &messages[1];
    assert_eq!(assistant["role"], "assistant");
    let blocks = assistant["content"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "thinking", "{assistant}");
    assert_eq!(blocks[0]["signature"], signature);
    assert_eq!(blocks[0]["thinking"], "I should look the weather up.");
    assert_eq!(blocks[1]["type"], "tool_use");
    assert_eq!(blocks[1]["id"], "toolu_01");
    let results = messages[2]["content"].as_array().unwrap();
    assert_eq!(results[0]["type"], "tool_result");
    assert_eq!(results[0]["tool_use_id"], "toolu_01");
}

/// Prompt caching: a request with `prompt_cache_key` (or every request with `prompt_cache:
/// auto`) asks Anthropic to cache its prefix, and cache reads come back as `cached_tokens`.
#[actix_web::test]
async fn prompt_caching_is_asked_for_and_reported() {
    use common::mock_upstream::Behaviour;
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["anthropic"], ""));
    post_responses(&gw, &json!({"model": MODEL, "input": "Hi"})).await;
    assert!(
        mock.last_request()
            .unwrap()
            .body
            .get("cache_control")
            .is_none()
    );
    let cached = json!({
        "id": "msg_02", "type": "message", "role": "assistant", "model": MODEL,
        "content": [{"type": "text", "text": "Hello again."}],
        "stop_reason": "end_turn", "stop_sequence": null,
        "usage": {"input_tokens": 10, "cache_read_input_tokens": 3000, "cache_creation_input_tokens": 0, "output_tokens": 5}
    });
    mock.push_behaviour(Behaviour::Status(
        200,
        cached.to_string(),
        vec![("content-type".to_owned(), "application/json".to_owned())],
    ));
    let reply = post_responses(
        &gw,
        &json!({"model": MODEL, "input": "Hi", "prompt_cache_key": "session-1"}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        mock.last_request().unwrap().body["cache_control"],
        json!({"type": "ephemeral"})
    );
    let usage = &reply.json()["usage"];
    assert_eq!(usage["input_tokens_details"]["cached_tokens"], 3000);
    assert_eq!(usage["input_tokens"], 3010);

    let auto = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(
        &auto,
        &["anthropic"],
        "    prompt_cache: auto\n",
    ));
    post_responses(&gw, &json!({"model": MODEL, "input": "Hi"})).await;
    assert_eq!(
        auto.last_request().unwrap().body["cache_control"],
        json!({"type": "ephemeral"})
    );
}
