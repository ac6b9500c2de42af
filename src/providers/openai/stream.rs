//! OpenAI Responses stream events → our emitter. Upstream's ids and sequence numbers are
//! replaced by ours; OpenAI-only event names (`reasoning_text`, flat `error`) are translated.

use serde_json::Value;

use super::translate::{emit_dialect_item, emit_reasoning_parts, finish_of, parse_usage, protocol};
use crate::{
    error::{GatewayError, UpstreamError, UpstreamErrorKind},
    providers::{Call, StreamTranslator, http},
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

    fn on_item_done(&mut self, item: &Value, out: &mut ResponseEmitter) {
        match item.get("type").and_then(Value::as_str) {
            Some("function_call") => {
                if !self.args_streamed {
                    let args = item
                        .get("arguments")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    out.function_arguments_delta(args);
                }
                out.close_item();
            }
            Some("reasoning") => {
                if self.reasoning_streamed {
                    if let Some(state) = item.get("encrypted_content").and_then(Value::as_str) {
                        out.reasoning_encrypted(state);
                    }
                } else {
                    emit_reasoning_parts(item, out);
                }
                out.close_item();
            }
            Some("message") => out.close_item(),
            _ => emit_dialect_item(item, out),
        }
    }

    fn upstream_error(&self, event: &Value) -> GatewayError {
        let error = event.get("error").unwrap_or(event);
        let code = error
            .get("code")
            .and_then(Value::as_str)
            .unwrap_or("server_error");
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default();
        // The codes of a failed Responses stream (`response.failed`, `error`) keep their meaning:
        // agents act on them by name.
        let kind = match code {
            "rate_limit_exceeded" => UpstreamErrorKind::RateLimited,
            "insufficient_quota" => UpstreamErrorKind::QuotaExceeded,
            "server_is_overloaded" | "slow_down" => UpstreamErrorKind::Overloaded,
            "context_length_exceeded" | "invalid_request_error" | "invalid_prompt" => {
                http::refine_bad_request(UpstreamErrorKind::BadRequest, Some(code), message)
            }
            _ => UpstreamErrorKind::Server,
        };
        let public = match kind {
            UpstreamErrorKind::ContextLengthExceeded if !message.is_empty() => message.to_owned(),
            _ => http::generic_message(&self.provider, kind, 0),
        };
        let retry_after = (kind == UpstreamErrorKind::RateLimited)
            .then(|| crate::providers::chat::retry_hint(message))
            .flatten();
        UpstreamError::new(&self.provider, kind, public)
            .with_retry_after(retry_after)
            .with_detail(event.to_string())
            .into()
    }
}

impl StreamTranslator for OpenAiStream {
    fn on_data(&mut self, data: &str, out: &mut ResponseEmitter) -> Result<(), GatewayError> {
        let event: Value =
            serde_json::from_str(data).map_err(|e| protocol(&self.provider, &e.to_string()))?;
        let text = |key: &str| event.get(key).and_then(Value::as_str).unwrap_or_default();
        match text("type") {
            "response.created" | "response.in_progress" | "response.queued" => {
                out.start();
                if let Some(model) = event.pointer("/response/model").and_then(Value::as_str) {
                    out.set_model(model);
                }
            }
            "response.output_item.added" => {
                match event.pointer("/item/type").and_then(Value::as_str) {
                    Some("function_call") => {
                        let field = |k: &str| {
                            event
                                .pointer(&format!("/item/{k}"))
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                        };
                        let namespace = event.pointer("/item/namespace").and_then(Value::as_str);
                        out.start_namespaced_call(field("call_id"), field("name"), namespace);
                        self.args_streamed = false;
                    }
                    Some("reasoning") => self.reasoning_streamed = false,
                    _ => {}
                }
            }
            "response.output_text.delta" => out.text_delta(text("delta")),
            "response.refusal.delta" => out.refusal_delta(text("delta")),
            "response.function_call_arguments.delta" => {
                self.args_streamed = true;
                out.function_arguments_delta(text("delta"));
            }
            "response.reasoning_summary_text.delta" => {
                self.reasoning_streamed = true;
                out.reasoning_summary_delta(text("delta"));
            }
            "response.reasoning_text.delta" | "response.reasoning.delta" => {
                self.reasoning_streamed = true;
                out.reasoning_text_delta(text("delta"));
            }
            "response.output_item.done" => {
                if let Some(item) = event.get("item") {
                    self.on_item_done(item, out);
                }
            }
            "response.completed" | "response.incomplete" => {
                let response = event.get("response").unwrap_or(&Value::Null);
                if let Some(usage) = response.get("usage").filter(|u| !u.is_null()) {
                    out.set_usage(parse_usage(usage));
                }
                self.finished = true;
                out.finish(finish_of(response));
            }
            "response.failed" => {
                self.finished = true;
                let response = event.get("response").unwrap_or(&Value::Null);
                return Err(self.upstream_error(response));
            }
            "error" => {
                self.finished = true;
                return Err(self.upstream_error(&event));
            }
            other => tracing::debug!(event_type = other, "Skipping OpenAI stream event."),
        }
        Ok(())
    }

    fn on_end(&mut self, _out: &mut ResponseEmitter) -> Result<(), GatewayError> {
        if self.finished {
            return Ok(());
        }
        Err(crate::providers::http::stream_cut(
            &self.provider,
            "stream ended before response.completed",
        ))
    }
}
