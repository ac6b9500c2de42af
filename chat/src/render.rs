//! Terminal output: `AnswerView` streams raw answer text and, on a terminal, replaces each completed
//! Markdown block with its termimad rendering; plus the dim status / notice lines and error lines.
//!
//! The raw text of the pending block always starts at column 0, so its row count (at the current
//! width) says how far to move up before clearing and printing the rendered block. A block taller
//! than the screen cannot be reached any more and simply stays raw: never garbled, only unrendered.

use std::io::{self, IsTerminal, Write};

use termimad::{
    MadSkin,
    crossterm::{
        QueueableCommand,
        cursor::{MoveToColumn, MoveUp},
        style::Stylize,
        terminal::{self, Clear, ClearType},
    },
};

use crate::blocks;

/// Below this width termimad's wrapping gives up, so blocks stay raw.
const MIN_RENDER_COLS: usize = 20;
/// Assumed size when the terminal does not report one (e.g. a bare pseudo-terminal).
const FALLBACK_SIZE: (usize, usize) = (80, 24);

/// Whether stdout is a terminal (styles, Markdown) or a pipe / file (plain text).
pub fn stdout_is_terminal() -> bool {
    io::stdout().is_terminal()
}

/// The streamed answer of one turn.
pub struct AnswerView {
    rich: bool,
    skin: MadSkin,
    /// Raw text on screen that is not rendered yet (starts at column 0).
    pending: String,
    /// Whether the last character written ended a line.
    at_line_start: bool,
}

impl AnswerView {
    /// A view rendering Markdown when `rich`, else printing plain text.
    pub fn new(rich: bool) -> Self {
        Self {
            rich,
            skin: MadSkin::default(),
            pending: String::new(),
            at_line_start: true,
        }
    }

    /// Prints a delta raw, then renders any block it completed.
    pub fn push(&mut self, delta: &str) -> io::Result<()> {
        let text = blocks::sanitize(delta);
        if text.is_empty() {
            return Ok(());
        }
        let mut out = io::stdout().lock();
        out.write_all(text.as_bytes())?;
        self.at_line_start = text.ends_with('\n');
        if self.rich {
            self.pending.push_str(&text);
            while let Some(end) = blocks::block_end(&self.pending) {
                self.commit(&mut out, end)?;
            }
        }
        out.flush()
    }

    /// The answer is complete: renders what is left and ends the line.
    pub fn finish(&mut self) -> io::Result<()> {
        let mut out = io::stdout().lock();
        if self.rich && !self.pending.trim().is_empty() {
            self.commit(&mut out, self.pending.len())?;
        }
        self.pending.clear();
        self.end_line(&mut out)
    }

    /// The answer stops here (cancelled or failed): leaves the raw text and ends the line.
    pub fn abandon(&mut self) -> io::Result<()> {
        self.pending.clear();
        self.end_line(&mut io::stdout().lock())
    }

    fn end_line(&mut self, out: &mut impl Write) -> io::Result<()> {
        if !self.at_line_start {
            out.write_all(b"\n")?;
            self.at_line_start = true;
        }
        out.flush()
    }

    /// Replaces the raw `pending[..end]` with its rendering (the raw rest is reprinted after it).
    fn commit(&mut self, out: &mut impl Write, end: usize) -> io::Result<()> {
        let (cols, height) = terminal_size();
        let on_screen = blocks::rows(&self.pending, cols);
        let block: String = self.pending.drain(..end).collect();
        if cols < MIN_RENDER_COLS || on_screen >= height {
            return Ok(());
        }
        let (leading, markdown, trailing) = blocks::split_blank_edges(&block);
        if on_screen > 1 {
            out.queue(MoveUp(u16::try_from(on_screen - 1).unwrap_or(u16::MAX)))?;
        }
        out.queue(MoveToColumn(0))?;
        out.queue(Clear(ClearType::FromCursorDown))?;
        let mut rendered = "\n".repeat(leading);
        if !markdown.is_empty() {
            rendered.push_str(&self.skin.text(markdown, Some(cols)).to_string());
        }
        rendered.push_str(&"\n".repeat(trailing));
        out.write_all(rendered.as_bytes())?;
        out.write_all(self.pending.as_bytes())?;
        self.at_line_start = self.pending.is_empty() || self.pending.ends_with('\n');
        Ok(())
    }
}

/// (columns, rows) of the terminal, or a fallback when it reports none.
fn terminal_size() -> (usize, usize) {
    match terminal::size() {
        Ok((cols, rows)) if cols > 0 && rows > 0 => (usize::from(cols), usize::from(rows)),
        _ => FALLBACK_SIZE,
    }
}

/// Prints a dim line to stdout (plain when not a terminal).
pub fn notice(text: &str) {
    let mut out = io::stdout().lock();
    // Nothing sensible to do if the terminal is gone; the next read reports it.
    let _ = if stdout_is_terminal() {
        writeln!(out, "{}", text.dim())
    } else {
        writeln!(out, "{text}")
    };
    let _ = out.flush();
}

/// Prints plain lines to stdout.
pub fn lines(text: &str) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

/// Prints `error: …` to stderr, in red on a terminal.
pub fn error(message: &dyn std::fmt::Display) {
    let _ = io::stdout().flush();
    if io::stderr().is_terminal() {
        eprintln!("{} {message}", "error:".red().bold());
    } else {
        eprintln!("error: {message}");
    }
}
