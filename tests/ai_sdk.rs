//! The Vercel AI SDK (`ai` 7 with `@ai-sdk/open-responses`, pinned in tests/agents, installed by
//! scripts/test.sh), unchanged, against the real gateway and mock upstreams: text, a stream and a
//! tool loop on OpenAI, Anthropic and Gemini.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{
    gateway::{providers_yaml, start_gateway},
    json::{pointer_between, pointers_to_text_containing},
    mock_upstream::{Behaviour, MockUpstream},
};

#[actix_web::test]
async fn the_vercel_ai_sdk_generates_streams_and_runs_a_tool_loop() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(
        &mock,
        &["openai", "anthropic", "google"],
        "",
    ));
    let models = ["gpt-4o-mini", "claude-sonnet-4-5", "gemini-2.5-flash"];
    // Per model: text, stream, then the tool loop (call the tool, then answer).
    for _ in models {
        mock.push_behaviour(Behaviour::Ok);
        mock.push_behaviour(Behaviour::Ok);
        mock.push_behaviour(Behaviour::CallToolWith(
            "get_weather".to_owned(),
            serde_json::json!({"city": "Paris"}),
        ));
        mock.push_behaviour(Behaviour::Text);
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/agents/ai_sdk.mjs");
    let output = tokio::process::Command::new("node")
        .arg(script)
        .arg(&gw.url)
        .args(models)
        .output()
        .await
        .unwrap_or_else(|e| panic!("cannot run node: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the AI SDK client failed (install it with scripts/test.sh):\n{stdout}\n{stderr}"
    );
    for model in models {
        assert!(
            stdout.contains(&format!("ok {model}")),
            "{model}:\n{stdout}"
        );
    }
    assert_eq!(
        mock.pending_behaviours(),
        0,
        "every scripted answer was asked for"
    );
    assert!(mock.requests().iter().any(|r| {
        pointers_to_text_containing(&r.body, "18C and sunny in Paris")
            .iter()
            .any(|at| pointer_between(at, "/input/", "/output"))
    }));
}
