//! The provider conformance suite: every provider passes the same cases through the real gateway
//! against mock upstreams that enforce the providers' own rules. Adding a provider = one line in
//! `conformance!` below.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{
    gateway::{TestGateway, post_responses, providers_yaml, start_gateway},
    json::pointers_to,
    mock_upstream::MockUpstream,
    spec::{assert_valid_error_body, assert_valid_response, assert_valid_sse_stream},
};
use serde_json::{Value, json};

/// One provider under test.
struct Provider {
    /// Config block name.
    name: &'static str,
    /// Model routed to it; keywords are appended (`-fail-429`, …) for scripted failures.
    model: &'static str,
    /// Status for the upstream's own 400 fixture (Gemini's is an API-key error → 502).
    bad_request_status: u16,
}

const KEYWORDS: &[&str] = &[
    "fail-400",
    "fail-429",
    "fail-500",
    "max-tokens",
    "cut-stream",
];

fn start(p: &Provider, mock: &MockUpstream) -> TestGateway {
    // Azure addresses deployments, so scripted models need deployments carrying the keyword.
    let extra = if p.name == "azureopenai" {
        let mut map = String::from("    deployments:\n");
        for k in KEYWORDS {
            map.push_str(&format!("      {}-{k}: dep-{k}\n", p.model));
        }
        map
    } else {
        String::new()
    };
    start_gateway(&providers_yaml(mock, &[p.name], &extra))
}

fn model(p: &Provider, keyword: &str) -> String {
    format!("{}-{keyword}", p.model)
}

fn tools() -> Value {
    json!([{"type":"function","name":"get_weather","description":"Weather for a city",
            "parameters":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"],"additionalProperties":false},
            "strict":true}])
}

fn output_text(response: &Value) -> String {
    let mut text = String::new();
    for item in response["output"].as_array().unwrap() {
        for part in item["content"].as_array().into_iter().flatten() {
            text.push_str(part["text"].as_str().unwrap_or(""));
        }
    }
    text
}

/// Where each `value` sits in the last request the upstream received: `(JSON pointer, value)`
/// pairs, compared exactly, so an instruction sent as a user message, or a tool result pasted
/// into a text, fails. A failure lists every pointer the value was found at instead.
fn assert_upstream(mock: &MockUpstream, expected: &[(&str, Value)]) {
    let body = mock.last_request().unwrap().body;
    for (pointer, value) in expected {
        assert_eq!(
            body.pointer(pointer),
            Some(value),
            "{pointer} in the upstream request; {value} is at {:?} in {body}",
            pointers_to(&body, value)
        );
    }
}

async fn text_instructions_and_usage(p: &Provider) {
    let mock = MockUpstream::start();
    let gw = start(p, &mock);
    let reply = post_responses(
        &gw,
        &json!({"model":p.model,"input":"Hello!","instructions":"Answer briefly."}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = reply.json();
    assert_valid_response(&body);
    assert_eq!(body["status"], "completed");
    assert!(!output_text(&body).is_empty());
    let usage = &body["usage"];
    assert!(usage["total_tokens"].as_u64().unwrap() > 0);
    assert_eq!(
        usage["total_tokens"].as_u64(),
        Some(usage["input_tokens"].as_u64().unwrap() + usage["output_tokens"].as_u64().unwrap())
    );
    let instructions = json!("Answer briefly.");
    let expected: &[(&str, Value)] = match p.name {
        "openai" => &[("/instructions", instructions)],
        "azureopenai" => &[
            ("/messages/0/role", json!("system")),
            ("/messages/0/content", instructions),
        ],
        "anthropic" => &[("/system", instructions)],
        _ => &[("/systemInstruction/parts/0/text", instructions)],
    };
    assert_upstream(&mock, expected);
}

async fn multi_turn_sends_history(p: &Provider) {
    let mock = MockUpstream::start();
    let gw = start(p, &mock);
    let one = post_responses(&gw, &json!({"model":p.model,"input":"My name is Ada."}))
        .await
        .json();
    let two = post_responses(
        &gw,
        &json!({"model":p.model,"input":"What is my name?","previous_response_id":one["id"]}),
    )
    .await;
    assert_eq!(two.status, 200, "{}", two.text);
    assert_valid_response(&two.json());
    // The stored turn, the model's answer, then the new turn, each in its own message.
    let (first, second) = (json!("My name is Ada."), json!("What is my name?"));
    let expected: &[(&str, Value)] = match p.name {
        "openai" => &[
            ("/input/0/role", json!("user")),
            ("/input/0/content", first),
            ("/input/1/role", json!("assistant")),
            ("/input/2/role", json!("user")),
            ("/input/2/content", second),
        ],
        "azureopenai" => &[
            ("/messages/0/role", json!("user")),
            ("/messages/0/content", first),
            ("/messages/1/role", json!("assistant")),
            ("/messages/2/role", json!("user")),
            ("/messages/2/content", second),
        ],
        "anthropic" => &[
            ("/messages/0/role", json!("user")),
            ("/messages/0/content/0/text", first),
            ("/messages/1/role", json!("assistant")),
            ("/messages/2/role", json!("user")),
            ("/messages/2/content/0/text", second),
        ],
        _ => &[
            ("/contents/0/role", json!("user")),
            ("/contents/0/parts/0/text", first),
            ("/contents/1/role", json!("model")),
            ("/contents/2/role", json!("user")),
            ("/contents/2/parts/0/text", second),
        ],
    };
    assert_upstream(&mock, expected);
    let explicit = post_responses(
        &gw,
        &json!({"model":p.model,"input":[
        {"role":"user","content":"Hi"},
        {"role":"assistant","content":"Hello! How can I help?"},
        {"role":"user","content":[{"type":"input_text","text":"Tell me a joke"}]}]}),
    )
    .await;
    assert_eq!(explicit.status, 200, "{}", explicit.text);
}

async fn image_input(p: &Provider) {
    let mock = MockUpstream::start();
    let gw = start(p, &mock);
    let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
    let reply = post_responses(
        &gw,
        &json!({"model":p.model,"input":[{"role":"user","content":[
        {"type":"input_text","text":"What is in this image?"},
        {"type":"input_image","image_url":format!("data:image/png;base64,{png}")}]}]}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let url = json!(format!("data:image/png;base64,{png}"));
    let expected: &[(&str, Value)] = match p.name {
        "openai" => &[("/input/0/content/1/image_url", url)],
        "azureopenai" => &[("/messages/0/content/1/image_url/url", url)],
        "anthropic" => &[
            (
                "/messages/0/content/1/source/media_type",
                json!("image/png"),
            ),
            ("/messages/0/content/1/source/data", json!(png)),
        ],
        _ => &[
            (
                "/contents/0/parts/1/inlineData/mimeType",
                json!("image/png"),
            ),
            ("/contents/0/parts/1/inlineData/data", json!(png)),
        ],
    };
    assert_upstream(&mock, expected);
}

async fn tool_call_and_follow_up(p: &Provider) {
    let mock = MockUpstream::start();
    let gw = start(p, &mock);
    let first = post_responses(
        &gw,
        &json!({"model":p.model,"input":"Weather in Paris?","tools":tools(),"tool_choice":"auto"}),
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
        .expect("function_call")
        .clone();
    serde_json::from_str::<Value>(call["arguments"].as_str().unwrap()).expect("arguments are JSON");
    let second = post_responses(&gw, &json!({"model":p.model,"previous_response_id":first["id"],"tools":tools(),
        "input":[{"type":"function_call_output","call_id":call["call_id"],"output":"{\"temp_c\":21}"}]})).await;
    assert_eq!(second.status, 200, "{}", second.text);
    assert_valid_response(&second.json());
    // The tool's result goes back as the answer to its call, after the call.
    let output = json!("{\"temp_c\":21}");
    let expected: &[(&str, Value)] = match p.name {
        "openai" => &[
            ("/input/1/type", json!("function_call")),
            ("/input/1/call_id", call["call_id"].clone()),
            ("/input/2/type", json!("function_call_output")),
            ("/input/2/call_id", call["call_id"].clone()),
            ("/input/2/output", output),
        ],
        "azureopenai" => &[
            ("/messages/1/tool_calls/0/id", call["call_id"].clone()),
            ("/messages/2/role", json!("tool")),
            ("/messages/2/tool_call_id", call["call_id"].clone()),
            ("/messages/2/content", output),
        ],
        "anthropic" => &[
            // The fixture's answer says a sentence before the call.
            ("/messages/1/content/1/type", json!("tool_use")),
            ("/messages/1/content/1/id", call["call_id"].clone()),
            ("/messages/2/content/0/type", json!("tool_result")),
            ("/messages/2/content/0/tool_use_id", call["call_id"].clone()),
            ("/messages/2/content/0/content", output),
        ],
        _ => &[
            (
                "/contents/1/parts/0/functionCall/name",
                json!("get_weather"),
            ),
            (
                "/contents/2/parts/0/functionResponse/name",
                json!("get_weather"),
            ),
            (
                "/contents/2/parts/0/functionResponse/response/output",
                json!({"temp_c": 21}),
            ),
        ],
    };
    assert_upstream(&mock, expected);
}

async fn parallel_tool_calls_answered_in_one_turn(p: &Provider) {
    let mock = MockUpstream::start();
    let gw = start(p, &mock);
    let input = json!([
        {"role":"user","content":"Weather in Paris and Rome?"},
        {"type":"function_call","call_id":"call_a","name":"get_weather","arguments":"{\"location\":\"Paris\"}"},
        {"type":"function_call","call_id":"call_b","name":"get_weather","arguments":"{\"location\":\"Rome\"}"},
        {"type":"function_call_output","call_id":"call_a","output":"sunny-paris"},
        {"type":"function_call_output","call_id":"call_b","output":"rainy-rome"}
    ]);
    let reply = post_responses(&gw, &json!({"model":p.model,"input":input,"tools":tools()})).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let (paris, rome) = (json!("sunny-paris"), json!("rainy-rome"));
    let expected: &[(&str, Value)] = match p.name {
        "openai" => &[
            ("/input/3/call_id", json!("call_a")),
            ("/input/3/output", paris),
            ("/input/4/call_id", json!("call_b")),
            ("/input/4/output", rome),
        ],
        "azureopenai" => &[
            ("/messages/2/tool_call_id", json!("call_a")),
            ("/messages/2/content", paris),
            ("/messages/3/tool_call_id", json!("call_b")),
            ("/messages/3/content", rome),
        ],
        "anthropic" => &[
            ("/messages/2/content/0/tool_use_id", json!("call_a")),
            ("/messages/2/content/0/content", paris),
            ("/messages/2/content/1/tool_use_id", json!("call_b")),
            ("/messages/2/content/1/content", rome),
        ],
        _ => &[
            (
                "/contents/2/parts/0/functionResponse/response/output",
                paris,
            ),
            ("/contents/2/parts/1/functionResponse/response/output", rome),
        ],
    };
    assert_upstream(&mock, expected);
}

async fn structured_output(p: &Provider) {
    let mock = MockUpstream::start();
    let gw = start(p, &mock);
    let format = json!({"type":"json_schema","name":"city","strict":true,
        "schema":{"type":"object","properties":{"city_name":{"type":"string"}},"required":["city_name"],"additionalProperties":false}});
    let reply = post_responses(
        &gw,
        &json!({"model":p.model,"input":"Capital of France?","text":{"format":format}}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_valid_response(&reply.json());
    let property = json!({"type": "string"});
    let expected: &[(&str, Value)] = match p.name {
        "openai" => &[("/text/format/schema/properties/city_name", property)],
        "azureopenai" => &[(
            "/response_format/json_schema/schema/properties/city_name",
            property,
        )],
        "anthropic" => &[(
            "/output_config/format/schema/properties/city_name",
            property,
        )],
        _ => &[(
            "/generationConfig/responseJsonSchema/properties/city_name",
            property,
        )],
    };
    assert_upstream(&mock, expected);
}

async fn streaming_text(p: &Provider) {
    let mock = MockUpstream::start();
    let gw = start(p, &mock);
    let reply = post_responses(&gw, &json!({"model":p.model,"input":"Hello","stream":true})).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let events = assert_valid_sse_stream(&reply.text);
    let deltas: String = events
        .iter()
        .filter(|e| e["type"] == "response.output_text.delta")
        .map(|e| e["delta"].as_str().unwrap())
        .collect();
    assert!(!deltas.is_empty());
    let last = events.last().unwrap();
    assert_eq!(last["type"], "response.completed");
    assert_eq!(output_text(&last["response"]), deltas);
    assert!(last["response"]["usage"]["total_tokens"].as_u64().unwrap() > 0);
}

async fn streaming_tool_call(p: &Provider) {
    let mock = MockUpstream::start();
    let gw = start(p, &mock);
    let reply = post_responses(
        &gw,
        &json!({"model":p.model,"input":"Weather in Paris?","tools":tools(),"stream":true}),
    )
    .await;
    let events = assert_valid_sse_stream(&reply.text);
    let deltas: String = events
        .iter()
        .filter(|e| e["type"] == "response.function_call_arguments.delta")
        .map(|e| e["delta"].as_str().unwrap())
        .collect();
    let done = events
        .iter()
        .find(|e| e["type"] == "response.function_call_arguments.done")
        .expect("arguments.done");
    assert_eq!(
        deltas,
        done["arguments"].as_str().unwrap(),
        "deltas concatenate to the final arguments"
    );
    serde_json::from_str::<Value>(&deltas).expect("arguments parse");
}

async fn token_limit_is_incomplete(p: &Provider) {
    let mock = MockUpstream::start();
    let gw = start(p, &mock);
    for stream in [false, true] {
        let reply = post_responses(
            &gw,
            &json!({"model":model(p, "max-tokens"),"input":"Long story","stream":stream}),
        )
        .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        let response = if stream {
            assert_valid_sse_stream(&reply.text).last().unwrap()["response"].clone()
        } else {
            reply.json()
        };
        assert_valid_response(&response);
        assert_eq!(response["status"], "incomplete", "stream={stream}");
        assert_eq!(
            response["incomplete_details"]["reason"],
            "max_output_tokens"
        );
    }
}

async fn upstream_errors(p: &Provider) {
    let mock = MockUpstream::start();
    let gw = start(p, &mock);
    for (keyword, status) in [
        ("fail-400", p.bad_request_status),
        ("fail-429", 429),
        ("fail-500", 502),
    ] {
        let reply = post_responses(&gw, &json!({"model":model(p, keyword),"input":"hi"})).await;
        assert_eq!(reply.status, status, "{keyword}: {}", reply.text);
        assert_valid_error_body(&reply.json());
        assert!(!reply.text.contains("test-"), "no key in {}", reply.text);
    }
}

async fn stream_cut_midway(p: &Provider) {
    let mock = MockUpstream::start();
    let gw = start(p, &mock);
    let reply = post_responses(
        &gw,
        &json!({"model":model(p, "cut-stream"),"input":"hi","stream":true}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let events = assert_valid_sse_stream(&reply.text);
    let n = events.len();
    assert_eq!(events[n - 2]["type"], "error");
    assert_eq!(events[n - 1]["type"], "response.failed");
}

macro_rules! conformance {
    ($($module:ident => $provider:expr;)*) => {$(
        mod $module {
            use super::*;
            const P: Provider = $provider;
            #[actix_web::test] async fn text_instructions_and_usage() { super::text_instructions_and_usage(&P).await }
            #[actix_web::test] async fn multi_turn_sends_history() { super::multi_turn_sends_history(&P).await }
            #[actix_web::test] async fn image_input() { super::image_input(&P).await }
            #[actix_web::test] async fn tool_call_and_follow_up() { super::tool_call_and_follow_up(&P).await }
            #[actix_web::test] async fn parallel_tool_calls_answered_in_one_turn() { super::parallel_tool_calls_answered_in_one_turn(&P).await }
            #[actix_web::test] async fn structured_output() { super::structured_output(&P).await }
            #[actix_web::test] async fn streaming_text() { super::streaming_text(&P).await }
            #[actix_web::test] async fn streaming_tool_call() { super::streaming_tool_call(&P).await }
            #[actix_web::test] async fn token_limit_is_incomplete() { super::token_limit_is_incomplete(&P).await }
            #[actix_web::test] async fn upstream_errors() { super::upstream_errors(&P).await }
            #[actix_web::test] async fn stream_cut_midway() { super::stream_cut_midway(&P).await }
        }
    )*};
}

conformance! {
    openai => Provider { name: "openai", model: "gpt-4o-mini", bad_request_status: 400 };
    azure => Provider { name: "azureopenai", model: "gpt-4o-mini", bad_request_status: 400 };
    anthropic => Provider { name: "anthropic", model: "claude-sonnet-4-5", bad_request_status: 400 };
    gemini => Provider { name: "google", model: "gemini-2.5-flash", bad_request_status: 502 };
}
