//! The official OpenAI Python SDK, unchanged, against the real gateway and mock upstreams.
//! `scripts/test.sh` installs the SDK into `.venv` and sets `GATEWAY_TEST_PYTHON`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{
    gateway::{providers_yaml, start_gateway},
    json::{pointer_between, pointers_to_text_containing},
    mock_upstream::MockUpstream,
};

async fn run_sdk(url: &str, models: &[&str]) {
    run_script("sdk_client.py", url, models).await;
}

/// `chat.completions.create` (JSON, streaming, tools) through the Chat Completions front door.
async fn run_chat_sdk(url: &str, models: &[&str]) {
    run_script("sdk_chat.py", url, models).await;
}

async fn run_script(name: &str, url: &str, models: &[&str]) {
    let python = std::env::var("GATEWAY_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let script = format!("{}/tests/python/{name}", env!("CARGO_MANIFEST_DIR"));
    let mut command = tokio::process::Command::new(&python);
    command.arg(&script).arg(url).args(models);
    let output = command
        .output()
        .await
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}; run scripts/test.sh"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the OpenAI SDK client {name} failed (install it with scripts/test.sh):\n{stdout}\n{stderr}"
    );
    for model in models {
        assert!(
            stdout.contains(&format!("ok {model}")),
            "{model} not exercised:\n{stdout}"
        );
    }
}

#[actix_web::test]
async fn openai_python_sdk_works_unchanged_against_openai() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["openai"], ""));
    run_sdk(&gw.url, &["gpt-4o-mini"]).await;
    assert!(mock.hits("/v1/responses") >= 6);
}

#[actix_web::test]
async fn openai_python_sdk_works_unchanged_against_anthropic() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["anthropic"], ""));
    run_sdk(&gw.url, &["claude-sonnet-4-5"]).await;
    assert!(mock.hits("/v1/messages") >= 6);
}

#[actix_web::test]
async fn openai_python_sdk_works_unchanged_against_azure_and_gemini() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["azureopenai", "google"], ""));
    run_sdk(&gw.url, &["gpt-4o-mini", "gemini-2.5-flash"]).await;
    assert!(mock.hits("/openai/deployments/") >= 6);
    assert!(mock.hits("/v1beta/models/") >= 6);
}

#[actix_web::test]
async fn openai_python_sdk_chat_completions_against_anthropic() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["anthropic"], ""));
    run_chat_sdk(&gw.url, &["claude-sonnet-4-5"]).await;
    assert!(mock.hits("/v1/messages") >= 8);
}

#[actix_web::test]
async fn openai_python_sdk_chat_completions_against_gemini() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["google"], ""));
    run_chat_sdk(&gw.url, &["gemini-2.5-flash"]).await;
    assert!(mock.hits("/v1beta/models/") >= 8);
}

#[actix_web::test]
async fn openai_python_sdk_chat_completions_against_openai() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["openai"], ""));
    run_chat_sdk(&gw.url, &["gpt-4o-mini"]).await;
    assert!(mock.hits("/v1/responses") >= 8);
}

#[actix_web::test]
async fn openai_python_sdk_chat_completions_against_azure() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["azureopenai"], ""));
    run_chat_sdk(&gw.url, &["gpt-4o-mini"]).await;
    assert!(mock.hits("/openai/deployments/") >= 8);
}

/// `responses.create(background=True)`, `responses.retrieve` (polling, and `stream=True` with
/// `starting_after`) and `responses.cancel`.
#[actix_web::test]
async fn openai_python_sdk_background_responses() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["openai", "anthropic"], ""));
    run_script(
        "sdk_background.py",
        &gw.url,
        &["gpt-4o-mini", "claude-sonnet-4-5"],
    )
    .await;
    assert!(mock.hits("/v1/responses") >= 3);
    assert!(mock.hits("/v1/messages") >= 3);
}

/// The same through two replicas sharing Redis: created on one, polled, resumed and cancelled
/// on the other.
#[actix_web::test]
async fn openai_python_sdk_background_responses_across_two_replicas() {
    let mock = MockUpstream::start();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let store = format!(
        "conversations:\n  store: redis\n  ttl: \"5m\"\n  redis_url: \"redis://127.0.0.1:6379\"\n  key_prefix: \"sdk-bg-{nanos:x}-{}:\"\n",
        std::process::id()
    );
    let yaml = format!("{}{store}", providers_yaml(&mock, &["openai"], ""));
    let (a, b) = (start_gateway(&yaml), start_gateway(&yaml));
    run_script(
        "sdk_background.py",
        &format!("{},{}", a.url, b.url),
        &["gpt-4o-mini"],
    )
    .await;
}

/// The OpenAI Agents SDK (a function tool, `Runner.run_sync` and `Runner.run_streamed`) on
/// OpenAI and Anthropic: each run calls the tool, sends its result back and gets the answer.
#[actix_web::test]
async fn openai_agents_sdk_runs_a_tool_loop() {
    use common::mock_upstream::Behaviour;
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["openai", "anthropic"], ""));
    // Two models × two runs × (call the tool, then answer).
    for _ in 0..4 {
        mock.push_behaviour(Behaviour::CallToolWith(
            "get_weather".to_owned(),
            serde_json::json!({"city": "Paris"}),
        ));
        mock.push_behaviour(Behaviour::Text);
    }
    run_script(
        "sdk_agents.py",
        &gw.url,
        &["gpt-4o-mini", "claude-sonnet-4-5"],
    )
    .await;
    assert_eq!(
        mock.pending_behaviours(),
        0,
        "every scripted answer was asked for"
    );
    // The tool's result reached the upstream.
    assert!(mock.requests().iter().any(|r| {
        pointers_to_text_containing(&r.body, "18C and sunny in Paris")
            .iter()
            .any(|at| pointer_between(at, "/input/", "/output"))
    }));
}
