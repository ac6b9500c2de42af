//! End to end through the real server against a mock OpenAI (Responses API): text, streaming,
//! tools, structured output, conversations, errors, and the SSE grammar validated against the spec.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{
    gateway::{post_raw, post_responses, providers_yaml, start_gateway},
    mock_upstream::MockUpstream,
    spec::{assert_valid_error_body, assert_valid_response, assert_valid_sse_stream},
};
use serde_json::json;

#[actix_web::test]
async fn text_response_is_valid_and_upstream_gets_full_request() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["openai"], ""));
    let reply = post_responses(
        &gw,
        &json!({"model":"gpt-4o-mini","input":"Hello!","instructions":"Be brief.","temperature":0.5,"metadata":{"k":"v"}}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.json();
    assert_valid_response(&body);
    assert_eq!(body["status"], "completed");
    assert_eq!(body["instructions"], "Be brief.");
    assert_eq!(body["metadata"], json!({"k":"v"}));
    assert!(
        !body["output"][0]["content"][0]["text"]
            .as_str()
            .unwrap()
            .is_empty()
    );
    assert!(body["usage"]["total_tokens"].as_u64().unwrap() > 0);
    assert!(reply.header("x-request-id").is_some());
    let upstream = mock.last_request().unwrap();
    assert_eq!(upstream.path, "/v1/responses");
    assert_eq!(
        upstream.header("authorization"),
        Some("Bearer test-openai-key")
    );
    assert_eq!(upstream.body["store"], false);
    assert_eq!(upstream.body["model"], "gpt-4o-mini");
    assert_eq!(upstream.body["instructions"], "Be brief.");
    assert_eq!(upstream.body["input"][0]["role"], "user");
}

#[actix_web::test]
async fn streaming_follows_the_spec_grammar() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["openai"], ""));
    let reply = post_responses(
        &gw,
        &json!({"model":"gpt-4o-mini","input":"Hi","stream":true}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(
        reply
            .header("content-type")
            .unwrap()
            .starts_with("text/event-stream")
    );
    let events = assert_valid_sse_stream(&reply.text);
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types[..2], ["response.created", "response.in_progress"]);
    assert!(types.contains(&"response.output_text.delta"));
    assert_eq!(*types.last().unwrap(), "response.completed");
    let completed = events.last().unwrap();
    assert!(
        completed["response"]["usage"]["output_tokens"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert_eq!(mock.last_request().unwrap().body["stream"], true);
}

#[actix_web::test]
async fn tool_call_then_output_round_trips_with_history() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["openai"], ""));
    let tools = json!([{"type":"function","name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}}]);
    let first = post_responses(
        &gw,
        &json!({"model":"gpt-4o","input":"Weather in Paris?","tools":tools,"tool_choice":"auto"}),
    )
    .await;
    assert_eq!(first.status, 200, "{}", first.text);
    let first = first.json();
    assert_valid_response(&first);
    let call = first["output"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "function_call")
        .expect("a function call");
    assert!(call["id"].as_str().unwrap().starts_with("fc_"));
    let call_id = call["call_id"].as_str().unwrap();
    let second = post_responses(
        &gw,
        &json!({"model":"gpt-4o","previous_response_id":first["id"],"tools":tools,
                "input":[{"type":"function_call_output","call_id":call_id,"output":"{\"temp\":21}"}]}),
    )
    .await;
    assert_eq!(second.status, 200, "{}", second.text);
    assert_valid_response(&second.json());
    assert_eq!(second.json()["previous_response_id"], first["id"]);
    let sent = &mock.last_request().unwrap().body["input"];
    let kinds: Vec<&str> = sent
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap_or("message"))
        .collect();
    assert_eq!(
        kinds,
        ["message", "function_call", "function_call_output"],
        "prior input, prior output, new input"
    );
    assert!(
        sent[1].get("id").is_none(),
        "gateway ids are not sent upstream"
    );
}

#[actix_web::test]
async fn streaming_tool_call_arguments_are_streamed() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["openai"], ""));
    let tools = json!([{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{}}}]);
    let reply = post_responses(
        &gw,
        &json!({"model":"gpt-4o","input":"Weather?","tools":tools,"stream":true}),
    )
    .await;
    let events = assert_valid_sse_stream(&reply.text);
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "response.function_call_arguments.delta")
    );
    let done = events
        .iter()
        .find(|e| e["type"] == "response.function_call_arguments.done")
        .unwrap();
    assert!(serde_json::from_str::<serde_json::Value>(done["arguments"].as_str().unwrap()).is_ok());
}

#[actix_web::test]
async fn structured_output_is_forwarded_and_echoed_validly() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["openai"], ""));
    let format = json!({"type":"json_schema","name":"answer","schema":{"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"additionalProperties":false},"strict":true});
    let reply = post_responses(
        &gw,
        &json!({"model":"gpt-4o","input":"JSON please","text":{"format":format}}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.json();
    assert_valid_response(&body);
    assert_eq!(body["text"]["format"]["name"], "answer");
    assert_eq!(
        mock.last_request().unwrap().body["text"]["format"]["schema"]["required"],
        json!(["a"])
    );
}

#[actix_web::test]
async fn max_tokens_gives_an_incomplete_response() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["openai"], ""));
    let reply = post_responses(
        &gw,
        &json!({"model":"gpt-4o-max-tokens","input":"Long story","max_output_tokens":16}),
    )
    .await;
    let body = reply.json();
    assert_valid_response(&body);
    assert_eq!(body["status"], "incomplete");
    assert_eq!(body["incomplete_details"]["reason"], "max_output_tokens");
    assert_eq!(body["output"][0]["status"], "incomplete");
}

#[actix_web::test]
async fn conversation_chain_and_unknown_previous_id() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["openai"], ""));
    let one = post_responses(&gw, &json!({"model":"gpt-4o","input":"My name is Ada."}))
        .await
        .json();
    let two = post_responses(&gw, &json!({"model":"gpt-4o","input":"What is my name?","previous_response_id":one["id"],"stream":true})).await;
    let events = assert_valid_sse_stream(&two.text);
    let two_id = events.last().unwrap()["response"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let three = post_responses(
        &gw,
        &json!({"model":"gpt-4o","input":"And again?","previous_response_id":two_id}),
    )
    .await;
    assert_eq!(three.status, 200, "{}", three.text);
    let sent = mock.last_request().unwrap().body["input"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(sent, 5, "user, assistant, user, assistant, user");
    let missing = post_responses(
        &gw,
        &json!({"model":"gpt-4o","input":"x","previous_response_id":"resp_nope"}),
    )
    .await;
    assert_eq!(missing.status, 404);
    assert_valid_error_body(&missing.json());
    assert_eq!(
        missing.json()["error"]["code"],
        "previous_response_not_found"
    );
    let unstored = post_responses(&gw, &json!({"model":"gpt-4o","input":"x","store":false}))
        .await
        .json();
    let after = post_responses(
        &gw,
        &json!({"model":"gpt-4o","input":"x","previous_response_id":unstored["id"]}),
    )
    .await;
    assert_eq!(
        after.status, 404,
        "store:false responses are not continuable"
    );
}

#[actix_web::test]
async fn bad_inputs_get_clear_errors() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["openai"], ""));
    let cases: Vec<(String, u16, Option<&str>)> = vec![
        ("{not json".into(), 400, None),
        ("[1,2]".into(), 400, None),
        ("\"text\"".into(), 400, None),
        (json!({"input":"hi"}).to_string(), 400, Some("model")),
        (json!({"model":"gpt-4o"}).to_string(), 400, Some("input")),
        (
            json!({"model":"gpt-4o","input":42}).to_string(),
            400,
            Some("input"),
        ),
        (
            json!({"model":"gpt-4o","input":"hi","temperature":"warm"}).to_string(),
            400,
            Some("temperature"),
        ),
        (
            json!({"model":"gpt-4o","input":[{"type":"bogus"}]}).to_string(),
            400,
            Some("input[0]"),
        ),
        (
            json!({"model":"gpt-4o","input":"hi","provider":"nope"}).to_string(),
            400,
            Some("provider"),
        ),
        (
            json!({"model":"claude-3-5-sonnet","input":"hi"}).to_string(),
            404,
            Some("model"),
        ),
        (
            json!({"model":"mystery","input":"hi"}).to_string(),
            404,
            Some("model"),
        ),
    ];
    for (body, status, param) in cases {
        let reply = post_raw(&gw, "/v1/responses", body.clone()).await;
        assert_eq!(reply.status, status, "{body} → {}", reply.text);
        let json = reply.json();
        assert_valid_error_body(&json);
        assert_eq!(json["error"]["param"].as_str(), param, "{body}");
    }
    assert_eq!(mock.hits("/"), 0, "nothing invalid reached the upstream");
    let unknown = post_raw(
        &gw,
        "/v1/responses",
        json!({"model":"claude-3-5-sonnet","input":"hi"}).to_string(),
    )
    .await;
    assert!(
        unknown.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("openai"),
        "names the configured providers"
    );
}

#[actix_web::test]
async fn oversized_bodies_get_413() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["openai"], ""));
    let big = json!({"model":"gpt-4o","input":"x".repeat(33 * 1024 * 1024)}).to_string();
    let reply = post_raw(&gw, "/v1/responses", big).await;
    assert_eq!(reply.status, 413);
    assert_valid_error_body(&reply.json());
}

#[actix_web::test]
async fn upstream_errors_are_mapped_without_leaking() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["openai"], ""));
    for (model, status) in [
        ("gpt-4o-fail-400", 400),
        ("gpt-4o-fail-401", 502),
        ("gpt-4o-fail-429", 429),
        ("gpt-4o-fail-500", 502),
        ("gpt-4o-fail-quota", 429),
    ] {
        let reply = post_responses(&gw, &json!({"model":model,"input":"hi"})).await;
        assert_eq!(reply.status, status, "{model}: {}", reply.text);
        assert_valid_error_body(&reply.json());
        assert!(
            !reply.text.contains("test-openai-key"),
            "{model} leaks the key"
        );
        if status == 502 && model.contains("401") {
            assert!(
                reply.json()["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("credentials")
            );
        }
    }
}

#[actix_web::test]
async fn stream_cut_after_first_byte_ends_with_error_and_failed() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["openai"], ""));
    for model in ["gpt-4o-cut-stream", "gpt-4o-stream-error"] {
        let reply = post_responses(&gw, &json!({"model":model,"input":"hi","stream":true})).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        let events = assert_valid_sse_stream(&reply.text);
        let n = events.len();
        assert_eq!(events[n - 2]["type"], "error", "{model}");
        assert_eq!(events[n - 1]["type"], "response.failed", "{model}");
        assert_eq!(events[n - 1]["response"]["status"], "failed");
    }
}

#[actix_web::test]
async fn models_and_health() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(
        &mock,
        &["openai"],
        "    models: [gpt-4o, gpt-4o-mini]\n",
    ));
    let models = common::gateway::get(&gw, "/v1/models").await.json();
    assert_eq!(models["object"], "list");
    let ids: Vec<&str> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["gpt-4o", "gpt-4o-mini"]);
    assert_eq!(models["data"][0]["owned_by"], "openai");
    assert_eq!(common::gateway::get(&gw, "/healthz").await.status, 200);
    let missing = common::gateway::get(&gw, "/v2/nothing").await;
    assert_eq!(missing.status, 404);
    assert_valid_error_body(&missing.json());
}
