//! `GeminiStream`: `streamGenerateContent?alt=sse` chunks → emitter calls. Every `data:` frame is
//! a full `GenerateContentResponse` carrying only new parts; the body just ends (no `[DONE]`),
//! so a stream that never sent a `finishReason` was cut.

use super::{
    output::Output,
    transport::{error_body, map_error, status_of},
    wire::GeminiResponse,
};
use crate::{
    error::GatewayError,
    providers::{Call, StreamTranslator, upstream_error},
    stream::ResponseEmitter,
};

/// Stream translator for one Gemini attempt.
#[derive(Debug)]
pub struct GeminiStream {
    provider: String,
    output: Output,
}

impl GeminiStream {
    /// A translator for `call`, reporting errors as `provider`.
    pub fn new(call: Call<'_>, provider: String) -> Self {
        Self {
            provider,
            output: Output::new(call),
        }
    }
}

impl StreamTranslator for GeminiStream {
    fn on_data(&mut self, data: &str, out: &mut ResponseEmitter) -> Result<(), GatewayError> {
        if data.trim().is_empty() {
            return Ok(());
        }
        let chunk: GeminiResponse = match serde_json::from_str(data) {
            Ok(chunk) => chunk,
            // Errors occasionally come wrapped in an array: `[{"error": …}]`.
            Err(err) => match error_body(data.as_bytes()) {
                Some(error) => {
                    return Err(map_error(&self.provider, status_of(&error), Some(&error))
                        .with_detail(upstream_error::excerpt(data.as_bytes()))
                        .into());
                }
                None => {
                    return Err(upstream_error::protocol(
                        &self.provider,
                        format!("invalid stream chunk: {err}"),
                    )
                    .into());
                }
            },
        };
        if let Some(error) = &chunk.error {
            return Err(map_error(&self.provider, status_of(error), Some(error))
                .with_detail(upstream_error::excerpt(data.as_bytes()))
                .into());
        }
        self.output.apply(&chunk, out);
        Ok(())
    }

    fn on_end(&mut self, out: &mut ResponseEmitter) -> Result<(), GatewayError> {
        match self.output.take_finish() {
            Some(finish) => {
                out.finish(finish);
                Ok(())
            }
            None => Err(upstream_error::stream_cut(
                &self.provider,
                "Gemini stream ended without a finishReason",
            )),
        }
    }
}
