//! `AnthropicStream`: Messages SSE events → emitter calls (docs/providers/mapping.md §7.2). Blocks arrive one
//! at a time (start, deltas, stop); text blocks share one message item, thinking and tool_use
//! blocks become their own items. A stream without `message_stop` is reported as cut.

use super::{
    artifact::{Artifact, Envelopes},
    response::{compact_arguments, emit_redacted, event_error, finish},
    search::{self, Searches},
    wire::{
        AnthropicCitation, AnthropicContentBlock, AnthropicDelta, AnthropicStopReason,
        AnthropicStreamEvent, AnthropicUsage,
    },
};
use crate::{
    error::{GatewayError, UpstreamError},
    providers::{Call, StreamTranslator, upstream_error::unreadable},
    stream::ResponseEmitter,
};

/// The block being streamed.
#[derive(Debug)]
enum OpenBlock {
    /// Text starting at character `start` of the output text part, with its citations.
    Text {
        start: usize,
        citations: Vec<AnthropicCitation>,
    },
    /// A server tool call whose input JSON is streamed.
    ServerToolUse {
        id: String,
        name: String,
        input: String,
    },
    Thinking {
        signature: String,
    },
    ToolUse {
        streamed: bool,
        initial: String,
    },
    /// Redacted thinking (complete at start) and unknown blocks.
    Other,
}

/// Translates one Anthropic Messages stream.
#[derive(Debug)]
pub struct AnthropicStream {
    provider: String,
    envelopes: Envelopes,
    searches: Searches,
    open: Option<(usize, OpenBlock)>,
    usage: AnthropicUsage,
    stop_reason: Option<AnthropicStopReason>,
    explanation: Option<String>,
    /// `message_stop` seen, or an error already reported.
    done: bool,
    /// The in-band error, repeated if `on_end` is still called.
    failure: Option<UpstreamError>,
}

impl AnthropicStream {
    /// A translator for one attempt against `provider`.
    pub fn new(call: Call<'_>, provider: String) -> Self {
        Self {
            provider,
            envelopes: Envelopes::new(call),
            searches: Searches::default(),
            open: None,
            usage: AnthropicUsage::default(),
            stop_reason: None,
            explanation: None,
            done: false,
            failure: None,
        }
    }

    fn start_block(
        &mut self,
        index: usize,
        block: AnthropicContentBlock,
        out: &mut ResponseEmitter,
    ) {
        self.stop_block(out);
        let state = match block {
            AnthropicContentBlock::Text { text, citations } => {
                let start = search::text_position(out);
                out.text_delta(&text);
                OpenBlock::Text {
                    start,
                    citations: citations.unwrap_or_default(),
                }
            }
            AnthropicContentBlock::ServerToolUse { id, name, input } => OpenBlock::ServerToolUse {
                id,
                name,
                input: match input {
                    serde_json::Value::Object(map) if map.is_empty() => String::new(),
                    other => other.to_string(),
                },
            },
            AnthropicContentBlock::WebSearchToolResult {
                tool_use_id,
                content,
            } => {
                self.searches.answered(out, &tool_use_id, &content);
                OpenBlock::Other
            }
            AnthropicContentBlock::Thinking {
                thinking,
                signature,
            } => {
                out.close_item();
                out.reasoning_summary_delta(&thinking);
                OpenBlock::Thinking { signature }
            }
            AnthropicContentBlock::RedactedThinking { data } => {
                emit_redacted(out, &data, &self.envelopes);
                OpenBlock::Other
            }
            AnthropicContentBlock::ToolUse { id, name, input } => {
                out.start_function_call(&id, &name);
                // Normally `{}` with the input streamed as deltas; kept in case none follow.
                let initial = match &input {
                    serde_json::Value::Object(map) if map.is_empty() => String::new(),
                    other => compact_arguments(other),
                };
                OpenBlock::ToolUse {
                    streamed: false,
                    initial,
                }
            }
            AnthropicContentBlock::Unknown => {
                tracing::debug!(index, "Skipping an unknown Anthropic content block.");
                OpenBlock::Other
            }
        };
        self.open = Some((index, state));
    }

    fn delta(&mut self, index: usize, delta: AnthropicDelta, out: &mut ResponseEmitter) {
        let Some((open_index, block)) = &mut self.open else {
            tracing::debug!(index, "Skipping a delta for a block that is not open.");
            return;
        };
        if *open_index != index {
            tracing::debug!(index, "Skipping a delta for a block that is not open.");
            return;
        }
        match (block, delta) {
            (OpenBlock::Text { .. }, AnthropicDelta::TextDelta { text }) => out.text_delta(&text),
            (OpenBlock::Text { citations, .. }, AnthropicDelta::CitationsDelta { citation }) => {
                citations.push(citation);
            }
            (
                OpenBlock::ServerToolUse { input, .. },
                AnthropicDelta::InputJsonDelta { partial_json },
            ) => input.push_str(&partial_json),
            (OpenBlock::Thinking { .. }, AnthropicDelta::ThinkingDelta { thinking }) => {
                out.reasoning_summary_delta(&thinking)
            }
            (
                OpenBlock::Thinking { signature },
                AnthropicDelta::SignatureDelta { signature: more },
            ) => signature.push_str(&more),
            (
                OpenBlock::ToolUse { streamed, .. },
                AnthropicDelta::InputJsonDelta { partial_json },
            ) => {
                if !partial_json.is_empty() {
                    *streamed = true;
                    out.function_arguments_delta(&partial_json);
                }
            }
            (_, other) => {
                tracing::debug!(index, delta = ?other, "Skipping an Anthropic delta this block does not take.")
            }
        }
    }

    fn stop_block(&mut self, out: &mut ResponseEmitter) {
        let Some((_, block)) = self.open.take() else {
            return;
        };
        match block {
            // The message stays open: a following text block continues it.
            OpenBlock::Other => {}
            OpenBlock::Text { start, citations } => search::annotate(out, start, &citations),
            OpenBlock::ServerToolUse { id, name, input } => {
                let input = serde_json::from_str(&input).unwrap_or(serde_json::Value::Null);
                self.searches.called(&id, &name, &input);
            }
            OpenBlock::Thinking { signature } => {
                if let Some(sealed) = Some(signature)
                    .filter(|s| !s.is_empty())
                    .and_then(|s| self.envelopes.seal(&Artifact::Signature(s)))
                {
                    out.reasoning_encrypted(&sealed);
                }
                out.close_item();
            }
            OpenBlock::ToolUse { streamed, initial } => {
                if !streamed {
                    out.function_arguments_delta(if initial.is_empty() { "{}" } else { &initial });
                }
                out.close_item();
            }
        }
    }

    fn cut(&self, what: &str) -> GatewayError {
        crate::providers::upstream_error::stream_cut(&self.provider, what)
    }
}

impl StreamTranslator for AnthropicStream {
    fn on_data(&mut self, data: &str, out: &mut ResponseEmitter) -> Result<(), GatewayError> {
        if self.done {
            return Ok(());
        }
        let event: AnthropicStreamEvent = serde_json::from_str(data)
            .map_err(|e| unreadable(&self.provider, &e, data.as_bytes()))?;
        match event {
            AnthropicStreamEvent::MessageStart { message } => {
                out.start();
                out.set_model(&message.model);
                self.usage.merge(&message.usage);
                tracing::debug!(upstream_id = %message.id, "Anthropic stream started.");
            }
            AnthropicStreamEvent::ContentBlockStart {
                index,
                content_block,
            } => self.start_block(index, content_block, out),
            AnthropicStreamEvent::ContentBlockDelta { index, delta } => {
                self.delta(index, delta, out)
            }
            AnthropicStreamEvent::ContentBlockStop { index } => {
                if self.open.as_ref().is_some_and(|(i, _)| *i == index) {
                    self.stop_block(out);
                }
            }
            AnthropicStreamEvent::MessageDelta { delta, usage } => {
                self.usage.merge(&usage);
                if delta.stop_reason.is_some() {
                    self.stop_reason = delta.stop_reason;
                }
                if let Some(explanation) = delta.stop_details.and_then(|d| d.explanation) {
                    self.explanation = Some(explanation);
                }
            }
            AnthropicStreamEvent::MessageStop => {
                self.stop_block(out);
                self.done = true;
                finish(
                    out,
                    self.stop_reason,
                    self.explanation.as_deref(),
                    &self.usage,
                );
            }
            AnthropicStreamEvent::Ping => {}
            AnthropicStreamEvent::Error { error } => {
                let err = event_error(&self.provider, &error);
                self.done = true;
                self.failure = Some(err.clone());
                return Err(err.into());
            }
            AnthropicStreamEvent::Unknown => {
                tracing::debug!("Skipping an unknown Anthropic stream event.")
            }
        }
        Ok(())
    }

    fn on_end(&mut self, _out: &mut ResponseEmitter) -> Result<(), GatewayError> {
        if let Some(err) = &self.failure {
            return Err(err.clone().into());
        }
        if self.done {
            return Ok(());
        }
        self.done = true;
        Err(self.cut("the upstream stream ended without message_stop"))
    }
}
