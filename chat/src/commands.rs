//! The interactive commands (`/model`, `/models`, `/new`, `/system`, `/help`, `/quit`): parsing, the
//! help text, and resolving the short model aliases against the gateway's model list.

/// Short names for `/model`, each resolved to the first listed model id that starts with it.
pub const ALIASES: [&str; 3] = ["claude", "gemini", "gpt"];

/// The help text for `/help`.
pub const HELP: &str = "\
Type a message and press Enter; the answer streams in. Each turn continues the conversation.
  /model NAME    switch model (claude, gemini and gpt pick the gateway's first such model);
                 the conversation continues with the new model
  /model         show the current model
  /models        list the gateway's models
  /new           start a new conversation
  /system TEXT   set instructions for the next turns (/system alone clears them)
  /help          this help
  /quit          leave (or Ctrl-D)
Ctrl-C cancels an answer while it streams; Up/Down browse the input history.";

/// One line of input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command<'a> {
    /// A message for the model.
    Ask(&'a str),
    /// `/model [NAME]`.
    Model(Option<&'a str>),
    /// `/models`.
    Models,
    /// `/new`.
    New,
    /// `/system [TEXT]`.
    System(Option<&'a str>),
    /// `/help`.
    Help,
    /// `/quit` or `/exit`.
    Quit,
    /// A `/word` we do not know.
    Unknown(&'a str),
}

/// Parses a trimmed, non-empty input line.
pub fn parse(line: &str) -> Command<'_> {
    let Some(command) = line.strip_prefix('/') else {
        return Command::Ask(line);
    };
    let (name, rest) = command
        .split_once(char::is_whitespace)
        .unwrap_or((command, ""));
    let argument = Some(rest.trim()).filter(|r| !r.is_empty());
    match name {
        "model" => Command::Model(argument),
        "models" => Command::Models,
        "new" | "reset" => Command::New,
        "system" => Command::System(argument),
        "help" | "?" => Command::Help,
        "quit" | "exit" | "q" => Command::Quit,
        _ => Command::Unknown(name),
    }
}

/// Whether `name` is one of the short aliases.
pub fn is_alias(name: &str) -> bool {
    ALIASES.contains(&name)
}

/// The first model id starting with the alias `name`.
pub fn resolve_alias<'a>(name: &str, ids: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    ids.into_iter().find(|id| id.starts_with(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands_and_messages() {
        assert_eq!(parse("Hello /model"), Command::Ask("Hello /model"));
        assert_eq!(parse("/model"), Command::Model(None));
        assert_eq!(parse("/model  claude "), Command::Model(Some("claude")));
        assert_eq!(parse("/models"), Command::Models);
        assert_eq!(parse("/new"), Command::New);
        assert_eq!(
            parse("/system Answer in French."),
            Command::System(Some("Answer in French."))
        );
        assert_eq!(parse("/system"), Command::System(None));
        assert_eq!(parse("/help"), Command::Help);
        assert_eq!(parse("/quit"), Command::Quit);
        assert_eq!(parse("/frobnicate now"), Command::Unknown("frobnicate"));
    }

    #[test]
    fn resolves_aliases_to_the_first_matching_model() {
        let ids = [
            "gpt-4o",
            "gpt-4o-mini",
            "claude-sonnet-4-5",
            "claude-opus-4-1",
            "gemini-2.5-flash",
        ];
        assert_eq!(resolve_alias("claude", ids), Some("claude-sonnet-4-5"));
        assert_eq!(resolve_alias("gpt", ids), Some("gpt-4o"));
        assert_eq!(resolve_alias("gemini", ids), Some("gemini-2.5-flash"));
        assert_eq!(resolve_alias("gemini", ["gpt-4o"]), None);
        assert!(is_alias("claude") && !is_alias("claude-sonnet-4-5"));
    }
}
