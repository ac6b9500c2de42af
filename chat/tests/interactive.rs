//! The interactive client driven through a pseudo-terminal (rexpect): a two-turn conversation with a
//! `/model` switch, and a session that survives Ctrl-C, an unknown model and a broken stream.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;

use common::{ANTHROPIC_ANSWER, Harness, chat_command, openai_answer};
use rexpect::{process::wait::WaitStatus, session::PtySession};
use serde_json::Value;

/// Per-expectation timeout.
const TIMEOUT_MS: u64 = 5_000;

/// Starts `gateway-chat --url URL ARGS…` in a 100×40 pseudo-terminal.
fn spawn_chat(harness: &Harness, args: &[&str]) -> PtySession {
    let chat = chat_command();
    // A bare pty reports a 0×0 size; `stty` gives it a real one so rendering runs as in a terminal.
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg("stty cols 100 rows 40 && exec \"$0\" \"$@\"")
        .arg(chat.get_program())
        .args(["--url", &harness.url])
        .args(args)
        .env_remove("GATEWAY_URL")
        .env_remove("GATEWAY_TOKEN")
        .env("TERM", "xterm-256color");
    rexpect::session::spawn_command(command, Some(TIMEOUT_MS)).unwrap()
}

fn expect_exit_zero(mut chat: PtySession) {
    chat.exp_eof().unwrap();
    assert!(matches!(
        chat.process.wait().unwrap(),
        WaitStatus::Exited(_, 0)
    ));
}

#[test]
fn two_turns_with_a_model_switch_send_only_the_new_message() {
    let harness = Harness::start();
    let mut chat = spawn_chat(&harness, &[]);
    chat.exp_string("gpt-4o-mini> ").unwrap();
    chat.send_line("What's the weather in San Francisco?")
        .unwrap();
    chat.exp_string("I can't provide").unwrap();
    chat.exp_string("14 in / 50 out tokens").unwrap();
    chat.exp_string("gpt-4o-mini> ").unwrap();

    chat.send_line("/model claude").unwrap();
    chat.exp_string("model: claude-sonnet-4-5 (the conversation continues)")
        .unwrap();
    chat.exp_string("claude-sonnet-4-5> ").unwrap();
    chat.send_line("And in French?").unwrap();
    chat.exp_string(ANTHROPIC_ANSWER).unwrap();
    chat.exp_string("11 in / 6 out tokens").unwrap();
    chat.exp_string("claude-sonnet-4-5> ").unwrap();
    chat.send_line("/quit").unwrap();
    expect_exit_zero(chat);

    // What the client sent: the second turn is only the new message plus previous_response_id.
    let turns = harness.turns();
    assert_eq!(turns.len(), 2);
    assert_eq!(turns[0]["model"], "gpt-4o-mini");
    assert_eq!(turns[0]["input"], "What's the weather in San Francisco?");
    assert!(turns[0].get("previous_response_id").is_none());
    assert_eq!(turns[1]["model"], "claude-sonnet-4-5");
    assert_eq!(turns[1]["input"], "And in French?");
    assert!(
        turns[1]["previous_response_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );
    let models = harness
        .client_requests()
        .into_iter()
        .filter(|r| r.path == "/v1/models");
    assert_eq!(models.count(), 1, "the alias was resolved from /v1/models");

    // What reached Claude: the gateway replayed the first turn before the new message.
    let upstream = harness.upstream();
    assert_eq!(upstream.len(), 2);
    assert_eq!(upstream[1].path, "/v1/messages");
    let messages = upstream[1].body["messages"].as_array().unwrap();
    let roles: Vec<&str> = messages
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant", "user"]);
    let said = |m: &Value| m["content"].to_string();
    assert!(said(&messages[0]).contains("What's the weather in San Francisco?"));
    assert!(said(&messages[1]).contains(&openai_answer()));
    assert!(said(&messages[2]).contains("And in French?"));
}

#[test]
fn survives_ctrl_c_an_unknown_model_and_a_broken_stream() {
    let harness = Harness::start();
    let mut chat = spawn_chat(&harness, &["--model", "gpt-slow"]);
    chat.exp_string("gpt-slow> ").unwrap();
    chat.send_line("Tell me slowly").unwrap();
    chat.exp_string("I can't provide").unwrap();
    chat.send_control('c').unwrap();
    chat.exp_string("(cancelled)").unwrap();
    chat.exp_string("gpt-slow> ").unwrap();

    chat.send_line("/model nope-model").unwrap();
    chat.exp_string("nope-model> ").unwrap();
    chat.send_line("Hi").unwrap();
    chat.exp_string("404 model_not_found").unwrap();
    chat.exp_string("nope-model> ").unwrap();

    chat.send_line("/model gpt-broken").unwrap();
    chat.exp_string("gpt-broken> ").unwrap();
    chat.send_line("Hi again").unwrap();
    chat.exp_string("the answer failed").unwrap();
    chat.exp_string("gpt-broken> ").unwrap();

    chat.send_line("/frobnicate").unwrap();
    chat.exp_string("unknown command /frobnicate").unwrap();
    chat.send_control('d').unwrap();
    expect_exit_zero(chat);

    // No turn completed, so none of them continued a conversation.
    let turns = harness.turns();
    assert_eq!(turns.len(), 3);
    assert!(
        turns
            .iter()
            .all(|t| t.get("previous_response_id").is_none()),
        "{turns:?}"
    );
}

#[test]
fn commands_manage_models_instructions_and_conversations() {
    let harness = Harness::start();
    let mut chat = spawn_chat(&harness, &[]);
    chat.exp_string("gpt-4o-mini> ").unwrap();
    chat.send_line("/help").unwrap();
    chat.exp_string("/system TEXT").unwrap();
    chat.exp_string("gpt-4o-mini> ").unwrap();
    chat.send_line("/models").unwrap();
    let listing = chat.exp_string("gpt-4o-mini> ").unwrap();
    assert!(listing.contains("* gpt-4o-mini "), "{listing:?}");
    assert!(listing.contains("  claude-sonnet-4-5 "), "{listing:?}");
    chat.send_line("/system Answer briefly.").unwrap();
    chat.exp_string("instructions set").unwrap();
    chat.send_line("One").unwrap();
    chat.exp_string("out tokens").unwrap();
    chat.send_line("/new").unwrap();
    chat.exp_string("new conversation").unwrap();
    chat.send_line("Two").unwrap();
    chat.exp_string("out tokens").unwrap();
    chat.exp_string("gpt-4o-mini> ").unwrap();
    chat.send_line("/quit").unwrap();
    expect_exit_zero(chat);

    let turns = harness.turns();
    assert_eq!(turns.len(), 2);
    for turn in &turns {
        assert_eq!(turn["instructions"], "Answer briefly.");
        assert!(
            turn.get("previous_response_id").is_none(),
            "/new forgets the conversation"
        );
    }
}
