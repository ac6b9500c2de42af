//! OpenAI Responses stream events → our emitter. Upstream's ids and sequence numbers are
//! replaced by ours; OpenAI-only event names (`reasoning_text`, flat `error`) are translated.

use super::{
    translate::{emit_dialect_item, emit_reasoning_parts, finish_of, or_empty, parse_usage},
    wire::{OpenAiError, OpenAiOutputItem, OpenAiStreamEvent},
};
use crate::{
    error::{GatewayError, UpstreamError, UpstreamErrorKind},
    providers::{Call, StreamTranslator, upstream_error},
    stream::ResponseEmitter,
};

/// Stream state for one OpenAI attempt.
pub struct OpenAiStream {
    provider: String,
    args_streamed: bool,
    reasoning_streamed: bool,
    finished: bool,
}

impl OpenAiStream {
    /// A translator for one attempt.
    pub fn new(_call: Call<'_>, provider: String) -> Self {
        Self {
            provider,
            args_streamed: false,
            reasoning_streamed: false,
            finished: false,
        }
    }

    fn on_item_done(&mut self, item: &OpenAiOutputItem, out: &mut ResponseEmitter) {
        match item {
            OpenAiOutputItem::FunctionCall(call) => {
                if !self.args_streamed {
                    out.function_arguments_delta(call.arguments.as_deref().unwrap_or_default());
                }
                out.close_item();
            }
            OpenAiOutputItem::Reasoning(reasoning) => {
                if self.reasoning_streamed {
                    if let Some(state) = &reasoning.encrypted_content {
                        out.reasoning_encrypted(state);
                    }
                } else {
                    emit_reasoning_parts(reasoning, out);
                }
                out.close_item();
            }
            OpenAiOutputItem::Message(_) => out.close_item(),
            other => emit_dialect_item(other, out),
        }
    }

    /// A failed stream: `error` is the failed response's error or the `error` event's.
    fn upstream_error(&self, error: Option<&OpenAiError>, data: &str) -> GatewayError {
        let code = error
            .and_then(|e| e.code.as_deref())
            .unwrap_or("server_error");
        let message = error.and_then(|e| e.message.as_deref()).unwrap_or_default();
        // The codes of a failed Responses stream (`response.failed`, `error`) keep their meaning:
        // agents act on them by name.
        let kind = match code {
            "rate_limit_exceeded" => UpstreamErrorKind::RateLimited,
            "insufficient_quota" => UpstreamErrorKind::QuotaExceeded,
            "server_is_overloaded" | "slow_down" => UpstreamErrorKind::Overloaded,
            "context_length_exceeded" | "invalid_request_error" | "invalid_prompt" => {
                upstream_error::refine_bad_request(
                    UpstreamErrorKind::BadRequest,
                    Some(code),
                    message,
                )
            }
            _ => UpstreamErrorKind::Server,
        };
        // Inside a stream only a context overflow shows OpenAI's own words; every other
        // failed-stream code gets the generic message.
        let shown = (kind == UpstreamErrorKind::ContextLengthExceeded).then_some(message);
        let public = upstream_error::client_message(&self.provider, kind, 0, shown);
        let retry_after = (kind == UpstreamErrorKind::RateLimited)
            .then(|| upstream_error::retry_hint(message))
            .flatten();
        UpstreamError::new(&self.provider, kind, public)
            .with_retry_after(retry_after)
            .with_detail(upstream_error::excerpt(data.as_bytes()))
            .into()
    }

    fn on_item_added(&mut self, item: Option<&OpenAiOutputItem>, out: &mut ResponseEmitter) {
        match item {
            Some(OpenAiOutputItem::FunctionCall(call)) => {
                out.start_namespaced_call(
                    or_empty(&call.call_id),
                    or_empty(&call.name),
                    call.namespace.as_deref(),
                );
                self.args_streamed = false;
            }
            Some(OpenAiOutputItem::Reasoning(_)) => self.reasoning_streamed = false,
            _ => {}
        }
    }
}

impl StreamTranslator for OpenAiStream {
    fn on_data(&mut self, data: &str, out: &mut ResponseEmitter) -> Result<(), GatewayError> {
        let event: Option<OpenAiStreamEvent<'_>> = serde_json::from_str(data)
            .map_err(|e| upstream_error::unreadable(&self.provider, &e, data.as_bytes()))?;
        let Some(event) = event else {
            tracing::debug!("Skipping a null OpenAI stream event.");
            return Ok(());
        };
        match event.kind.as_ref() {
            "response.created" | "response.in_progress" | "response.queued" => {
                out.start();
                if let Some(model) = event.response.as_ref().and_then(|r| r.model.as_deref()) {
                    out.set_model(model);
                }
            }
            "response.output_item.added" => self.on_item_added(event.item.as_ref(), out),
            "response.output_text.delta" => out.text_delta(&event.delta),
            "response.refusal.delta" => out.refusal_delta(&event.delta),
            "response.function_call_arguments.delta" => {
                self.args_streamed = true;
                out.function_arguments_delta(&event.delta);
            }
            "response.reasoning_summary_text.delta" => {
                self.reasoning_streamed = true;
                out.reasoning_summary_delta(&event.delta);
            }
            "response.reasoning_text.delta" | "response.reasoning.delta" => {
                self.reasoning_streamed = true;
                out.reasoning_text_delta(&event.delta);
            }
            "response.output_item.done" => {
                if let Some(item) = &event.item {
                    self.on_item_done(item, out);
                }
            }
            "response.completed" | "response.incomplete" => {
                let response = event.response.unwrap_or_default();
                if let Some(usage) = &response.usage {
                    out.set_usage(parse_usage(usage));
                }
                self.finished = true;
                out.finish(finish_of(
                    response.status.as_deref(),
                    response.incomplete_details.as_ref(),
                    response.error.as_ref(),
                ));
            }
            "response.failed" => {
                self.finished = true;
                let error = event.response.and_then(|r| r.error);
                return Err(self.upstream_error(error.as_ref(), data));
            }
            "error" => {
                self.finished = true;
                let flat = OpenAiError {
                    code: event.code,
                    message: event.message,
                    ..OpenAiError::default()
                };
                return Err(self.upstream_error(Some(event.error.as_ref().unwrap_or(&flat)), data));
            }
            other => tracing::debug!(event_type = other, "Skipping OpenAI stream event."),
        }
        Ok(())
    }

    fn on_end(&mut self, _out: &mut ResponseEmitter) -> Result<(), GatewayError> {
        if self.finished {
            return Ok(());
        }
        Err(upstream_error::stream_cut(
            &self.provider,
            "stream ended before response.completed",
        ))
    }
}
