//! End to end through the real server against mock Azure OpenAI (Chat Completions on a deployment)
//! and Gemini, including Azure-first routing for gpt-* and failover from Azure to OpenAI.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{
    gateway::{post_responses, providers_yaml, start_gateway},
    mock_upstream::{Behaviour, MockUpstream},
    spec::{assert_valid_error_body, assert_valid_response, assert_valid_sse_stream},
};
use serde_json::json;

#[actix_web::test]
async fn gpt_goes_to_azure_when_configured_and_openai_when_pinned() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["azureopenai", "openai"], ""));
    let reply = post_responses(
        &gw,
        &json!({"model":"gpt-4o-mini","input":"Hello","instructions":"Be brief."}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_valid_response(&reply.json());
    let upstream = mock.last_request().unwrap();
    assert_eq!(
        upstream.path,
        "/openai/deployments/gpt-4o-dep/chat/completions"
    );
    assert!(upstream.query_param("api-version").is_some());
    assert_eq!(upstream.header("api-key"), Some("test-azure-key"));
    assert_eq!(
        upstream.body["messages"][0],
        json!({"role":"system","content":"Be brief."})
    );
    let pinned = post_responses(
        &gw,
        &json!({"model":"gpt-4o-mini","input":"Hello","provider":"openai"}),
    )
    .await;
    assert_eq!(pinned.status, 200);
    assert_eq!(mock.last_request().unwrap().path, "/v1/responses");
}

#[actix_web::test]
async fn azure_failure_before_first_byte_fails_over_to_openai() {
    let mock = MockUpstream::start();
    // No retries of the same target: the 500 moves straight to OpenAI.
    let gw = start_gateway(&format!(
        "{}routing:\n  retries: 0\n",
        providers_yaml(&mock, &["azureopenai", "openai"], "")
    ));
    mock.push_behaviour(Behaviour::Fail500);
    let reply = post_responses(
        &gw,
        &json!({"model":"gpt-4o","input":"Hello","stream":true}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_valid_sse_stream(&reply.text);
    let paths: Vec<String> = mock.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        [
            "/openai/deployments/gpt-4o-dep/chat/completions",
            "/v1/responses"
        ]
    );
}

#[actix_web::test]
async fn azure_streams_text_and_tool_calls_and_round_trips_tools() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["azureopenai"], ""));
    let text = post_responses(&gw, &json!({"model":"gpt-4o","input":"Hi","stream":true})).await;
    let events = assert_valid_sse_stream(&text.text);
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "response.output_text.delta")
    );
    let completed = &events.last().unwrap()["response"];
    assert!(
        completed["usage"]["total_tokens"].as_u64().unwrap() > 0,
        "usage from include_usage"
    );
    assert_eq!(
        mock.last_request().unwrap().body["stream_options"]["include_usage"],
        true
    );

    let tools = json!([{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}}}}]);
    let first = post_responses(
        &gw,
        &json!({"model":"gpt-4o","input":"Weather?","tools":tools,"stream":true}),
    )
    .await;
    let events = assert_valid_sse_stream(&first.text);
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "response.function_call_arguments.delta")
    );
    let response = &events.last().unwrap()["response"];
    let call = response["output"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "function_call")
        .unwrap();
    let second = post_responses(
        &gw,
        &json!({"model":"gpt-4o","previous_response_id":response["id"],"tools":tools,
                "input":[{"type":"function_call_output","call_id":call["call_id"],"output":"sunny"}]}),
    )
    .await;
    assert_eq!(second.status, 200, "{}", second.text);
    let messages = mock.last_request().unwrap().body["messages"].clone();
    let roles: Vec<&str> = messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant", "tool"]);
    assert_eq!(messages[1]["tool_calls"][0]["id"], call["call_id"]);
    assert_eq!(messages[2]["tool_call_id"], call["call_id"]);
}

#[actix_web::test]
async fn azure_structured_output_limits_and_errors() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["azureopenai"], ""));
    let format = json!({"type":"json_schema","name":"answer","schema":{"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"additionalProperties":false},"strict":true});
    let reply = post_responses(
        &gw,
        &json!({"model":"gpt-4o","input":"JSON","text":{"format":format}}),
    )
    .await;
    assert_valid_response(&reply.json());
    let sent = mock.last_request().unwrap().body;
    assert_eq!(sent["response_format"]["type"], "json_schema");
    assert_eq!(sent["response_format"]["json_schema"]["name"], "answer");
    let yaml = providers_yaml(
        &mock,
        &["azureopenai"],
        "    deployments:\n      gpt-4o-max-tokens: dep-max-tokens\n      gpt-4o-fail-400: dep-fail-400\n      gpt-4o-fail-429: dep-fail-429\n",
    );
    let gw = start_gateway(&yaml);
    let cut = post_responses(&gw, &json!({"model":"gpt-4o-max-tokens","input":"Long"}))
        .await
        .json();
    assert_valid_response(&cut);
    assert_eq!(cut["status"], "incomplete");
    let filtered = post_responses(&gw, &json!({"model":"gpt-4o-fail-400","input":"bad"})).await;
    assert_eq!(filtered.status, 400, "{}", filtered.text);
    assert_eq!(filtered.json()["error"]["code"], "content_filter");
    let limited = post_responses(&gw, &json!({"model":"gpt-4o-fail-429","input":"hi"})).await;
    assert_eq!(limited.status, 429);
    assert!(limited.header("retry-after").is_some());
    assert_valid_error_body(&limited.json());
}

#[actix_web::test]
async fn gemini_text_stream_tools_and_errors() {
    let mock = MockUpstream::start();
    // No retries: each scripted 5xx is one failure, so the breaker stays closed throughout.
    let gw = start_gateway(&format!(
        "{}routing:\n  retries: 0\n",
        providers_yaml(&mock, &["google"], "")
    ));
    let reply = post_responses(
        &gw,
        &json!({"model":"gemini-2.5-flash","input":"Hello","instructions":"Be brief."}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_valid_response(&reply.json());
    let upstream = mock.last_request().unwrap();
    assert_eq!(
        upstream.path,
        "/v1beta/models/gemini-2.5-flash:generateContent"
    );
    assert_eq!(upstream.header("x-goog-api-key"), Some("test-google-key"));
    assert!(
        !upstream.query.contains("key="),
        "the key never goes in the URL"
    );
    assert_eq!(
        upstream.body["systemInstruction"]["parts"][0]["text"],
        "Be brief."
    );

    let stream = post_responses(
        &gw,
        &json!({"model":"gemini-2.5-flash","input":"Hello","stream":true}),
    )
    .await;
    let events = assert_valid_sse_stream(&stream.text);
    assert_eq!(events.last().unwrap()["type"], "response.completed");
    assert_eq!(mock.last_request().unwrap().query, "alt=sse");

    let tools = json!([{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}}}}]);
    let first = post_responses(
        &gw,
        &json!({"model":"gemini-2.5-flash","input":"Weather?","tools":tools}),
    )
    .await
    .json();
    assert_valid_response(&first);
    let call = first["output"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "function_call")
        .unwrap()
        .clone();
    let second = post_responses(
        &gw,
        &json!({"model":"gemini-2.5-flash","previous_response_id":first["id"],"tools":tools,
                "input":[{"type":"function_call_output","call_id":call["call_id"],"output":"{\"temp\":21}"}]}),
    )
    .await;
    assert_eq!(second.status, 200, "{}", second.text);
    let contents = mock.last_request().unwrap().body["contents"].clone();
    let last = contents.as_array().unwrap().last().unwrap();
    assert_eq!(last["parts"][0]["functionResponse"]["name"], call["name"]);

    for (model, status) in [
        ("gemini-fail-429", 429),
        ("gemini-fail-503", 503),
        ("gemini-fail-500", 502),
    ] {
        let reply = post_responses(&gw, &json!({"model":model,"input":"hi"})).await;
        assert_eq!(reply.status, status, "{model}: {}", reply.text);
        assert_valid_error_body(&reply.json());
        assert!(!reply.text.contains("test-google-key"));
    }
    let blocked = post_responses(&gw, &json!({"model":"gemini-prompt-blocked","input":"bad"}))
        .await
        .json();
    assert_valid_response(&blocked);
    assert_eq!(blocked["incomplete_details"]["reason"], "content_filter");
}

#[actix_web::test]
async fn a_conversation_can_switch_provider_between_turns() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["google", "anthropic"], ""));
    let one = post_responses(
        &gw,
        &json!({"model":"gemini-2.5-flash","input":"My name is Ada."}),
    )
    .await
    .json();
    let two = post_responses(&gw, &json!({"model":"claude-sonnet-4-5","input":"What is my name?","previous_response_id":one["id"]})).await;
    assert_eq!(two.status, 200, "{}", two.text);
    let messages = mock.last_request().unwrap().body["messages"].clone();
    let roles: Vec<&str> = messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        ["user", "assistant", "user"],
        "Gemini's turn replayed to Claude"
    );
}
