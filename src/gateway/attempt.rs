//! One upstream attempt up to its commit point: send, then wait for the first translated event
//! of a stream (or translate the whole JSON answer). No retries, timeouts or permits here: the
//! caller (`failover`) owns those.

use futures::StreamExt;

use super::ProviderSlot;
use crate::{
    api::ResponseResource,
    error::GatewayError,
    providers::{Call, DataStream, StreamTranslator, UpstreamReply},
    stream::{ResponseContext, ResponseEmitter},
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
pub(super) async fn attempt_call(
    slot: &ProviderSlot,
    call: Call<'_>,
    skeleton: ResponseResource,
    ctx: &ResponseContext,
) -> Result<Attempt, GatewayError> {
    let provider = &slot.provider;
    match provider.send(call).await? {
        UpstreamReply::Json(body) => {
            let mut emitter = ResponseEmitter::new(skeleton, ctx, false);
            provider.parse_response(call, &body, &mut emitter)?;
            if !emitter.is_finished() {
                emitter.finish(crate::stream::Finish::Completed);
            }
            Ok(Attempt::Json(emitter))
        }
        UpstreamReply::Stream(mut data) => {
            let mut translator = provider.stream_translator(call);
            let mut emitter = ResponseEmitter::new(skeleton, ctx, true);
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
