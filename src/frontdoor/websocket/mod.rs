//! WebSocket mode on `/v1/responses` (spec 2026-04-24, NOTES §6), transport-free: one
//! [`Connection`] per socket turns `response.create` frames into `Engine::create_response`
//! calls, one at a time, and writes the same events as SSE as JSON text frames. The actix-ws
//! glue (upgrade, ping/pong, close, the 60-minute limit) is `http::websocket`.
//!
//! Continuation: a `previous_response_id` the connection cached with `store: false` is resolved
//! here (its chain + the new input, sent without the id, which is patched back into the events);
//! any other id goes to the conversation store as over HTTP (also where such a chain began),
//! unless a failed continuation evicted it on this connection. A failing turn sends exactly one error frame.
//! A `generate: false` frame prepares a turn without calling a model (`warm_up`).

mod cache;
pub mod frame;
mod warm_up;

use std::future::Future;

pub use cache::{ConnectionCache, MAX_CACHED_TURNS, Prefix, Turn};

use crate::{
    api::{CreateResponse, ErrorObject, EventBody, Input, Item, StreamEvent},
    auth::Caller,
    engine::{Engine, Execution},
    error::GatewayError,
};

/// The client went away; stop writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SinkClosed;

/// Where a connection writes its text frames.
pub trait FrameSink {
    /// Sends one text frame; `Err` once the client is gone.
    fn send_text(&mut self, text: String) -> impl Future<Output = Result<(), SinkClosed>>;
}

/// A request ready for `create_response`, and how its turn joins the cache.
struct Prepared {
    request: CreateResponse,
    prefix: Prefix,
    new_input: Vec<Item>,
    /// The id to write back into `previous_response_id` when it was resolved here.
    patch_previous: Option<String>,
}

/// How a turn ended.
enum TurnEnd {
    /// A terminal `response.completed` / `response.incomplete` was sent.
    Done,
    /// The turn failed; one error frame is still to be sent.
    Failed(String),
}

/// One WebSocket connection's state.
pub struct Connection {
    engine: Engine,
    /// Who authenticated the upgrade; owns every turn of the connection.
    caller: Caller,
    id: String,
    turns: u64,
    cache: ConnectionCache,
}

impl Connection {
    /// A connection of `caller` whose turns are logged as `<id>_<n>`.
    pub fn new(engine: Engine, id: String, caller: Caller) -> Self {
        Self {
            engine,
            caller,
            id,
            turns: 0,
            cache: ConnectionCache::default(),
        }
    }

    /// The connection id (the upgrade request's id).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Handles one client text frame: a whole turn's events, or one error frame.
    pub async fn on_text(
        &mut self,
        text: &[u8],
        out: &mut impl FrameSink,
    ) -> Result<(), SinkClosed> {
        self.turns += 1;
        let request_id = format!("{}_{}", self.id, self.turns);
        let (request, generate) = match frame::parse_create(text) {
            Ok(frame) => (frame.request, frame.generate),
            Err(err) => {
                tracing::info!(request_id, code = err.code(), "WebSocket frame rejected.");
                return out.send_text(frame::error_frame(&err)).await;
            }
        };
        let previous = request.previous_response_id.clone();
        let end = if generate {
            self.run_turn(request, request_id, out).await?
        } else {
            self.warm_up(request, &request_id, out).await?
        };
        match end {
            TurnEnd::Done => Ok(()),
            TurnEnd::Failed(error_frame) => {
                // NOTES §6: a failed continuation evicts the id it continued from.
                if let Some(previous) = previous {
                    self.cache.evict(&previous);
                }
                out.send_text(error_frame).await
            }
        }
    }

    async fn run_turn(
        &mut self,
        request: CreateResponse,
        request_id: String,
        out: &mut impl FrameSink,
    ) -> Result<TurnEnd, SinkClosed> {
        let prepared = match self.prepare(request).await {
            Ok(prepared) => prepared,
            Err(err) => return Ok(TurnEnd::Failed(frame::error_frame(&err))),
        };
        let stored = prepared.request.store != Some(false);
        let mut events = match self
            .engine
            .create_response(prepared.request, request_id, &self.caller)
            .await
        {
            Ok(Execution::Stream(events)) => events,
            Ok(Execution::Json(..)) => {
                let err = GatewayError::Internal("a WebSocket turn did not stream".to_owned());
                return Ok(TurnEnd::Failed(frame::error_frame(&err)));
            }
            Err(err) => return Ok(TurnEnd::Failed(frame::error_frame(&err))),
        };
        let mut stream_error: Option<ErrorObject> = None;
        while let Some(batch) = events.next_batch().await {
            for mut event in batch {
                patch_previous(&mut event, prepared.patch_previous.as_deref());
                match &event.body {
                    // Held back: the turn ends with one error frame, not `error` + `response.failed`.
                    EventBody::Error { error } => {
                        stream_error = Some(error.clone());
                        continue;
                    }
                    EventBody::Failed { response } => {
                        let error = stream_error.take().unwrap_or_else(|| ErrorObject {
                            kind: "server_error".to_owned(),
                            code: response.error.as_ref().map(|e| e.code.clone()),
                            message: response.error.as_ref().map_or_else(
                                || "The response failed.".to_owned(),
                                |e| e.message.clone(),
                            ),
                            param: None,
                        });
                        return Ok(TurnEnd::Failed(frame::stream_error_frame(&error)));
                    }
                    EventBody::Completed { response } | EventBody::Incomplete { response } => {
                        // Cached before the terminal event leaves, like the store over HTTP.
                        let turn = Turn {
                            prefix: prepared.prefix.clone(),
                            input: prepared.new_input.clone(),
                            output: response.output.clone(),
                            stored,
                        };
                        self.cache.insert(response.id.clone(), turn);
                    }
                    _ => {}
                }
                out.send_text(encode_event(&event)).await?;
            }
        }
        Ok(TurnEnd::Done)
    }

    /// Resolves `previous_response_id` against the connection first (see the module docs).
    async fn prepare(&self, mut request: CreateResponse) -> Result<Prepared, GatewayError> {
        let new_input = request.input_items();
        request.stream = Some(true);
        let Some(previous) = request.previous_response_id.clone() else {
            return Ok(Prepared {
                request,
                prefix: Prefix::Empty,
                new_input,
                patch_previous: None,
            });
        };
        if self.cache.is_evicted(&previous) {
            return Err(not_found(&previous));
        }
        if let Some(turn) = self.cache.get(&previous) {
            if turn.stored {
                // The store holds it too: let the normal path resolve and record the chain.
                return Ok(Prepared {
                    request,
                    prefix: Prefix::Turn(turn),
                    new_input,
                    patch_previous: None,
                });
            }
            // Resolved here; a chain that began at a stored response asks the store for that part.
            let (stored_base, mut input) = turn.context();
            input.extend(new_input.iter().cloned());
            let input = self
                .engine
                .conversations
                .resolve_input(stored_base, input, &self.caller.owner)
                .await?;
            request.input = Some(Input::Items(input));
            request.previous_response_id = None;
            return Ok(Prepared {
                request,
                prefix: Prefix::Turn(turn),
                new_input,
                patch_previous: Some(previous),
            });
        }
        // Not seen on this connection: the store resolves it (spec: MAY hydrate), as over HTTP.
        Ok(Prepared {
            request,
            prefix: Prefix::Stored(previous),
            new_input,
            patch_previous: None,
        })
    }
}

fn not_found(id: &str) -> GatewayError {
    GatewayError::NotFound {
        message: format!(
            "Previous response with id '{id}' not found on this connection (unknown, evicted \
             after a failed continuation, or stored with store=false on another connection)."
        ),
        param: Some("previous_response_id".to_owned()),
        code: "previous_response_not_found",
    }
}

/// Writes the continued id back into every event that carries the response.
fn patch_previous(event: &mut StreamEvent, previous: Option<&str>) {
    let Some(previous) = previous else {
        return;
    };
    match &mut event.body {
        EventBody::Created { response }
        | EventBody::Queued { response }
        | EventBody::InProgress { response }
        | EventBody::Completed { response }
        | EventBody::Failed { response }
        | EventBody::Incomplete { response } => {
            response.previous_response_id = Some(previous.to_owned());
        }
        _ => {}
    }
}

/// One event as a text frame: the same JSON object as an SSE `data:` line.
fn encode_event(event: &StreamEvent) -> String {
    serde_json::to_string(event).unwrap_or_else(|err| {
        tracing::error!(error = %err, "Could not encode a stream event.");
        frame::error_frame(&GatewayError::Internal(err.to_string()))
    })
}
