//! `POST /v1/chat/completions` through the real server against each mock provider: JSON, SSE with
//! and without `include_usage`, streamed tool calls, tool round trips, `response_format`, and
//! errors in the OpenAI error shape.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{
    gateway::{Reply, TestGateway, get, post_raw, providers_yaml, start_gateway, system_text_at},
    json::pointers_to,
    mock_upstream::MockUpstream,
    spec::{assert_valid_error_body, parse_sse},
};
use serde_json::{Value, json};

const PROVIDERS: [(&str, &str); 4] = [
    ("openai", "gpt-4o-mini"),
    ("azureopenai", "gpt-4o-mini"),
    ("anthropic", "claude-sonnet-4-5"),
    ("google", "gemini-2.5-flash"),
];

async fn post_chat(gw: &TestGateway, body: &Value) -> Reply {
    post_raw(gw, "/v1/chat/completions", body.to_string()).await
}

fn tools() -> Value {
    json!([{"type": "function", "function": {"name": "get_weather", "description": "Weather",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}},
                       "required": ["location"]}}}])
}

/// The `data:` payloads of a Chat Completions stream; checks it ends with exactly one `[DONE]`.
fn stream_chunks(reply: &Reply) -> Vec<Value> {
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("content-type"), Some("text/event-stream"));
    let mut frames: Vec<Value> = parse_sse(&reply.text).into_iter().map(|(_, v)| v).collect();
    assert_eq!(
        frames.pop(),
        Some(json!("[DONE]")),
        "ends with [DONE]: {}",
        reply.text
    );
    for frame in &frames {
        assert_eq!(frame["object"], "chat.completion.chunk", "{frame}");
        assert!(frame["id"].as_str().unwrap().starts_with("chatcmpl-"));
    }
    frames
}

fn content_of(chunks: &[Value]) -> String {
    chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect()
}

#[actix_web::test]
async fn json_completions_from_every_provider() {
    for (provider, model) in PROVIDERS {
        let mock = MockUpstream::start();
        let gw = start_gateway(&providers_yaml(&mock, &[provider], ""));
        let reply = post_chat(
            &gw,
            &json!({"model": model, "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hello!"}], "max_tokens": 5, "stop": ["\n"]}),
        )
        .await;
        assert_eq!(reply.status, 200, "{provider}: {}", reply.text);
        let body = reply.json();
        assert_eq!(body["object"], "chat.completion");
        assert!(body["id"].as_str().unwrap().starts_with("chatcmpl-"));
        let choice = &body["choices"][0];
        assert_eq!(choice["index"], 0);
        assert_eq!(choice["message"]["role"], "assistant");
        assert!(
            !choice["message"]["content"].as_str().unwrap().is_empty(),
            "{provider}"
        );
        assert_eq!(choice["finish_reason"], "stop");
        let usage = &body["usage"];
        assert_eq!(
            usage["total_tokens"].as_u64().unwrap(),
            usage["prompt_tokens"].as_u64().unwrap() + usage["completion_tokens"].as_u64().unwrap()
        );
        assert!(reply.header("x-request-id").is_some());
        // The system message reached each provider's place for system text.
        let sent = mock.last_request().unwrap().body;
        assert_eq!(
            pointers_to(&sent, &json!("Be brief.")),
            [system_text_at(provider, 0)],
            "{provider}: {sent}"
        );
    }
}

#[actix_web::test]
async fn streams_with_usage_from_every_provider() {
    for (provider, model) in PROVIDERS {
        let mock = MockUpstream::start();
        let gw = start_gateway(&providers_yaml(&mock, &[provider], ""));
        let messages = json!([{"role": "user", "content": "Hello!"}]);
        let reply = post_chat(
            &gw,
            &json!({"model": model, "messages": messages, "stream": true,
                    "stream_options": {"include_usage": true}}),
        )
        .await;
        let chunks = stream_chunks(&reply);
        assert_eq!(
            chunks[0]["choices"][0]["delta"]["role"], "assistant",
            "{provider}"
        );
        assert!(!content_of(&chunks).is_empty(), "{provider}: text deltas");
        let (usage, rest) = chunks.split_last().unwrap();
        assert_eq!(
            usage["choices"],
            json!([]),
            "{provider}: the usage chunk is last"
        );
        assert!(usage["usage"]["total_tokens"].as_u64().unwrap() > 0);
        assert!(
            rest.iter().all(|c| c["usage"].is_null()),
            "usage is null until the last chunk"
        );
        assert_eq!(rest.last().unwrap()["choices"][0]["finish_reason"], "stop");
        assert!(
            rest[..rest.len() - 1]
                .iter()
                .all(|c| c["choices"][0]["finish_reason"].is_null())
        );

        let plain = post_chat(
            &gw,
            &json!({"model": model, "messages": messages, "stream": true}),
        )
        .await;
        let plain = stream_chunks(&plain);
        assert!(
            plain.iter().all(|c| c.get("usage").is_none()),
            "no usage without include_usage"
        );
        assert_eq!(plain.last().unwrap()["choices"][0]["finish_reason"], "stop");
    }
}

#[actix_web::test]
async fn tool_calls_stream_as_indexed_deltas_and_round_trip() {
    for (provider, model) in PROVIDERS {
        let mock = MockUpstream::start();
        let gw = start_gateway(&providers_yaml(&mock, &[provider], ""));
        let ask = json!({"role": "user", "content": "Weather in Paris?"});
        let reply = post_chat(
            &gw,
            &json!({"model": model, "messages": [ask], "tools": tools(), "tool_choice": "auto",
                    "stream": true}),
        )
        .await;
        let chunks = stream_chunks(&reply);
        let calls: Vec<&Value> = chunks
            .iter()
            .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].as_array())
            .flatten()
            .collect();
        let first = calls
            .first()
            .unwrap_or_else(|| panic!("{provider}: no tool_calls deltas"));
        assert_eq!(first["index"], 0);
        assert_eq!(first["type"], "function");
        assert_eq!(first["function"]["name"], "get_weather");
        let call_id = first["id"].as_str().unwrap().to_owned();
        assert!(
            calls.iter().all(|c| c["index"].is_u64()),
            "every fragment has its index"
        );
        let arguments: String = calls
            .iter()
            .filter(|c| c["index"] == 0)
            .filter_map(|c| c["function"]["arguments"].as_str())
            .collect();
        serde_json::from_str::<Value>(&arguments)
            .unwrap_or_else(|e| panic!("{provider}: {e}: {arguments}"));
        assert_eq!(
            chunks.last().unwrap()["choices"][0]["finish_reason"],
            "tool_calls"
        );

        // Send the call back with its result, as the SDKs do.
        let back = post_chat(
            &gw,
            &json!({"model": model, "tools": tools(), "messages": [ask,
                {"role": "assistant", "content": null, "tool_calls": [{"id": call_id, "type": "function",
                    "function": {"name": "get_weather", "arguments": arguments}}]},
                {"role": "tool", "tool_call_id": call_id, "content": "{\"temp\": 21}"}]}),
        )
        .await;
        assert_eq!(back.status, 200, "{provider}: {}", back.text);
        let message = &back.json()["choices"][0]["message"];
        assert_eq!(
            message["tool_calls"][0]["type"], "function",
            "{provider}: {message}"
        );
        assert!(
            mock.last_request()
                .unwrap()
                .body
                .to_string()
                .contains("temp"),
            "{provider}"
        );
    }
}

#[actix_web::test]
async fn response_format_reaches_the_upstream() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["azureopenai", "openai"], ""));
    let format = json!({"type": "json_schema", "json_schema": {"name": "answer", "strict": true,
        "schema": {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"],
                   "additionalProperties": false}}});
    for (provider, pointer) in [
        ("azureopenai", "/response_format/json_schema/name"),
        ("openai", "/text/format/name"),
    ] {
        let reply = post_chat(
            &gw,
            &json!({"model": "gpt-4o", "provider": provider, "response_format": format,
                    "messages": [{"role": "user", "content": "JSON please"}]}),
        )
        .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(
            mock.last_request().unwrap().body.pointer(pointer),
            Some(&json!("answer"))
        );
    }
    let reply = post_chat(
        &gw,
        &json!({"model": "gpt-4o", "provider": "openai", "response_format": {"type": "json_object"},
                "messages": [{"role": "user", "content": "JSON please"}], "max_completion_tokens": 4}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let sent = mock.last_request().unwrap().body;
    assert_eq!(sent["text"]["format"]["type"], "json_object");
    assert_eq!(
        sent["max_output_tokens"], 16,
        "small caps are raised to the minimum"
    );
}

#[actix_web::test]
async fn errors_use_the_openai_error_shape() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["openai"], ""));
    let hi = json!([{"role": "user", "content": "hi"}]);
    let cases = [
        (
            json!({"model": "gpt-4o", "messages": hi, "n": 3}),
            400,
            Some("n"),
        ),
        (json!({"model": "gpt-4o"}), 400, Some("messages")),
        (json!({"messages": hi}), 400, Some("model")),
        (
            json!({"model": "gpt-4o", "messages": hi, "temperature": 9}),
            400,
            Some("temperature"),
        ),
        (
            json!({"model": "gpt-4o", "messages": "hi"}),
            400,
            Some("messages"),
        ),
        (
            json!({"model": "no-such-model", "messages": hi}),
            404,
            Some("model"),
        ),
    ];
    for (body, status, param) in cases {
        let reply = post_chat(&gw, &body).await;
        assert_eq!(reply.status, status, "{body}: {}", reply.text);
        assert_valid_error_body(&reply.json());
        assert_eq!(reply.json()["error"]["param"].as_str(), param, "{body}");
    }
    let limited = post_chat(&gw, &json!({"model": "gpt-4o-fail-429", "messages": hi})).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.json()["error"]["code"], "rate_limit_exceeded");
    assert_valid_error_body(&limited.json());
    assert_eq!(get(&gw, "/v1/chat/completions").await.status, 405);

    // After the first byte, a failure is one `data: {"error": …}` frame and no [DONE].
    let broken = post_chat(
        &gw,
        &json!({"model": "gpt-4o-stream-error", "messages": hi, "stream": true}),
    )
    .await;
    assert_eq!(broken.status, 200);
    let frames: Vec<Value> = parse_sse(&broken.text)
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    let last = frames.last().unwrap();
    assert_valid_error_body(last);
    assert!(!broken.text.contains("[DONE]"));
}
