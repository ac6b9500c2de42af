//! A response after its first byte: the live stream that pulls upstream on demand, turns
//! failures, an idle upstream, a cancel or the drain into `error` + `response.failed`, and
//! stores the response before its last events leave; and the [`EventStream`] the HTTP layer
//! renders (`http::sse`).

use std::{sync::Arc, time::Duration};

use futures::{Stream, StreamExt};
use gateway_actors::{Permit, ReportOutcome};
use tracing::Instrument;

use super::Notes;
use crate::{
    api::{CreateResponse, Item, StreamEvent},
    engine::{Engine, attempt::LiveStream},
    error::GatewayError,
    observability::RequestObserver,
    rate_limits::RateLimits,
};

/// Everything a live streamed response owns; dropping it releases the permit and the upstream call.
pub(super) struct LiveResponse {
    pub(super) live: LiveStream,
    pub(super) permit: Permit,
    pub(super) engine: Engine,
    pub(super) request: Arc<CreateResponse>,
    pub(super) input: Arc<Vec<Item>>,
    /// The caller that owns the stored result.
    pub(super) owner: String,
    pub(super) request_id: String,
    pub(super) provider: String,
    /// The upstream model (a 429 mid-stream cools it).
    pub(super) upstream_model: String,
    /// Records the request at its end; dropped unfinished, a client disconnect.
    pub(super) observer: RequestObserver,
    /// A background response's cancel signal.
    pub(super) cancel: Option<tokio::sync::watch::Receiver<bool>>,
    pub(super) done: bool,
}

impl LiveResponse {
    /// Produces the next batch of events, pulling upstream only when needed; `None` after the
    /// terminal event.
    async fn next_batch(&mut self) -> Option<Vec<StreamEvent>> {
        if self.done {
            return None;
        }
        loop {
            let events = self.live.emitter.drain();
            if self.live.emitter.is_finished() {
                // Boxed: the store's future is large and runs once, at the end; inline, every
                // open stream would carry its space the whole time.
                Box::pin(self.finish()).await;
                return Some(events);
            }
            if !events.is_empty() {
                return Some(events);
            }
            let LiveStream {
                data,
                translator,
                emitter,
            } = &mut self.live;
            let next = tokio::select! {
                // The drain's grace period is over: close the stream cleanly.
                () = self.engine.drain.closed() => Some(Err(GatewayError::ShuttingDown)),
                () = crate::engine::background::cancelled(self.cancel.as_mut()) => Some(Err(GatewayError::Cancelled)),
                next = data.next() => next,
            };
            let step = match next {
                Some(Ok(payload)) => translator.on_data(&payload, emitter),
                Some(Err(err)) => Err(err),
                None => translator.on_end(emitter).and_then(|()| {
                    if emitter.is_finished() {
                        Ok(())
                    } else {
                        Err(GatewayError::Internal(
                            "upstream stream ended without a terminal event".to_owned(),
                        ))
                    }
                }),
            };
            if let Err(err) = step {
                if let GatewayError::Cancelled = err {
                    emitter.cancel(err.to_object());
                    continue;
                }
                if let GatewayError::Upstream(e) = &err {
                    tracing::debug!(request_id = %self.request_id, provider = %e.provider, detail = %e.detail, "Upstream stream failure detail.");
                }
                tracing::warn!(request_id = %self.request_id, provider = %self.provider, error = %err, "Stream failed after the first byte.");
                self.permit
                    .report(crate::engine::failover::outcome_after_first_byte(
                        &err,
                        &self.upstream_model,
                    ));
                self.observer.stream_failed(&err);
                emitter.fail(err.to_object());
            }
        }
    }

    async fn finish(&mut self) {
        self.done = true;
        let response = self.live.emitter.response().clone();
        // Stored before the final events leave, so an immediate follow-up finds it.
        self.engine
            .store(&self.owner, &self.request, &self.input, &response)
            .instrument(self.observer.span().clone())
            .await;
        self.observer.finish(&response);
        // The stream ran to its end: only now a success (a failure reported it already).
        self.permit.report(ReportOutcome::Completed);
        // Corrects the `tpm` estimate with the real usage.
        self.permit
            .settle_tokens(response.usage.map_or(0, |u| u.total_tokens));
    }
}

/// A live response's events, in batches; the terminal event is in the last batch, and the
/// response is stored before that batch is yielded.
pub struct EventStream {
    inner: std::pin::Pin<Box<dyn Stream<Item = Vec<StreamEvent>>>>,
    /// SSE keep-alive period (`server.keepalive`).
    keepalive: Option<Duration>,
    /// Tool types left out upstream, the caller's rate limits.
    notes: Notes,
}

impl EventStream {
    /// A stream of ready-made batches (a background response's log).
    pub(in crate::engine) fn from_batches(
        batches: impl Stream<Item = Vec<StreamEvent>> + 'static,
        keepalive: Option<Duration>,
    ) -> Self {
        Self {
            inner: Box::pin(batches),
            keepalive,
            // Chosen per attempt, after the background response was answered.
            notes: Notes::default(),
        }
    }

    /// The live response's events; `rate_limits` is what its caller is told of theirs.
    pub(super) fn new(live: LiveResponse, rate_limits: Option<RateLimits>) -> Self {
        let keepalive = live.engine.config.server.keepalive;
        let notes = Notes {
            dropped_tools: live.live.emitter.dropped_tools().to_vec(),
            rate_limits,
        };
        let stream = futures::stream::unfold(live, |mut live| async move {
            let batch = live.next_batch().await?;
            Some((batch, live))
        });
        Self {
            inner: Box::pin(stream),
            keepalive,
            notes,
        }
    }

    /// The headers' notes: tool types left out upstream, the caller's rate limits.
    pub fn notes(&self) -> &Notes {
        &self.notes
    }

    /// The next batch, or `None` after the terminal event.
    pub async fn next_batch(&mut self) -> Option<Vec<StreamEvent>> {
        self.inner.next().await
    }

    /// The SSE keep-alive period (`server.keepalive`) the renderer applies.
    pub fn keepalive(&self) -> Option<Duration> {
        self.keepalive
    }

    /// The batches, for a renderer (`http::sse`).
    pub fn into_batches(self) -> impl Stream<Item = Vec<StreamEvent>> {
        self.inner
    }
}
