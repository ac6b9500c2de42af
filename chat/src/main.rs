//! `gateway-chat`: a terminal chat client for llm-gateway. Interactive by default (streamed Markdown
//! answers, server-side conversations, slash commands); `-p QUESTION` answers once for scripts.
//!
//! Modules: `client` (HTTP API) · `sse` + `events` (stream decoding) · `error` · `repl` + `commands`
//! (interactive session) · `render` + `blocks` (terminal output).

mod blocks;
mod client;
mod commands;
mod error;
mod events;
mod render;
mod repl;
mod sse;

use std::{
    io::{self, Write},
    process::ExitCode,
};

use clap::Parser;

use crate::client::{Client, Turn};

/// Talk to any model through llm-gateway.
#[derive(Debug, Parser)]
#[command(name = "gateway-chat", version, about)]
struct Cli {
    /// The gateway's base URL.
    #[arg(long, env = "GATEWAY_URL", default_value = "http://localhost:8080")]
    url: String,
    /// The model to start with (`/model` switches later).
    #[arg(long, short = 'm', default_value = "gpt-4o-mini")]
    model: String,
    /// Bearer token sent as `Authorization: Bearer TOKEN`.
    #[arg(long, env = "GATEWAY_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// System / developer instructions for every turn (`/system` changes them).
    #[arg(long)]
    instructions: Option<String>,
    /// Ask one question, print the answer and exit (non-zero on any error).
    #[arg(short = 'p', long = "prompt", value_name = "QUESTION")]
    prompt: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // One thread is plenty for one conversation, and keeps Ctrl-C handling on the main thread.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            render::error(&format!("cannot start the async runtime: {err}"));
            return ExitCode::FAILURE;
        }
    };
    let client = match Client::new(&cli.url, cli.token) {
        Ok(client) => client,
        Err(err) => {
            render::error(&err);
            return ExitCode::FAILURE;
        }
    };
    match cli.prompt {
        Some(question) => {
            let turn = Turn {
                model: &cli.model,
                input: &question,
                instructions: cli.instructions.as_deref(),
                previous_response_id: None,
            };
            ask_once(&runtime, &client, &turn)
        }
        None => repl::run(&runtime, client, cli.model, cli.instructions),
    }
}

/// `-p`: streams the answer to stdout as plain text; errors go to stderr and fail the process.
fn ask_once(runtime: &tokio::runtime::Runtime, client: &Client, turn: &Turn<'_>) -> ExitCode {
    let mut out = io::stdout().lock();
    let mut at_line_start = true;
    let result = runtime.block_on(client.stream(turn, &mut |text| {
        if !text.is_empty() {
            out.write_all(text.as_bytes())?;
            out.flush()?;
            at_line_start = text.ends_with('\n');
        }
        Ok(())
    }));
    if !at_line_start {
        // If stdout is gone the answer already failed to print and `result` says so.
        let _ = writeln!(out).and_then(|()| out.flush());
    }
    drop(out);
    match result {
        Ok(done) => {
            if let Some(reason) = done.incomplete {
                eprintln!("warning: the answer is incomplete ({reason})");
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            render::error(&err);
            ExitCode::FAILURE
        }
    }
}
