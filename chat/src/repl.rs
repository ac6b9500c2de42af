//! The interactive session: a rustyline prompt showing the current model, slash commands, and streamed
//! turns that continue the conversation with `previous_response_id` and can be cancelled with Ctrl-C.

use std::{
    future::Future,
    process::ExitCode,
    time::{Duration, Instant},
};

use futures::FutureExt;
use rustyline::{DefaultEditor, error::ReadlineError};
use tokio::{
    runtime::Runtime,
    signal::unix::{Signal, SignalKind, signal},
};

use crate::{
    client::{Client, Turn},
    commands::{self, Command},
    events::Completion,
    render::{self, AnswerView},
};

/// Whether the loop goes on after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Continue,
    Quit,
}

/// Conversation state between turns.
struct Session<'r> {
    runtime: &'r Runtime,
    client: Client,
    model: String,
    instructions: Option<String>,
    /// The last completed response: the next turn continues it.
    previous: Option<String>,
    /// SIGINT while a request runs (at the prompt the line editor turns Ctrl-C into a key).
    sigint: Signal,
    rich: bool,
}

/// Runs the interactive client until `/quit` or Ctrl-D.
pub fn run(
    runtime: &Runtime,
    client: Client,
    model: String,
    instructions: Option<String>,
) -> ExitCode {
    let mut editor = match DefaultEditor::new() {
        Ok(editor) => editor,
        Err(err) => {
            render::error(&format!("cannot start the line editor: {err}"));
            return ExitCode::FAILURE;
        }
    };
    // Registering the handler here (not per request) keeps Ctrl-C from killing the client mid-answer.
    let sigint = match runtime.block_on(async { signal(SignalKind::interrupt()) }) {
        Ok(sigint) => sigint,
        Err(err) => {
            render::error(&format!("cannot handle Ctrl-C: {err}"));
            return ExitCode::FAILURE;
        }
    };
    render::notice(&format!(
        "gateway-chat · {} · /help for commands, Ctrl-D to quit",
        client.url()
    ));
    let mut session = Session {
        runtime,
        client,
        model,
        instructions,
        previous: None,
        sigint,
        rich: render::stdout_is_terminal(),
    };
    loop {
        match editor.readline(&format!("{}> ", session.model)) {
            Ok(line) => {
                let line = line.trim();
                if line.is_empty() {
                    continue;
                }
                // History is a convenience; a failure to record it is not worth a message.
                let _ = editor.add_history_entry(line);
                if session.handle(commands::parse(line)) == Flow::Quit {
                    return ExitCode::SUCCESS;
                }
            }
            Err(ReadlineError::Interrupted) => {}
            Err(ReadlineError::Eof) => return ExitCode::SUCCESS,
            Err(err) => {
                render::error(&format!("cannot read input: {err}"));
                return ExitCode::FAILURE;
            }
        }
    }
}

impl Session<'_> {
    fn handle(&mut self, command: Command<'_>) -> Flow {
        match command {
            Command::Ask(text) => self.ask(text),
            Command::Model(None) => render::notice(&format!("model: {}", self.model)),
            Command::Model(Some(name)) => self.switch_model(name),
            Command::Models => self.list_models(),
            Command::New => {
                self.previous = None;
                render::notice("new conversation");
            }
            Command::System(text) => {
                self.instructions = text.map(str::to_owned);
                render::notice(if text.is_some() {
                    "instructions set for the next turns"
                } else {
                    "instructions cleared"
                });
            }
            Command::Help => render::lines(commands::HELP),
            Command::Quit => return Flow::Quit,
            Command::Unknown(name) => {
                render::error(&format!("unknown command /{name} (see /help)"))
            }
        }
        Flow::Continue
    }

    /// One turn: only the new message, continuing the previous response.
    fn ask(&mut self, text: &str) {
        let turn = Turn {
            model: &self.model,
            input: text,
            instructions: self.instructions.as_deref(),
            previous_response_id: self.previous.as_deref(),
        };
        let mut view = AnswerView::new(self.rich);
        let started = Instant::now();
        let mut first_token = None;
        let mut on_text = |delta: &str| {
            first_token.get_or_insert_with(|| started.elapsed());
            view.push(delta)
        };
        let stream = self.client.stream(&turn, &mut on_text);
        let outcome = cancellable(self.runtime, &mut self.sigint, stream);
        let elapsed = started.elapsed();
        // Write failures mean the terminal is gone; the next prompt read reports that.
        match outcome {
            Some(Ok(done)) => {
                let _ = view.finish();
                render::notice(&status_line(&done, elapsed, first_token));
                self.previous = Some(done.id);
            }
            Some(Err(err)) => {
                let _ = view.abandon();
                render::error(&err);
            }
            None => {
                let _ = view.abandon();
                render::notice("(cancelled)");
            }
        }
    }

    /// `/model NAME`: aliases are resolved from `/v1/models`; the conversation carries on.
    fn switch_model(&mut self, name: &str) {
        let model = if commands::is_alias(name) {
            let Some(listed) = cancellable(self.runtime, &mut self.sigint, self.client.models())
            else {
                return render::notice("(cancelled)");
            };
            let models = match listed {
                Ok(models) => models,
                Err(err) => return render::error(&err),
            };
            let ids = models.iter().map(|m| m.id.as_str());
            match commands::resolve_alias(name, ids) {
                Some(id) => id.to_owned(),
                None => {
                    return render::error(&format!(
                        "the gateway lists no model starting with `{name}` (see /models)"
                    ));
                }
            }
        } else {
            name.to_owned()
        };
        let continues = if self.previous.is_some() {
            " (the conversation continues)"
        } else {
            ""
        };
        render::notice(&format!("model: {model}{continues}"));
        self.model = model;
    }

    /// `/models`: the gateway's list, the current model marked.
    fn list_models(&mut self) {
        let Some(listed) = cancellable(self.runtime, &mut self.sigint, self.client.models()) else {
            return render::notice("(cancelled)");
        };
        match listed {
            Ok(models) if models.is_empty() => render::notice("the gateway lists no models"),
            Ok(models) => {
                let width = models.iter().map(|m| m.id.len()).max().unwrap_or(0);
                let text: Vec<String> = models
                    .iter()
                    .map(|m| {
                        let mark = if m.id == self.model { '*' } else { ' ' };
                        format!("{mark} {:width$}  {}", m.id, m.owned_by)
                    })
                    .collect();
                render::lines(&text.join("\n"));
            }
            Err(err) => render::error(&err),
        }
    }
}

/// Runs `future` to completion unless Ctrl-C comes first (then drops it, cancelling its request).
fn cancellable<F: Future>(runtime: &Runtime, sigint: &mut Signal, future: F) -> Option<F::Output> {
    runtime.block_on(async {
        // Let the signal driver run once, then forget interrupts pressed while nothing was running.
        tokio::task::yield_now().await;
        while let Some(Some(())) = sigint.recv().now_or_never() {}
        tokio::select! {
            output = future => Some(output),
            _ = sigint.recv() => None,
        }
    })
}

/// The dim line after an answer: model, token usage and latency.
fn status_line(done: &Completion, elapsed: Duration, first_token: Option<Duration>) -> String {
    let mut line = if done.model.is_empty() {
        String::from("answered")
    } else {
        done.model.clone()
    };
    match done.usage {
        Some(usage) => line.push_str(&format!(
            " · {} in / {} out tokens",
            usage.input, usage.output
        )),
        None => line.push_str(" · usage not reported"),
    }
    line.push_str(&format!(" · {:.2} s", elapsed.as_secs_f64()));
    if let Some(first) = first_token {
        line.push_str(&format!(" (first token {:.2} s)", first.as_secs_f64()));
    }
    if let Some(reason) = &done.incomplete {
        line.push_str(&format!(" · incomplete: {reason}"));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Usage;

    #[test]
    fn the_status_line_shows_usage_and_latency() {
        let mut done = Completion {
            id: "resp_1".into(),
            model: "claude-sonnet-4-5".into(),
            usage: Some(Usage {
                input: 11,
                output: 6,
            }),
            incomplete: None,
        };
        assert_eq!(
            status_line(
                &done,
                Duration::from_millis(420),
                Some(Duration::from_millis(100))
            ),
            "claude-sonnet-4-5 · 11 in / 6 out tokens · 0.42 s (first token 0.10 s)"
        );
        done.usage = None;
        done.incomplete = Some("max_output_tokens".into());
        assert_eq!(
            status_line(&done, Duration::from_secs(2), None),
            "claude-sonnet-4-5 · usage not reported · 2.00 s · incomplete: max_output_tokens"
        );
    }
}
