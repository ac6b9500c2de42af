//! Gemini candidates → emitter calls, shared by `parse_response` and `GeminiStream` so JSON and
//! streams follow one grammar: parts, thought signatures, call ids, finish reasons and usage.
//!
//! Thought signatures become a `reasoning` item whose `encrypted_content` is the signature sealed
//! for Gemini and the upstream model in a gateway envelope (`providers::seal`),
//! emitted just before the item made from the signed part (or after the message, for the
//! trailing empty-text part of a stream). On replay the signature goes back on the next model
//! part of the same turn, or on an empty text part if none follows (see `contents.rs`).

use super::{
    grounding::Grounding,
    wire::{GeminiPart, GeminiResponse, GeminiUsage},
};
use crate::{
    api::{ProviderKind, ResponseError, Usage},
    providers::Call,
    seal::Sealer,
    stream::{Finish, ResponseEmitter},
};

/// Longest request-id fragment used in synthesized call ids (keeps them ≤ 64 characters).
const MAX_ID_FRAGMENT: usize = 48;

/// What the translator last opened in the emitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Nothing,
    Message,
    /// A thought summary without a signature yet.
    Reasoning,
}

/// Per-response translation state.
#[derive(Debug)]
pub(super) struct Output {
    call_prefix: String,
    sealer: Sealer,
    model: String,
    calls: usize,
    open: Open,
    finish: Option<Finish>,
    grounding: Grounding,
}

impl Output {
    /// State for one upstream attempt.
    pub(super) fn new(call: Call<'_>) -> Self {
        let fragment: String = call
            .request_id
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
            .take(MAX_ID_FRAGMENT)
            .collect();
        let call_prefix = if fragment.is_empty() {
            "call_".to_owned()
        } else {
            format!("call_{fragment}_")
        };
        Self {
            call_prefix,
            sealer: call.sealer.clone(),
            model: call.model.to_owned(),
            calls: 0,
            open: Open::Nothing,
            finish: None,
            grounding: Grounding::default(),
        }
    }

    /// Applies one response body or stream chunk.
    pub(super) fn apply(&mut self, chunk: &GeminiResponse, out: &mut ResponseEmitter) {
        out.start();
        if let Some(model) = chunk.model_version.as_deref() {
            out.set_model(model);
        }
        if let Some(usage) = &chunk.usage_metadata {
            out.set_usage(to_usage(usage));
        }
        if let Some(candidate) = chunk.candidates.first() {
            let grounding = candidate.grounding_metadata.as_ref();
            if let Some(meta) = grounding {
                self.grounding.before_parts(meta, out);
            }
            for part in candidate.content.iter().flat_map(|c| &c.parts) {
                self.part(part, out);
            }
            if let Some(meta) = grounding {
                self.grounding.after_parts(meta, out);
                self.open = Open::Nothing;
            }
            // Open items stay open: `finish` closes them with the status the reason implies.
            if let Some(reason) = candidate.finish_reason.as_deref() {
                self.finish = Some(finish_for(reason, candidate.finish_message.as_deref()));
            }
        } else if let Some(reason) = chunk
            .prompt_feedback
            .as_ref()
            .and_then(|f| f.block_reason.as_deref())
        {
            tracing::debug!(block_reason = reason, "Gemini blocked the prompt.");
            self.finish = Some(Finish::Incomplete("content_filter".to_owned()));
        }
    }

    /// The finish remembered from the last `finishReason` (or prompt block), if any.
    pub(super) fn take_finish(&mut self) -> Option<Finish> {
        self.finish.take()
    }

    fn part(&mut self, part: &GeminiPart, out: &mut ResponseEmitter) {
        let signature = part.thought_signature.as_deref().filter(|s| !s.is_empty());
        if let Some(call) = &part.function_call {
            if let Some(signature) = signature {
                self.signature(signature, out);
            }
            let call_id = match call.id.as_deref().filter(|id| !id.is_empty()) {
                Some(id) => id.to_owned(),
                None => format!("{}{}", self.call_prefix, self.calls),
            };
            self.calls += 1;
            let arguments = match &call.args {
                Some(args) if !args.is_null() => args.to_string(),
                _ => "{}".to_owned(),
            };
            out.function_call(&call_id, &call.name, &arguments);
            self.open = Open::Nothing;
            return;
        }
        let text = part.text.as_deref().unwrap_or_default();
        if part.thought == Some(true) {
            if !text.is_empty() {
                out.reasoning_summary_delta(text);
                self.open = Open::Reasoning;
            }
            if let Some(signature) = signature {
                self.signature(signature, out);
            }
            return;
        }
        if let Some(signature) = signature {
            self.signature(signature, out);
        }
        if !text.is_empty() {
            out.text_delta(text);
            self.open = Open::Message;
        } else if part.text.is_none() && signature.is_none() {
            tracing::debug!("Skipping a Gemini part the gateway does not translate.");
        }
    }

    /// Records a signature on the open unsigned reasoning item (a thought summary), or on a new
    /// one, and closes it: a signature is a complete artifact, so its item is always `completed`
    /// (even when it trails a message cut off by `MAX_TOKENS`).
    fn signature(&mut self, signature: &str, out: &mut ResponseEmitter) {
        if self.open != Open::Reasoning {
            out.close_item();
        }
        match self
            .sealer
            .seal(ProviderKind::Gemini, &self.model, signature.as_bytes())
        {
            Some(sealed) => out.reasoning_encrypted(&sealed),
            None => tracing::error!(
                "Could not seal a Gemini thought signature: the random source failed."
            ),
        }
        out.close_item();
        self.open = Open::Nothing;
    }
}

/// `finishReason` → how the response ends (docs/providers/mapping.md §6.1).
fn finish_for(reason: &str, message: Option<&str>) -> Finish {
    match reason {
        "STOP" | "FINISH_REASON_UNSPECIFIED" => Finish::Completed,
        "MAX_TOKENS" | "CONTINUATION" => Finish::Incomplete("max_output_tokens".to_owned()),
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "LANGUAGE"
        | "MODEL_ARMOR" => Finish::Incomplete("content_filter".to_owned()),
        image if image.starts_with("IMAGE_") => Finish::Incomplete("content_filter".to_owned()),
        // MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL, TOO_MANY_TOOL_CALLS, MALFORMED_RESPONSE,
        // MISSING_THOUGHT_SIGNATURE, OTHER and anything new: the model failed on a valid request.
        other => Finish::Failed(ResponseError {
            code: "server_error".to_owned(),
            message: match message.filter(|m| !m.is_empty()) {
                Some(detail) => format!("{other}: {detail}"),
                None => other.to_owned(),
            },
        }),
    }
}

/// `usageMetadata` → usage: output includes thoughts (Gemini counts them apart).
fn to_usage(usage: &GeminiUsage) -> Usage {
    Usage::new(
        usage.prompt_token_count + usage.tool_use_prompt_token_count,
        usage.candidates_token_count + usage.thoughts_token_count,
        usage.cached_content_token_count,
        usage.thoughts_token_count,
    )
}
