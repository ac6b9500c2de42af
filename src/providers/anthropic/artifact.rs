//! The Anthropic thinking state carried through Open Responses reasoning items: a thinking block's
//! signature or a `redacted_thinking` block's data, as compact JSON sealed for Anthropic and the
//! upstream model in a gateway envelope (`providers::seal`). Values that are not envelopes for
//! this model (OpenAI or Gemini state, another model's) are not ours and are left out.

use serde::{Deserialize, Serialize};

use crate::{
    api::ProviderKind,
    error::GatewayError,
    providers::Call,
    seal::{Sealer, Unsealed, forged_error},
};

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

/// Seals artifacts for one attempt's upstream model.
#[derive(Debug, Clone)]
pub(super) struct Envelopes {
    sealer: Sealer,
    model: String,
}

impl Envelopes {
    /// Envelopes for `call`'s model.
    pub(super) fn new(call: Call<'_>) -> Self {
        Self {
            sealer: call.sealer.clone(),
            model: call.model.to_owned(),
        }
    }

    /// `encrypted_content` for `artifact`; `None` (logged) if sealing failed.
    pub(super) fn seal(&self, artifact: &Artifact) -> Option<String> {
        let wire = match artifact {
            Artifact::Signature(s) => Wire::Signature(s.clone()),
            Artifact::Redacted(d) => Wire::RedactedThinking(d.clone()),
        };
        let json = serde_json::to_vec(&wire).ok()?;
        let sealed = self
            .sealer
            .seal(ProviderKind::Anthropic, &self.model, &json);
        if sealed.is_none() {
            tracing::error!("Could not seal Anthropic thinking state: the random source failed.");
        }
        sealed
    }
}

/// The artifact in input item `index`'s `encrypted_content`: `None` when it is not an envelope
/// for this model; a 400 naming the item when it is one that was altered.
pub(super) fn open(
    call: Call<'_>,
    encrypted: &str,
    index: usize,
) -> Result<Option<Artifact>, GatewayError> {
    let item = call.item_param(index);
    let payload =
        match call
            .sealer
            .open_item(ProviderKind::Anthropic, call.model, encrypted, &item)?
        {
            Unsealed::Payload(payload) => payload,
            Unsealed::Foreign | Unsealed::Elsewhere => return Ok(None),
        };
    match serde_json::from_slice::<Wire>(&payload) {
        Ok(Wire::Signature(s)) if !s.is_empty() => Ok(Some(Artifact::Signature(s))),
        Ok(Wire::RedactedThinking(d)) if !d.is_empty() => Ok(Some(Artifact::Redacted(d))),
        Ok(_) | Err(_) => Err(forged_error(&item)),
    }
}
