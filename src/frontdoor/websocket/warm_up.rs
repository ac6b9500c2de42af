//! `generate: false` turns (OpenAI's WebSocket warm-up, which the Codex CLI sends first on every
//! socket): the turn is resolved and cached like any other, but no model is called; the client
//! gets `response.created`, `response.in_progress` and `response.completed` with no output and a
//! fresh id that its next turn chains from with `previous_response_id`.

use super::{Connection, FrameSink, Prefix, SinkClosed, Turn, TurnEnd, encode_event, frame};
use crate::{
    api::{CreateResponse, EventBody, ResponseResource, ResponseStatus, StreamEvent, Usage},
    error::GatewayError,
    stream::{ResponseContext, emitter::unix_now},
};

impl Connection {
    /// Prepares `request` without generating. The prepared turn lives on this connection only
    /// (the conversation store never sees it), so its echo says `store: false`.
    pub(super) async fn warm_up(
        &mut self,
        request: CreateResponse,
        request_id: &str,
        out: &mut impl FrameSink,
    ) -> Result<TurnEnd, SinkClosed> {
        if request.model.as_deref().is_none_or(|m| m.trim().is_empty()) {
            let err = GatewayError::invalid("Missing required parameter: `model`.", Some("model"));
            return Ok(TurnEnd::Failed(frame::error_frame(&err)));
        }
        let prepared = match self.prepare(request).await {
            Ok(prepared) => prepared,
            Err(err) => return Ok(TurnEnd::Failed(frame::error_frame(&err))),
        };
        // An id this connection has not seen must exist (and be the caller's) now, as it would
        // for a generating turn, not only when a later turn chains from the warm-up.
        if let Prefix::Stored(id) = &prepared.prefix {
            let known = self
                .engine
                .conversations
                .resolve_input(Some(id), Vec::new(), &self.caller.owner)
                .await;
            if let Err(err) = known {
                return Ok(TurnEnd::Failed(frame::error_frame(&err)));
            }
        }
        let ctx = ResponseContext::fresh();
        let model = prepared.request.model.clone().unwrap_or_default();
        let mut response = ResponseResource::in_progress(
            &prepared.request,
            &ctx.response_id,
            &model,
            ctx.created_at,
        );
        response.store = false;
        if let Some(previous) = &prepared.patch_previous {
            response.previous_response_id = Some(previous.clone());
        }
        let mut events = vec![
            EventBody::Created {
                response: Box::new(response.clone()),
            },
            EventBody::InProgress {
                response: Box::new(response.clone()),
            },
        ];
        response.status = ResponseStatus::Completed;
        response.completed_at = Some(unix_now());
        response.usage = Some(Usage::default());
        events.push(EventBody::Completed {
            response: Box::new(response),
        });
        // Cached before the terminal event leaves, like a generating turn.
        let turn = Turn {
            prefix: prepared.prefix,
            input: prepared.new_input,
            output: Vec::new(),
            stored: false,
        };
        self.cache.insert(ctx.response_id.clone(), turn);
        tracing::debug!(
            request_id,
            response_id = ctx.response_id,
            "WebSocket turn prepared without generating."
        );
        for (sequence_number, body) in (0..).zip(events) {
            let event = StreamEvent {
                sequence_number,
                body,
            };
            out.send_text(encode_event(&event)).await?;
        }
        Ok(TurnEnd::Done)
    }
}
