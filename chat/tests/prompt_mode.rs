//! `gateway-chat -p QUESTION` end to end: the answer on stdout and exit 0, or one `error:` line on
//! stderr and a non-zero exit, against the real gateway and a mock upstream.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Output;

use common::{ANTHROPIC_ANSWER, Harness, chat_command, closed_port_url, openai_answer};
use serde_json::json;

fn run(args: &[&str], envs: &[(&str, &str)]) -> Output {
    chat_command()
        .args(args)
        .envs(envs.iter().copied())
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn prints_the_answer_and_exits_zero() {
    let harness = Harness::start();
    let out = run(
        &[
            "--url",
            &harness.url,
            "-p",
            "What's the weather in San Francisco?",
        ],
        &[],
    );
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("{}\n", openai_answer()));
    assert_eq!(text(&out.stderr), "");
    assert_eq!(
        harness.turns(),
        [
            json!({"model": "gpt-4o-mini", "input": "What's the weather in San Francisco?", "stream": true})
        ]
    );
    assert_eq!(harness.client_requests()[0].authorization, None);
    let upstream = harness.upstream();
    assert_eq!(upstream.len(), 1);
    assert_eq!(upstream[0].path, "/v1/responses");
}

#[test]
fn sends_the_token_and_instructions_from_flags_and_environment() {
    let harness = Harness::with_token("s3cret");
    let out = run(
        &[
            "--model",
            "claude-sonnet-4-5",
            "--instructions",
            "Answer briefly.",
            "-p",
            "Hi",
        ],
        &[("GATEWAY_URL", &harness.url), ("GATEWAY_TOKEN", "s3cret")],
    );
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("{ANTHROPIC_ANSWER}\n"));
    let sent = harness.client_requests();
    assert_eq!(sent[0].authorization.as_deref(), Some("Bearer s3cret"));
    assert_eq!(sent[0].body["instructions"], "Answer briefly.");
    let upstream = harness.upstream();
    assert_eq!(upstream[0].path, "/v1/messages");
    assert!(
        upstream[0].body["system"]
            .to_string()
            .contains("Answer briefly.")
    );
}

/// Runs a failing case: non-zero exit, exactly one `error:` line naming `expected`.
fn assert_fails(out: &Output, expected: &str) {
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "should fail; stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr:?}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains(expected),
        "{stderr:?}"
    );
}

#[test]
fn errors_are_one_line_and_fail_the_process() {
    let harness = Harness::start();
    let unknown = run(
        &["--url", &harness.url, "--model", "nope-model", "-p", "Hi"],
        &[],
    );
    assert_fails(&unknown, "404 model_not_found");
    assert_eq!(text(&unknown.stdout), "");

    let broken = run(
        &["--url", &harness.url, "--model", "gpt-broken", "-p", "Hi"],
        &[],
    );
    assert_fails(&broken, "the answer failed");
    let partial = text(&broken.stdout);
    assert!(
        partial.starts_with("I can't provide") && partial.ends_with('\n'),
        "{partial:?}"
    );

    let down = closed_port_url();
    let unreachable = run(&["--url", &down, "-p", "Hi"], &[]);
    assert_fails(&unreachable, &format!("cannot reach the gateway at {down}"));
}

#[test]
fn a_missing_token_is_a_clear_401() {
    let harness = Harness::with_token("s3cret");
    let out = run(&["--url", &harness.url, "-p", "Hi"], &[]);
    assert_fails(
        &out,
        "401 invalid_token: Missing or invalid bearer token. (check --token",
    );
    assert!(harness.upstream().is_empty());
}
