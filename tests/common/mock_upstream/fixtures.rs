//! Owns the provider fixture files (embedded at compile time, byte-exact) and the helpers that cut them into SSE frames
//! or parse the raw `.http` error responses.

use std::collections::BTreeMap;

macro_rules! fixtures {
    ($($name:literal),* $(,)?) => {
        /// Every fixture under `tests/fixtures/`, as `("<provider>/<file>", contents)`.
        pub const ALL: &[(&str, &str)] = &[
            $(($name, include_str!(concat!("../../fixtures/", $name))),)*
        ];
    };
}

fixtures![
    "openai/chat_completion_text.json",
    "openai/chat_completion_text_stream.sse",
    "openai/chat_completion_tool_call.json",
    "openai/chat_completion_tool_call_stream.sse",
    "openai/error_400_invalid_request.http",
    "openai/error_429_insufficient_quota.http",
    "openai/error_429_rate_limit.http",
    "openai/responses_incomplete_max_tokens.json",
    "openai/responses_stream_failed.sse",
    "openai/responses_text.json",
    "openai/responses_text_stream.sse",
    "openai/responses_tool_call.json",
    "openai/responses_tool_call_stream.sse",
    "azure-openai/chat_completion_output_filtered.json",
    "azure-openai/chat_completion_text.json",
    "azure-openai/chat_completion_text_stream.sse",
    "azure-openai/chat_completion_tool_call.json",
    "azure-openai/chat_completion_tool_call_stream.sse",
    "azure-openai/error_400_content_filter.json",
    "azure-openai/error_404_deployment_not_found.json",
    "azure-openai/error_429_rate_limit.http",
    "anthropic/error_400_invalid_request.http",
    "anthropic/error_429_rate_limit.http",
    "anthropic/error_529_overloaded.http",
    "anthropic/message_max_tokens.json",
    "anthropic/message_refusal_stream.sse",
    "anthropic/message_text.json",
    "anthropic/message_text_stream.sse",
    "anthropic/message_thinking.json",
    "anthropic/message_thinking_stream.sse",
    "anthropic/message_tool_use.json",
    "anthropic/message_tool_use_stream.sse",
    "anthropic/message_web_search.json",
    "anthropic/message_web_search_stream.sse",
    "anthropic/stream_error_overloaded.sse",
    "gemini/error_400_invalid_argument.json",
    "gemini/error_429_resource_exhausted.http",
    "gemini/error_503_unavailable.json",
    "gemini/generate_content_function_call.json",
    "gemini/generate_content_grounded.json",
    "gemini/generate_content_max_tokens.json",
    "gemini/generate_content_parallel_function_calls.json",
    "gemini/generate_content_prompt_blocked.json",
    "gemini/generate_content_text.json",
    "gemini/stream_generate_content_function_call.sse",
    "gemini/stream_generate_content_grounded.sse",
    "gemini/stream_generate_content_text.sse",
];

/// The exact text of a fixture, e.g. `fixture("openai/responses_text.json")`. Panics on an unknown name.
pub fn fixture(name: &str) -> &'static str {
    ALL.iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
        .unwrap_or_else(|| {
            panic!("no fixture named {name:?} (see tests/common/mock_upstream/fixtures.rs)")
        })
}

/// A fixture parsed as JSON. Panics if it is not JSON.
pub fn fixture_json(name: &str) -> serde_json::Value {
    serde_json::from_str(fixture(name))
        .unwrap_or_else(|e| panic!("fixture {name} is not JSON: {e}"))
}

/// The frame terminator a stream fixture uses: `"\r\n\r\n"` for the Gemini (CRLF) files, `"\n\n"` otherwise.
pub fn frame_separator(text: &str) -> &'static str {
    if text.contains("\r\n") {
        "\r\n\r\n"
    } else {
        "\n\n"
    }
}

/// Splits an SSE body into frames, each keeping its own terminator, so that concatenating the frames gives back the
/// file byte for byte. One exception: some official Anthropic fixtures end without the final blank line (the SDK
/// test files are truncated there); the real API always terminates the last frame, and a spec-compliant SSE parser
/// discards an unterminated frame at EOF, so the missing terminator is appended to the last frame.
pub fn sse_frames(text: &str) -> Vec<String> {
    let sep = frame_separator(text);
    let line_end = &sep[..sep.len() / 2];
    let mut frames: Vec<String> = text.split_inclusive(sep).map(str::to_owned).collect();
    if let Some(last) = frames.last_mut()
        && !last.ends_with(sep)
    {
        if last.trim().is_empty() {
            frames.pop();
        } else if last.ends_with(line_end) {
            last.push_str(line_end);
        } else {
            last.push_str(sep);
        }
    }
    frames
}

/// The JSON carried by the `data:` line(s) of one frame, if any and if it parses.
pub fn frame_json(frame: &str) -> Option<serde_json::Value> {
    let data: Vec<&str> = frame
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(|d| d.strip_prefix(' ').unwrap_or(d))
        .collect();
    if data.is_empty() {
        return None;
    }
    serde_json::from_str(&data.join("\n")).ok()
}

/// A raw HTTP response fixture (`*.http`): status line, headers, blank line, body.
#[derive(Clone, Debug)]
pub struct HttpFixture {
    pub status: u16,
    /// Header names lowercased, in file order.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpFixture {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn headers_map(&self) -> BTreeMap<String, String> {
        self.headers.iter().cloned().collect()
    }
}

/// Parses a `.http` fixture. Panics on a malformed file.
pub fn http_fixture(name: &str) -> HttpFixture {
    let text = fixture(name);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .or_else(|| text.split_once("\n\n"))
        .unwrap_or_else(|| panic!("{name}: no blank line between headers and body"));
    let mut lines = head.lines();
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .unwrap_or_else(|| panic!("{name}: bad status line {status_line:?}"));
    let headers = lines
        .map(|line| {
            let (n, v) = line
                .split_once(':')
                .unwrap_or_else(|| panic!("{name}: bad header line {line:?}"));
            (n.trim().to_ascii_lowercase(), v.trim().to_owned())
        })
        .collect();
    HttpFixture {
        status,
        headers,
        body: body.to_owned(),
    }
}
