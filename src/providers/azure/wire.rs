//! What the Azure upstream reads beyond the shared Chat Completions model: error envelopes (in an
//! error body or in band, in a 200 or a stream frame) and text content sent as parts.

use serde_json::Value;

/// The `error` object of an error body or frame, read leniently: `code` is a string on OpenAI,
/// `"429"` on Azure and sometimes a number elsewhere; a bare string error becomes the message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorDetail {
    /// Human-readable message.
    pub message: Option<String>,
    /// Category (`invalid_request_error`, `insufficient_quota`, …; `null` on Azure).
    pub kind: Option<String>,
    /// The upstream parameter at fault.
    pub param: Option<String>,
    /// Machine-readable code (`content_filter`, `429`, `rate_limit_exceeded`, …).
    pub code: Option<String>,
}

impl ErrorDetail {
    /// Reads an `error` value (object or string).
    pub fn from_value(value: &Value) -> Self {
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
        match value {
            Value::String(message) => Self {
                message: Some(message.clone()),
                ..Self::default()
            },
            Value::Object(_) => Self {
                message: text("message"),
                kind: text("type"),
                param: text("param"),
                code: match value.get("code") {
                    Some(Value::String(code)) => Some(code.clone()),
                    Some(Value::Number(code)) => Some(code.to_string()),
                    _ => None,
                },
            },
            _ => Self::default(),
        }
    }

    /// Reads the `error` of a JSON error body, if it has one.
    pub fn from_body(body: &[u8]) -> Option<Self> {
        let value: Value = serde_json::from_slice(body).ok()?;
        value
            .get("error")
            .filter(|e| !e.is_null())
            .map(Self::from_value)
    }
}

/// The text of a `content` value: a string, or the `text` of each part of an array.
pub fn content_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter(|p| {
                p.get("type")
                    .and_then(Value::as_str)
                    .is_none_or(|t| t == "text")
            })
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect(),
        _ => String::new(),
    }
}
