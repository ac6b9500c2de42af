//! `ChatError`: everything that can go wrong in one turn or command, each rendered as one clear line.

use serde_json::Value;

/// Longest error message shown from a gateway body (the rest is cut).
const MAX_MESSAGE_CHARS: usize = 300;

/// One failure, displayed as a single line (no trailing newline).
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// The gateway could not be reached (refused, DNS, TLS, timeout).
    #[error("cannot reach the gateway at {url}: {reason}")]
    Unreachable {
        /// The base URL we tried.
        url: String,
        /// The innermost cause.
        reason: String,
    },
    /// The gateway answered with a non-2xx status.
    #[error("{status} {code}: {message}{hint}")]
    Status {
        /// HTTP status code.
        status: u16,
        /// The Open Responses `error.code` (or the status reason).
        code: String,
        /// The error message.
        message: String,
        /// A short suggestion for the usual causes (empty if none).
        hint: &'static str,
    },
    /// The gateway reported a failure inside the stream (`error` / `response.failed`).
    #[error("the answer failed: {code}: {message}")]
    Failed {
        /// The error code.
        code: String,
        /// The error message.
        message: String,
    },
    /// The stream broke off or ended without a terminal event.
    #[error("the stream broke: {0}")]
    Broken(String),
    /// The gateway sent something we cannot read.
    #[error("unexpected reply from the gateway: {0}")]
    Protocol(String),
    /// The answer could not be written to the terminal or pipe.
    #[error("cannot write the answer: {0}")]
    Output(#[from] std::io::Error),
}

impl ChatError {
    /// A non-2xx reply, read from its Open Responses error body when there is one.
    pub fn from_status(status: u16, body: &str) -> Self {
        let parsed: Option<Value> = serde_json::from_str(body).ok();
        let error = parsed.as_ref().and_then(|v| v.get("error"));
        let field = |name: &str| {
            error
                .and_then(|e| e.get(name))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let reason = reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("error");
        let code = field("code")
            .or_else(|| field("type"))
            .unwrap_or_else(|| reason.to_ascii_lowercase().replace(' ', "_"));
        let message = field("message").unwrap_or_else(|| {
            if body.trim().is_empty() {
                reason.to_owned()
            } else {
                body.to_owned()
            }
        });
        let hint = match (status, code.as_str()) {
            (401 | 403, _) => " (check --token / GATEWAY_TOKEN)",
            (404, "model_not_found") => " (see /models)",
            (404, "previous_response_not_found") => " (the conversation expired: /new)",
            _ => "",
        };
        Self::Status {
            status,
            code,
            message: one_line(&message),
            hint,
        }
    }

    /// An in-stream `error` object (`{"code","message"}`, possibly wrapped in `{"error": …}`).
    pub fn from_stream_error(value: &Value) -> Self {
        let error = value
            .get("error")
            .filter(|e| e.is_object())
            .unwrap_or(value);
        let text = |name: &str| error.get(name).and_then(Value::as_str);
        Self::Failed {
            code: text("code")
                .or_else(|| text("type"))
                .unwrap_or("error")
                .to_owned(),
            message: one_line(text("message").unwrap_or("no message")),
        }
    }

    /// A transport error from reqwest, attributed to the gateway at `url`.
    pub fn from_transport(url: &str, err: &reqwest::Error) -> Self {
        if err.is_connect() || err.is_timeout() {
            Self::Unreachable {
                url: url.to_owned(),
                reason: innermost(err),
            }
        } else {
            Self::Broken(innermost(err))
        }
    }
}

/// The deepest `source()` of an error: the one that says what actually happened.
pub fn innermost(err: &dyn std::error::Error) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    one_line(&current.to_string())
}

/// Collapses whitespace runs (newlines included) and cuts overly long text.
fn one_line(text: &str) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() <= MAX_MESSAGE_CHARS {
        return joined;
    }
    let cut: String = joined.chars().take(MAX_MESSAGE_CHARS).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn renders_an_open_responses_error_body() {
        let body = r#"{"error":{"type":"not_found","code":"model_not_found","message":"The model `x` does not exist.\nConfigured: openai","param":"model"}}"#;
        assert_eq!(
            ChatError::from_status(404, body).to_string(),
            "404 model_not_found: The model `x` does not exist. Configured: openai (see /models)"
        );
    }

    #[test]
    fn renders_a_bare_status() {
        assert_eq!(
            ChatError::from_status(401, "").to_string(),
            "401 unauthorized: Unauthorized (check --token / GATEWAY_TOKEN)"
        );
        assert_eq!(
            ChatError::from_status(502, "<html>bad gateway</html>").to_string(),
            "502 bad_gateway: <html>bad gateway</html>"
        );
    }

    #[test]
    fn renders_stream_errors_wrapped_or_flat() {
        let wrapped = json!({"type":"error","error":{"type":"server_error","code":"upstream_error","message":"boom"}});
        let flat = json!({"type":"error","code":"upstream_error","message":"boom"});
        for value in [wrapped, flat] {
            assert_eq!(
                ChatError::from_stream_error(&value).to_string(),
                "the answer failed: upstream_error: boom"
            );
        }
    }

    #[test]
    fn cuts_long_messages() {
        let long = "x".repeat(1000);
        let ChatError::Status { message, .. } = ChatError::from_status(500, &long) else {
            panic!("a status error");
        };
        assert_eq!(message.chars().count(), MAX_MESSAGE_CHARS + 1);
    }
}
