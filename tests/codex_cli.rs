//! The real Codex CLI (npm `@openai/codex`, pinned in `tests/agents/package.json`) against the
//! gateway and the mock upstreams of all four providers: `codex exec` with its default features
//! (multi-agent and web search on), plain and through a full shell-tool loop, over HTTP and over
//! WebSocket. `scripts/test.sh` installs the CLI into `tests/agents/node_modules`;
//! `GATEWAY_TEST_CODEX` points at another binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use common::{
    gateway::{TestGateway, providers_yaml, start_gateway},
    mock_upstream::{Behaviour, MockUpstream, RecordedRequest},
};
use serde_json::{Value, json};
use tokio::{
    io::AsyncReadExt,
    net::{TcpListener, TcpStream},
};

/// A guard against a stuck client, not a synchronisation delay: a run takes about a second.
const CODEX_TIMEOUT: Duration = Duration::from_secs(120);

/// The shell command the mock asks Codex to run. Its output (`tool-output-42`) appears nowhere in
/// the request, so finding it upstream proves Codex ran it in a shell and sent the result back.
const COMMAND: &str = "echo tool-output-$((6*7))";
const COMMAND_OUTPUT: &str = "tool-output-42";

/// One provider as Codex users configure it.
struct Case {
    /// The gateway's provider block (`providers_yaml`).
    provider: &'static str,
    /// The `model` in Codex's config.toml.
    model: &'static str,
    /// The upstream path prefix the gateway calls.
    upstream: &'static str,
    /// The start of the provider's text fixture: Codex's final answer.
    answer: &'static str,
}

const CASES: [Case; 4] = [
    // Pinned to OpenAI by the `provider/model` form of the model name.
    Case {
        provider: "openai",
        model: "openai/gpt-5-mini",
        upstream: "/v1/responses",
        answer: "I can't provide real-time updates",
    },
    Case {
        provider: "azureopenai",
        model: "gpt-4o-mini",
        upstream: "/openai/deployments/",
        answer: "Ahoy! Keep yer parrot",
    },
    Case {
        provider: "anthropic",
        model: "claude-sonnet-4-5",
        upstream: "/v1/messages",
        answer: "Hello there",
    },
    Case {
        provider: "google",
        model: "gemini-2.5-flash",
        upstream: "/v1beta/models/",
        answer: "Why did the gateway break up",
    },
];

/// The Codex binary: `GATEWAY_TEST_CODEX`, else the pinned npm install.
fn codex_binary() -> PathBuf {
    std::env::var_os("GATEWAY_TEST_CODEX").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/agents/node_modules/.bin/codex"),
        PathBuf::from,
    )
}

/// A fresh directory for one run: `home` (CODEX_HOME) and `work` (the cwd, not a git repo).
fn run_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gateway-codex-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("home")).unwrap();
    std::fs::create_dir_all(dir.join("work")).unwrap();
    dir
}

/// The config.toml a user writes for the gateway (README, "Coding agents").
fn config_toml(base_url: &str, model: &str, websockets: bool) -> String {
    format!(
        r#"model_provider = "gateway"
model = "{model}"

[model_providers.gateway]
name = "llm-gateway"
base_url = "{base_url}/v1"
wire_api = "responses"
env_key = "GATEWAY_KEY"
supports_websockets = {websockets}
"#
    )
}

/// What one `codex exec` run printed.
struct Run {
    /// `--json` events, one per stdout line.
    events: Vec<Value>,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The text of the last `agent_message` item.
    fn final_answer(&self) -> Option<&str> {
        self.completed_items("agent_message")
            .last()
            .and_then(|item| item["text"].as_str())
    }

    fn completed_items(&self, kind: &str) -> Vec<&Value> {
        self.events
            .iter()
            .filter(|e| e["type"] == "item.completed" && e["item"]["type"] == kind)
            .map(|e| &e["item"])
            .collect()
    }
}

/// Runs `codex exec --json PROMPT` non-interactively against `base_url`; asserts it succeeded.
async fn codex_exec(name: &str, base_url: &str, model: &str, websockets: bool) -> Run {
    let dir = run_dir(name);
    std::fs::write(
        dir.join("home/config.toml"),
        config_toml(base_url, model, websockets),
    )
    .unwrap();
    let binary = codex_binary();
    let mut command = tokio::process::Command::new(&binary);
    command
        .args([
            "exec",
            "--json",
            "--color",
            "never",
            "--skip-git-repo-check",
        ])
        // No approval prompts (exec never asks) and no sandbox helper, which needs namespaces
        // the test machine may not grant.
        .args(["--sandbox", "danger-full-access"])
        .arg("Run the check and tell me what it printed.")
        .current_dir(dir.join("work"))
        .env("CODEX_HOME", dir.join("home"))
        .env("GATEWAY_KEY", "test-gateway-key")
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(CODEX_TIMEOUT, command.output())
        .await
        .unwrap_or_else(|_| panic!("{name}: codex exec did not finish"))
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} ({e}); install it with scripts/test.sh",
                binary.display()
            )
        });
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "{name}: codex exec failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    let events = stdout
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    Run {
        events,
        stdout,
        stderr,
    }
}

/// A gateway serving `case`'s provider from a fresh mock.
fn start(case: &Case) -> (MockUpstream, TestGateway) {
    let mock = MockUpstream::start();
    let gateway = start_gateway(&providers_yaml(&mock, &[case.provider], ""));
    (mock, gateway)
}

/// The requests the gateway made to the provider's model endpoint.
fn model_calls(mock: &MockUpstream, case: &Case) -> Vec<RecordedRequest> {
    mock.requests()
        .into_iter()
        .filter(|r| r.path.starts_with(case.upstream))
        .collect()
}

/// The tool results in one upstream body, in the provider's own shape.
fn tool_results(body: &Value) -> Vec<Value> {
    let list = |key: &str| body[key].as_array().cloned().unwrap_or_default();
    let mut results = Vec::new();
    // OpenAI Responses.
    for item in list("input") {
        if item["type"] == "function_call_output" {
            results.push(item["output"].clone());
        }
    }
    // Chat Completions (Azure) and Anthropic.
    for message in list("messages") {
        if message["role"] == "tool" {
            results.push(message["content"].clone());
        }
        for block in message["content"].as_array().into_iter().flatten() {
            if block["type"] == "tool_result" {
                results.push(block["content"].clone());
            }
        }
    }
    // Gemini.
    for content in list("contents") {
        for part in content["parts"].as_array().into_iter().flatten() {
            if part.get("functionResponse").is_some() {
                results.push(part["functionResponse"].clone());
            }
        }
    }
    results
}

#[actix_web::test]
async fn codex_exec_completes_with_default_tools_on_every_provider() {
    for case in &CASES {
        let (mock, gateway) = start(case);
        mock.push_behaviour(Behaviour::Text);
        let run = codex_exec(case.provider, &gateway.url, case.model, false).await;
        assert!(
            run.final_answer()
                .is_some_and(|text| text.starts_with(case.answer)),
            "{}: no final answer:\n{}\n{}",
            case.provider,
            run.stdout,
            run.stderr
        );
        let calls = model_calls(&mock, case);
        assert_eq!(calls.len(), 1, "{}: one model call", case.provider);
        assert_eq!(mock.pending_behaviours(), 0, "{}", case.provider);
        if case.provider == "openai" {
            // Passed through: the default tool set really carries the dialect's tool types.
            let types: Vec<&str> = calls[0].body["tools"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|t| t["type"].as_str())
                .collect();
            assert!(types.contains(&"namespace"), "{types:?}");
            assert!(types.contains(&"web_search"), "{types:?}");
        }
    }
}

#[actix_web::test]
async fn codex_exec_runs_a_shell_tool_loop_on_every_provider() {
    for case in &CASES {
        let (mock, gateway) = start(case);
        tool_loop(case, &mock, &gateway.url, false).await;
    }
}

/// The mock calls Codex's shell tool (`exec_command {cmd}` in this version), Codex runs it and
/// sends the output back, the mock answers with text.
async fn tool_loop(case: &Case, mock: &MockUpstream, base_url: &str, websockets: bool) -> Run {
    let arguments = json!({"cmd": COMMAND});
    mock.push_behaviour(Behaviour::CallToolWith("exec_command".into(), arguments));
    mock.push_behaviour(Behaviour::Text);
    let name = format!("loop-{}-{websockets}", case.provider);
    let run = codex_exec(&name, base_url, case.model, websockets).await;
    let context = format!("{name}:\n{}\n{}", run.stdout, run.stderr);
    let executed = run.completed_items("command_execution");
    assert_eq!(executed.len(), 1, "{context}");
    assert!(
        executed[0]["aggregated_output"]
            .as_str()
            .is_some_and(|out| out.contains(COMMAND_OUTPUT)),
        "{context}"
    );
    assert!(
        run.final_answer()
            .is_some_and(|text| text.starts_with(case.answer)),
        "{context}"
    );
    let calls = model_calls(mock, case);
    assert_eq!(calls.len(), 2, "{context}");
    let results = tool_results(&calls[1].body);
    assert_eq!(results.len(), 1, "{name}: {}", calls[1].body);
    assert!(results[0].to_string().contains(COMMAND_OUTPUT), "{name}");
    assert_eq!(mock.pending_behaviours(), 0, "{name}");
    run
}

/// A loopback TCP relay in front of the gateway that records each connection's request line,
/// to tell WebSocket upgrades (`GET`) from HTTP turns (`POST`).
struct Relay {
    url: String,
    request_lines: Arc<Mutex<Vec<String>>>,
}

impl Relay {
    async fn start(target: &str) -> Self {
        let target = target.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let request_lines = Arc::new(Mutex::new(Vec::new()));
        let lines = request_lines.clone();
        actix_web::rt::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                actix_web::rt::spawn(relay(client, target.clone(), lines.clone()));
            }
        });
        Self { url, request_lines }
    }

    fn request_lines(&self) -> Vec<String> {
        self.request_lines.lock().unwrap().clone()
    }
}

async fn relay(mut client: TcpStream, target: String, lines: Arc<Mutex<Vec<String>>>) {
    let Ok(mut upstream) = TcpStream::connect(&target).await else {
        return;
    };
    let mut head = vec![0; 16 * 1024];
    let Ok(n) = client.read(&mut head).await else {
        return;
    };
    let line = String::from_utf8_lossy(&head[..n])
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    lines.lock().unwrap().push(line);
    if tokio::io::AsyncWriteExt::write_all(&mut upstream, &head[..n])
        .await
        .is_ok()
    {
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
    }
}

#[actix_web::test]
async fn codex_exec_runs_a_shell_tool_loop_over_websocket_on_every_provider() {
    for case in &CASES {
        let (mock, gateway) = start(case);
        let relay = Relay::start(&gateway.url).await;
        tool_loop(case, &mock, &relay.url, true).await;
        // Two model calls (`tool_loop`): Codex's `generate: false` warm-up reached no model.
        let lines = relay.request_lines();
        assert!(
            !lines.is_empty() && lines.iter().all(|l| l.starts_with("GET /v1/responses ")),
            "{}: every turn over the socket, no HTTP fallback: {lines:?}",
            case.provider
        );
    }
}
