//! Self-tests of `MockUpstream` (tests/common/mock_upstream): every provider route, auth and body rejections,
//! request recording; plus the request helpers the behaviour tests (`mock_behaviours.rs`) share.

use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::common::mock_upstream::{MockOptions, MockUpstream, fixture, fixture_json};
use crate::common::spec::parse_sse;

pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) text: String,
}

impl Reply {
    pub(crate) fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

/// Which provider to call, with the auth and path conventions it needs.
#[derive(Clone, Copy)]
pub(crate) enum P {
    Responses,
    Chat,
    Azure,
    Anthropic,
    Gemini,
}

pub(crate) fn request(
    mock: &MockUpstream,
    p: P,
    model: &str,
    stream: bool,
    extra: Value,
) -> reqwest::RequestBuilder {
    let client = reqwest::Client::new();
    let mut body = match p {
        P::Responses => json!({"model": model, "input": "hi", "stream": stream}),
        P::Chat => {
            json!({"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": stream})
        }
        P::Azure => json!({"messages": [{"role": "user", "content": "hi"}], "stream": stream}),
        P::Anthropic => {
            json!({"model": model, "max_tokens": 4096, "messages": [{"role": "user", "content": "hi"}], "stream": stream})
        }
        P::Gemini => json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}),
    };
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().cloned().unwrap_or_default());
    let builder = match p {
        P::Responses => client
            .post(mock.url("/v1/responses"))
            .bearer_auth("sk-test"),
        P::Chat => client
            .post(mock.url("/v1/chat/completions"))
            .bearer_auth("sk-test"),
        P::Azure => client
            .post(mock.url(&format!(
                "/openai/deployments/{model}/chat/completions?api-version=2024-10-21"
            )))
            .header("api-key", "az-test"),
        P::Anthropic => client
            .post(mock.url("/v1/messages"))
            .header("x-api-key", "sk-ant-test")
            .header("anthropic-version", "2023-06-01"),
        P::Gemini if stream => client
            .post(mock.url(&format!(
                "/v1beta/models/{model}:streamGenerateContent?alt=sse"
            )))
            .header("x-goog-api-key", "g-test"),
        P::Gemini => client
            .post(mock.url(&format!("/v1beta/models/{model}:generateContent")))
            .header("x-goog-api-key", "g-test"),
    };
    builder.json(&body)
}

pub(crate) async fn send(builder: reqwest::RequestBuilder) -> Reply {
    let resp = builder.send().await.expect("request to the mock failed");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("reading the mock's body failed");
    Reply {
        status,
        headers,
        text,
    }
}

pub(crate) async fn call(mock: &MockUpstream, p: P, model: &str, stream: bool) -> Reply {
    send(request(mock, p, model, stream, json!({}))).await
}

pub(crate) fn assert_json_fixture(reply: &Reply, name: &str) {
    assert_eq!(reply.status, 200, "{name}: {}", reply.text);
    assert!(
        reply.content_type().starts_with("application/json"),
        "{name}: {}",
        reply.content_type()
    );
    assert_eq!(reply.json(), fixture_json(name), "{name}");
}

pub(crate) fn assert_sse_fixture(reply: &Reply, name: &str) {
    assert_eq!(reply.status, 200, "{name}: {}", reply.text);
    assert_eq!(reply.content_type(), "text/event-stream", "{name}");
    assert!(
        reply.text.starts_with(fixture(name)),
        "{name}: body differs from the fixture"
    );
}

#[actix_web::test]
async fn serves_every_provider_route() {
    let mock = MockUpstream::start();
    let tools = json!({"tools": [{"type": "function", "name": "get_weather", "parameters": {}}]});
    // Chat Completions nests the function (the mock refuses a Responses-shaped tool, as the API does).
    let chat_tools = json!({"tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]});
    assert_json_fixture(
        &call(&mock, P::Responses, "gpt-4o-mini", false).await,
        "openai/responses_text.json",
    );
    let r = send(request(
        &mock,
        P::Responses,
        "gpt-5-mini",
        false,
        tools.clone(),
    ))
    .await;
    assert_json_fixture(&r, "openai/responses_tool_call.json");
    assert_sse_fixture(
        &call(&mock, P::Responses, "gpt-4o-mini", true).await,
        "openai/responses_text_stream.sse",
    );
    let r = send(request(
        &mock,
        P::Responses,
        "gpt-5-mini",
        true,
        tools.clone(),
    ))
    .await;
    assert_sse_fixture(&r, "openai/responses_tool_call_stream.sse");

    assert_json_fixture(
        &call(&mock, P::Chat, "gpt-4o", false).await,
        "openai/chat_completion_text.json",
    );
    let r = send(request(&mock, P::Chat, "gpt-4o", true, chat_tools.clone())).await;
    assert_sse_fixture(&r, "openai/chat_completion_tool_call_stream.sse");

    assert_json_fixture(
        &call(&mock, P::Azure, "prod-gpt41", false).await,
        "azure-openai/chat_completion_text.json",
    );
    assert_sse_fixture(
        &call(&mock, P::Azure, "prod-gpt41", true).await,
        "azure-openai/chat_completion_text_stream.sse",
    );
    let r = send(request(
        &mock,
        P::Azure,
        "prod-gpt41",
        false,
        chat_tools.clone(),
    ))
    .await;
    assert_json_fixture(&r, "azure-openai/chat_completion_tool_call.json");

    assert_json_fixture(
        &call(&mock, P::Anthropic, "claude-sonnet-4-6", false).await,
        "anthropic/message_text.json",
    );
    let r = call(&mock, P::Anthropic, "claude-sonnet-4-6", true).await;
    assert_sse_fixture(&r, "anthropic/message_text_stream.sse");
    assert!(
        r.text.ends_with("\n\n"),
        "the last Anthropic frame is terminated even though the fixture is not"
    );
    let anthropic_tools =
        json!({"tools": [{"name": "get_weather", "input_schema": {"type": "object"}}]});
    let r = send(request(
        &mock,
        P::Anthropic,
        "claude",
        true,
        anthropic_tools.clone(),
    ))
    .await;
    assert_sse_fixture(&r, "anthropic/message_tool_use_stream.sse");
    let thinking = json!({"thinking": {"type": "enabled", "budget_tokens": 1024}, "tools": anthropic_tools["tools"]});
    let r = send(request(
        &mock,
        P::Anthropic,
        "claude",
        false,
        thinking.clone(),
    ))
    .await;
    assert_json_fixture(&r, "anthropic/message_thinking.json");
    assert_sse_fixture(
        &send(request(&mock, P::Anthropic, "claude", true, thinking)).await,
        "anthropic/message_thinking_stream.sse",
    );

    assert_json_fixture(
        &call(&mock, P::Gemini, "gemini-2.5-flash", false).await,
        "gemini/generate_content_text.json",
    );
    let r = call(&mock, P::Gemini, "gemini-2.5-flash", true).await;
    assert_sse_fixture(&r, "gemini/stream_generate_content_text.sse");
    assert_eq!(
        r.text,
        fixture("gemini/stream_generate_content_text.sse"),
        "Gemini CRLF bytes are served verbatim"
    );
    let gemini_tools = json!({"tools": [{"functionDeclarations": [{"name": "get_weather"}]}]});
    let r = send(request(
        &mock,
        P::Gemini,
        "gemini-2.5-flash",
        false,
        gemini_tools,
    ))
    .await;
    assert_json_fixture(&r, "gemini/generate_content_function_call.json");
    // Without alt=sse, streamGenerateContent answers one JSON array; `key=` query auth works too.
    let url = mock.url("/v1beta/models/gemini-2.5-flash:streamGenerateContent?key=g-test");
    let r = send(
        reqwest::Client::new()
            .post(url)
            .json(&json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json().as_array().map(Vec::len),
        Some(parse_sse(fixture("gemini/stream_generate_content_text.sse")).len())
    );
}

#[actix_web::test]
async fn rejects_missing_auth_like_each_provider() {
    let mock = MockUpstream::start();
    let client = reqwest::Client::new();
    let body =
        json!({"model": "m", "input": "hi", "messages": [], "max_tokens": 1, "contents": []});
    let cases = [
        ("/v1/responses", 401),
        ("/v1/chat/completions", 401),
        (
            "/openai/deployments/d/chat/completions?api-version=2024-10-21",
            401,
        ),
        ("/v1/messages", 401),
        ("/v1beta/models/gemini-2.5-flash:generateContent", 403),
    ];
    for (path, status) in cases {
        let r = send(client.post(mock.url(path)).json(&body)).await;
        assert_eq!(r.status, status, "{path}: {}", r.text);
        assert!(r.json()["error"].is_object(), "{path}: {}", r.text);
    }
    let r = send(
        client
            .post(mock.url("/v1/messages"))
            .header("x-api-key", "k")
            .json(&body),
    )
    .await;
    assert_eq!(
        (r.status, r.json()["error"]["type"].as_str()),
        (400, Some("invalid_request_error"))
    );
    let r = send(
        client
            .post(mock.url("/openai/deployments/d/chat/completions"))
            .header("api-key", "k")
            .json(&body),
    )
    .await;
    assert_eq!(r.status, 404, "Azure without api-version");
    let r = send(
        client
            .post(mock.url("/v1/nope"))
            .bearer_auth("k")
            .json(&body),
    )
    .await;
    assert_eq!(r.status, 404);

    let strict = MockUpstream::start_with(MockOptions {
        api_key: Some("right".into()),
        ..MockOptions::default()
    });
    let r = call(&strict, P::Responses, "gpt", false).await;
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_str()),
        (401, Some("invalid_api_key"))
    );
    let r = call(&strict, P::Gemini, "gemini", false).await;
    assert_eq!(
        (r.status, r.json()["error"]["status"].as_str()),
        (400, Some("INVALID_ARGUMENT"))
    );
    let r = send(
        reqwest::Client::new()
            .post(strict.url("/v1/responses"))
            .bearer_auth("right")
            .json(&body),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(strict.hits("/"), 3, "rejected requests are recorded too");
}

#[actix_web::test]
async fn rejects_bodies_the_real_api_rejects() {
    let mock = MockUpstream::start();
    let r = send(request(
        &mock,
        P::Anthropic,
        "claude",
        false,
        json!({"max_tokens": null}),
    ))
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["message"], "max_tokens: Field required");
    let r = send(
        reqwest::Client::new()
            .post(mock.url("/v1/responses"))
            .bearer_auth("k")
            .body("{not json"),
    )
    .await;
    assert_eq!(
        (r.status, r.json()["error"]["type"].as_str()),
        (400, Some("invalid_request_error"))
    );
}

#[actix_web::test]
async fn records_requests() {
    let mock = MockUpstream::start();
    assert!(mock.last_request().is_none());
    call(&mock, P::Responses, "gpt-4o", false).await;
    call(&mock, P::Azure, "prod", false).await;
    call(&mock, P::Gemini, "gemini-2.5-flash", true).await;
    assert_eq!(
        (
            mock.requests().len(),
            mock.hits("/v1/"),
            mock.hits("/openai/deployments/prod/")
        ),
        (3, 1, 1)
    );
    let first = &mock.requests()[0];
    assert_eq!(
        (first.method.as_str(), first.path.as_str()),
        ("POST", "/v1/responses")
    );
    assert_eq!(first.header("Authorization"), Some("Bearer sk-test"));
    assert_eq!(first.body["model"], "gpt-4o");
    let azure = &mock.requests()[1];
    assert_eq!(
        (azure.query_param("api-version"), azure.header("api-key")),
        (Some("2024-10-21"), Some("az-test"))
    );
    let last = mock.last_request().unwrap();
    assert_eq!(
        (last.path.as_str(), last.query.as_str()),
        (
            "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
            "alt=sse"
        )
    );
    assert!(last.headers.keys().all(|k| *k == k.to_ascii_lowercase()));
    mock.clear_requests();
    assert_eq!(mock.hits("/"), 0);
}

#[test]
fn works_without_an_async_runtime() {
    let mock = MockUpstream::start();
    assert!(mock.base_url().starts_with("http://127.0.0.1:"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let r = rt.block_on(call(&mock, P::Chat, "gpt", false));
    assert_eq!(r.status, 200);
    drop(mock);
}
