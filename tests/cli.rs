//! The `gateway` binary's command line, run as a user would: `--version` (version + commit),
//! `check` (valid → routing table and exit 0 without printing keys; invalid → exit 2 naming
//! the key and file), `--help` (every environment variable), and serving with no subcommand.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    path::PathBuf,
    process::{Command, Output, Stdio},
    sync::mpsc,
    time::Duration,
};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/config/config.example.yaml");

/// Variables the binary reads, removed so the caller's shell cannot change a test.
const READ_VARS: [&str; 13] = [
    "GATEWAY_CONFIG",
    "RUST_LOG",
    "OPENAI_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_DEPLOYMENT_ID",
    "ANTHROPIC_API_KEY",
    "GOOGLE_API_KEY",
    "GATEWAY_SECRET",
    "REDIS_URL",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_SERVICE_NAME",
];

/// A directory of its own under the system temp dir (no ./config.yaml in it).
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gateway-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The binary with a clean environment plus `env`, run in its own temp dir.
fn gateway(dir: &str, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gateway"));
    command.args(args).current_dir(temp_dir(dir));
    for var in READ_VARS {
        command.env_remove(var);
    }
    command.envs(env.iter().copied());
    command
}

fn run(dir: &str, args: &[&str], env: &[(&str, &str)]) -> (Output, String, String) {
    let output = gateway(dir, args, env).output().unwrap();
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    (output, stdout, stderr)
}

#[test]
fn version_shows_the_version_and_the_commit() {
    let (output, stdout, _) = run("version", &["--version"], &[]);
    assert!(output.status.success());
    assert!(!llm_gateway::COMMIT.is_empty());
    assert_eq!(
        stdout.trim(),
        format!(
            "llm-gateway {} (commit {})",
            env!("CARGO_PKG_VERSION"),
            llm_gateway::COMMIT
        )
    );
}

#[test]
fn check_prints_the_routing_table_and_never_the_keys() {
    let openai = "sk-test-123456-openai-secret";
    let anthropic = "sk-ant-test-654321-secret";
    let (output, stdout, stderr) = run(
        "check-ok",
        &["check", "--config", EXAMPLE],
        &[("OPENAI_API_KEY", openai), ("ANTHROPIC_API_KEY", anthropic)],
    );
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.contains(&format!("config: {EXAMPLE}: valid")),
        "{stdout}"
    );
    assert!(stdout.contains("providers (2):"), "{stdout}");
    assert!(
        stdout.contains("  openai: kind=openai base_url=https://api.openai.com/v1 key_source="),
        "{stdout}"
    );
    assert!(
        stdout.contains("max_concurrency=256 max_queue=1024"),
        "{stdout}"
    );
    assert!(stdout.contains("routing table"), "{stdout}");
    assert!(
        stdout.contains("  gpt-4o [priority]: openai → gpt-4o\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  claude-sonnet-4-5 [priority]: anthropic → claude-sonnet-4-5\n"),
        "{stdout}"
    );
    assert!(stdout.contains("auth: off"), "{stdout}");
    assert!(stdout.contains("conversations: memory"), "{stdout}");
    for key in [openai, anthropic, "123456", "654321"] {
        assert!(!stdout.contains(key) && !stderr.contains(key), "{key}");
    }
}

#[test]
fn check_without_a_file_reads_the_embedded_example() {
    let (output, stdout, _) = run("check-embedded", &["check"], &[("GOOGLE_API_KEY", "g-key")]);
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout.contains("the embedded example config"), "{stdout}");
    assert!(stdout.contains("gemini-*, gemma-* → google"), "{stdout}");
}

#[test]
fn check_refuses_an_invalid_config_with_exit_2_naming_the_path() {
    let file = temp_dir("check-invalid").join("invalid.yaml");
    std::fs::write(
        &file,
        "providers:\n  openai:\n    api_key: k\n    max_concurrency: 0\n",
    )
    .unwrap();
    let file = file.display().to_string();
    let (output, stdout, stderr) = run("check-invalid", &["check", "--config", &file], &[]);
    assert_eq!(output.status.code(), Some(2), "{stdout}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("providers.openai.max_concurrency"),
        "{stderr}"
    );
    assert!(stderr.contains(&file), "{stderr}");
    // An unknown key is refused too, and `--config` works before the subcommand.
    std::fs::write(&file, "server:\n  colour: red\n").unwrap();
    let (output, _, stderr) = run("check-invalid", &["--config", &file, "check"], &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains("server"), "{stderr}");
}

#[test]
fn help_names_every_environment_variable_and_the_check_subcommand() {
    let (output, stdout, _) = run("help", &["--help"], &[]);
    assert!(output.status.success());
    for var in READ_VARS.iter().chain(&[
        "OTEL_SDK_DISABLED",
        "REDIS_USERNAME",
        "REDIS_PASSWORD",
        "OTEL_EXPORTER_OTLP_HEADERS",
        "OTEL_RESOURCE_ATTRIBUTES",
    ]) {
        assert!(stdout.contains(var), "{var} missing from --help:\n{stdout}");
    }
    assert!(stdout.contains("check"), "{stdout}");
    assert!(stdout.contains("--config"), "{stdout}");
    assert!(stdout.contains("--version"), "{stdout}");
}

#[test]
fn no_subcommand_still_serves() {
    let file = temp_dir("serve").join("config.yaml");
    std::fs::write(
        &file,
        "server:\n  address: \"127.0.0.1:0\"\n  workers: 1\nlog:\n  level: info\n  format: json\n",
    )
    .unwrap();
    let file = file.display().to_string();
    let mut child = gateway("serve", &["--config", &file], &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("Gateway listening.") {
                let _ = tx.send(line);
            }
        }
    });
    let line = rx.recv_timeout(Duration::from_secs(30));
    let answer = line.as_ref().ok().map(|line| {
        let line: serde_json::Value = serde_json::from_str(line).unwrap();
        let addr = line["fields"]["address"]
            .as_str()
            .unwrap_or_else(|| panic!("no address in {line}"));
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let answer = answer.unwrap_or_else(|| panic!("the gateway did not start: {line:?}"));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
