//! The upstream failures coding agents act on, end to end with the providers' own error bodies:
//! context-window overflow (`context_length_exceeded`, before and inside a stream), rate limits
//! ("try again in Ns"), overload (`server_is_overloaded`) and quota (`insufficient_quota`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{
    gateway::{TestGateway, post_responses, providers_yaml, start_gateway},
    mock_upstream::{Behaviour, MockUpstream},
    spec::{assert_valid_error_body, parse_sse},
};
use serde_json::{Value, json};

/// Each provider's context-window answer (HTTP 400), as its API words it.
fn context_overflow(provider: &str) -> Value {
    match provider {
        "openai" => json!({"error": {"message": "Your input exceeds the context window of this \
            model. Please adjust your input and try again.", "type": "invalid_request_error",
            "param": "input", "code": "context_length_exceeded"}}),
        "azureopenai" => json!({"error": {"message": "This model's maximum context length is \
            128000 tokens. However, your messages resulted in 130517 tokens. Please reduce the \
            length of the messages.", "type": "invalid_request_error", "param": "messages",
            "code": "context_length_exceeded"}}),
        "anthropic" => json!({"type": "error", "error": {"type": "invalid_request_error",
            "message": "prompt is too long: 208310 tokens > 200000 maximum"},
            "request_id": "req_011CV3pX9yQ2bR7tM5nK8wLf"}),
        "google" => json!({"error": {"code": 400, "message": "The input token count (1196265) \
            exceeds the maximum number of tokens allowed (1048576).", "status": "INVALID_ARGUMENT"}}),
        other => panic!("no body for {other}"),
    }
}

const MODELS: [(&str, &str); 4] = [
    ("openai", "gpt-4o-mini"),
    ("azureopenai", "gpt-4o-mini"),
    ("anthropic", "claude-sonnet-4-5"),
    ("google", "gemini-2.5-flash"),
];

/// A gateway without retries: each failure is the upstream's first answer.
fn start(mock: &MockUpstream, provider: &str) -> TestGateway {
    let yaml = format!(
        "{}routing:\n  retries: 0\n",
        providers_yaml(mock, &[provider], "")
    );
    start_gateway(&yaml)
}

#[actix_web::test]
async fn context_overflow_is_context_length_exceeded_on_every_provider() {
    for (provider, model) in MODELS {
        let mock = MockUpstream::start();
        let gw = start(&mock, provider);
        for stream in [false, true] {
            let body = context_overflow(provider).to_string();
            mock.push_behaviour(Behaviour::Status(400, body, Vec::new()));
            let reply = post_responses(
                &gw,
                &json!({"model": model, "input": "long", "stream": stream}),
            )
            .await;
            assert_eq!(reply.status, 400, "{provider}: {}", reply.text);
            let body = reply.json();
            assert_valid_error_body(&body);
            assert_eq!(
                body["error"]["code"], "context_length_exceeded",
                "{provider}"
            );
            assert_eq!(body["error"]["param"], "input", "{provider}");
            assert!(
                body["error"]["message"].as_str().unwrap().contains("token")
                    || body["error"]["message"]
                        .as_str()
                        .unwrap()
                        .contains("context window"),
                "{provider}: the upstream's words name the sizes: {body}"
            );
        }
    }
}

#[actix_web::test]
async fn a_context_overflow_inside_a_stream_fails_the_response_with_its_code() {
    let mock = MockUpstream::start();
    let gw = start(&mock, "openai");
    let failed = json!({"type": "response.failed", "sequence_number": 1, "response": {
        "id": "resp_1", "object": "response", "status": "failed", "output": [],
        "error": {"code": "context_length_exceeded", "message": "Your input exceeds the context \
        window of this model. Please adjust your input and try again."}}});
    let created = json!({"type": "response.created", "sequence_number": 0, "response": {
        "id": "resp_1", "object": "response", "status": "in_progress", "output": []}});
    let sse = format!(
        "event: response.created\ndata: {created}\n\nevent: response.failed\ndata: {failed}\n\n"
    );
    let headers = vec![("content-type".to_owned(), "text/event-stream".to_owned())];
    mock.push_behaviour(Behaviour::Status(200, sse, headers));
    let reply = post_responses(
        &gw,
        &json!({"model": "gpt-4o-mini", "input": "long", "stream": true}),
    )
    .await;
    assert_eq!(reply.status, 200, "the stream had begun");
    let events: Vec<Value> = parse_sse(&reply.text).into_iter().map(|(_, d)| d).collect();
    let last = events.iter().rev().find(|e| e.is_object()).unwrap();
    assert_eq!(last["type"], "response.failed", "{}", reply.text);
    assert_eq!(last["response"]["error"]["code"], "context_length_exceeded");
}

#[actix_web::test]
async fn rate_limits_overload_and_quota_use_the_codes_agents_know() {
    // (provider, model, behaviour, status, code, message ends with)
    let cases = [
        (
            "openai",
            "gpt-4o-mini",
            Behaviour::Fail429,
            429,
            "rate_limit_exceeded",
            Some("try again in 4s."),
        ),
        (
            "anthropic",
            "claude-sonnet-4-5",
            Behaviour::Fail429,
            429,
            "rate_limit_exceeded",
            Some("try again in 21s."),
        ),
        (
            "google",
            "gemini-2.5-flash",
            Behaviour::Fail429,
            429,
            "rate_limit_exceeded",
            Some("try again in 24s."),
        ),
        (
            "anthropic",
            "claude-sonnet-4-5",
            Behaviour::Fail529,
            503,
            "server_is_overloaded",
            None,
        ),
        (
            "google",
            "gemini-2.5-flash",
            Behaviour::Fail503,
            503,
            "server_is_overloaded",
            None,
        ),
        (
            "openai",
            "gpt-4o-mini",
            Behaviour::FailQuota,
            429,
            "insufficient_quota",
            None,
        ),
    ];
    for (provider, model, behaviour, status, code, tail) in cases {
        let mock = MockUpstream::start();
        let gw = start(&mock, provider);
        mock.push_behaviour(behaviour);
        let reply = post_responses(&gw, &json!({"model": model, "input": "hi"})).await;
        assert_eq!(reply.status, status, "{provider}: {}", reply.text);
        let body = reply.json();
        assert_valid_error_body(&body);
        assert_eq!(body["error"]["code"], code, "{provider}");
        if let Some(tail) = tail {
            let message = body["error"]["message"].as_str().unwrap();
            assert!(message.ends_with(tail), "{provider}: {message}");
        }
    }
}
