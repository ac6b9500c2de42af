//! One upstream attempt up to its commit point: send, then wait for the first translated event
//! of a stream (or translate the whole JSON answer). No retries, timeouts or permits here: the
//! caller (`failover`) owns those.

use futures::StreamExt;

use super::ProviderSlot;
use crate::{
    api::{ProviderKind, ResponseResource},
    config::UnsupportedTools,
    error::GatewayError,
    providers::{Call, DataStream, StreamTranslator, UpstreamReply, dialect},
    stream::{ResponseContext, ResponseEmitter, ToolNames},
};

/// A stream attempt that produced its first events.
pub(super) struct LiveStream {
    /// The rest of the upstream stream.
    pub data: DataStream,
    /// The provider's stream translator, mid-stream.
    pub translator: Box<dyn StreamTranslator>,
    /// The emitter holding the first events.
    pub emitter: ResponseEmitter,
}

/// A successful attempt.
pub(super) enum Attempt {
    /// A complete answer (finished emitter).
    Json(ResponseEmitter),
    /// A stream that produced its first events.
    Stream(LiveStream),
}

/// Calls upstream once and waits for the first translated event (or the whole JSON answer).
/// OpenAI takes the tool dialect as it is; the other upstreams get it lowered to functions
/// (`providers::dialect`), and the emitter maps their calls back.
pub(super) async fn attempt_call(
    slot: &ProviderSlot,
    call: Call<'_>,
    skeleton: ResponseResource,
    ctx: &ResponseContext,
    unsupported: UnsupportedTools,
) -> Result<Attempt, GatewayError> {
    let provider = &slot.provider;
    let lowered = match provider.config.kind {
        ProviderKind::OpenAi => None,
        ProviderKind::Azure | ProviderKind::Anthropic | ProviderKind::Gemini => {
            if dialect::needs_lowering(call.request, call.input) {
                let name = provider.name();
                let web_search =
                    crate::providers::web_search::native(provider.config.kind, call.request);
                Some(dialect::lower(
                    call.request,
                    call.input,
                    name,
                    web_search,
                    unsupported,
                )?)
            } else {
                None
            }
        }
    };
    let (call, names, dropped) = match &lowered {
        None => (call, ToolNames::default(), Vec::new()),
        Some(lowered) => (
            Call {
                request: &lowered.request,
                input: &lowered.input,
                ..call
            },
            lowered.names.clone(),
            lowered.dropped.clone(),
        ),
    };
    let new_emitter = |record: bool| {
        let mut emitter = ResponseEmitter::new(skeleton, ctx, record);
        emitter.set_tool_names(names);
        emitter.set_dropped_tools(dropped);
        emitter
    };
    match provider.send(call).await? {
        UpstreamReply::Json(body) => {
            let mut emitter = new_emitter(false);
            provider.parse_response(call, &body, &mut emitter)?;
            if !emitter.is_finished() {
                emitter.finish(crate::stream::Finish::Completed);
            }
            Ok(Attempt::Json(emitter))
        }
        UpstreamReply::Stream(mut data) => {
            let mut translator = provider.stream_translator(call);
            let mut emitter = new_emitter(true);
            // Wait for the first translated event: until then a failure may still fail over.
            while !emitter.is_started() {
                match data.next().await {
                    Some(Ok(payload)) => translator.on_data(&payload, &mut emitter)?,
                    Some(Err(err)) => return Err(err),
                    None => {
                        translator.on_end(&mut emitter)?;
                        break;
                    }
                }
            }
            Ok(Attempt::Stream(LiveStream {
                data,
                translator,
                emitter,
            }))
        }
    }
}
