//! The namespaced `encrypted_content` that carries Anthropic thinking state through Open
//! Responses reasoning items: `anthropic:` + compact JSON (`{"signature":…}` or
//! `{"redacted_thinking":…}`). Anything without the prefix (OpenAI, Gemini state) is not ours.

use serde::{Deserialize, Serialize};

/// The namespace prefix.
pub(super) const PREFIX: &str = "anthropic:";

/// What a reasoning item can carry back to Anthropic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Artifact {
    /// A `thinking` block's signature (the text travels as the item's summary).
    Signature(String),
    /// A `redacted_thinking` block's data.
    Redacted(String),
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Wire {
    Signature(String),
    RedactedThinking(String),
}

/// Encodes an artifact as `encrypted_content`.
pub(super) fn encode(artifact: &Artifact) -> String {
    let wire = match artifact {
        Artifact::Signature(s) => Wire::Signature(s.clone()),
        Artifact::Redacted(d) => Wire::RedactedThinking(d.clone()),
    };
    // Serializing a one-string enum cannot fail; an empty object would decode to nothing.
    let json = serde_json::to_string(&wire).unwrap_or_default();
    format!("{PREFIX}{json}")
}

/// Decodes `encrypted_content`; `None` for other providers' state or a damaged value.
pub(super) fn decode(encrypted: &str) -> Option<Artifact> {
    let json = encrypted.strip_prefix(PREFIX)?;
    match serde_json::from_str::<Wire>(json) {
        Ok(Wire::Signature(s)) if !s.is_empty() => Some(Artifact::Signature(s)),
        Ok(Wire::RedactedThinking(d)) if !d.is_empty() => Some(Artifact::Redacted(d)),
        Ok(_) | Err(_) => None,
    }
}
