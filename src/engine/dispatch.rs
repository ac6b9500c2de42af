//! One request end to end: route, then try the candidates (`failover`: permits, retries,
//! failover, one deadline) until one produces its first translated event. After it, the SSE body
//! pulls upstream on demand (backpressure; a client that leaves drops the upstream call), and
//! failures, an idle upstream or the shutdown drain become `error` + `response.failed`.

use std::{sync::Arc, time::Duration};

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use gateway_actors::{Permit, ReportOutcome, Route, sticky_hash};

use super::{
    Engine, StoredResponse,
    attempt::{Attempt, LiveStream},
    background::Detached,
    failover::{Job, Won, route_error},
    validate_request,
};
use crate::{
    api::{CreateResponse, Item, ResponseResource, ResponseStatus, StreamEvent},
    auth::Caller,
    error::GatewayError,
    observability::RequestObserver,
    rate_limits::RateLimits,
    routing,
    stream::{
        ResponseContext,
        sse::{DONE_FRAME, write_event},
    },
    telemetry,
};
use tracing::Instrument;

/// What the handler adds to a model response besides its body (as headers).
#[derive(Debug, Clone, Default)]
pub struct Notes {
    /// Tool types left out upstream (`x-gateway-dropped-tools`).
    pub dropped_tools: Vec<String>,
    /// The caller's quota state (`x-ratelimit-*`), when it has limits.
    pub rate_limits: Option<RateLimits>,
}

/// What the handler renders.
pub enum Execution {
    /// A complete response object, and its notes.
    Json(Box<ResponseResource>, Notes),
    /// A live event stream (rendered as SSE, WebSocket frames or Chat Completions chunks).
    Stream(EventStream),
}

impl Engine {
    /// Serves `POST /v1/responses` for `caller`, who owns the stored result and may only
    /// continue from their own responses. `background: true` answers at once and runs on.
    pub async fn create_response(
        &self,
        request: CreateResponse,
        request_id: String,
        caller: &Caller,
    ) -> Result<Execution, GatewayError> {
        if request.background == Some(true) {
            return self.create_background(request, request_id, caller).await;
        }
        self.run_request(request, request_id, caller, None).await
    }

    /// One request to its first byte; `detached` when a background runner drives it.
    pub(super) async fn run_request(
        &self,
        request: CreateResponse,
        request_id: String,
        caller: &Caller,
        detached: Option<Detached>,
    ) -> Result<Execution, GatewayError> {
        // Records the request once: its log line, metrics and usage (also when the client
        // leaves and this future is dropped).
        let mut observer = self.observability.observe(
            &request_id,
            &caller.owner,
            request.model.as_deref().unwrap_or(""),
            request.is_stream(),
        );
        // Routing, attempts and conversation spans are children of the request's span.
        let span = observer.span().clone();
        let result = self
            .dispatch(request, request_id, caller, detached, &mut observer)
            .instrument(span)
            .await;
        if let Err(err) = &result {
            observer.fail(err);
        }
        result
    }

    async fn dispatch(
        &self,
        request: CreateResponse,
        request_id: String,
        caller: &Caller,
        detached: Option<Detached>,
        observer: &mut RequestObserver,
    ) -> Result<Execution, GatewayError> {
        validate_request(&request)?;
        let model = request.model.clone().unwrap_or_default();
        let new_input = super::compaction::expand_compaction(request.input_items())?;
        let previous = request.previous_response_id.as_deref();
        let load = telemetry::spans::conversation_load(previous, self.conversations.kind());
        let resolve = self
            .conversations
            .resolve_input(previous, new_input, &caller.owner);
        let input = telemetry::traced(load, resolve).await?;
        if let Some(crate::api::Input::Items(own)) = &request.input {
            super::validate::validate_tool_outputs(&input, own)?;
        }
        // Minted before routing: a first turn's own id is its conversation's sticky key.
        // A background response already has its id (given out while queued).
        let (ctx, cancel) = match detached {
            Some(detached) => (detached.ctx, Some(detached.cancel)),
            None => (ResponseContext::fresh(), None),
        };
        let demand = routing::demand(&request, &input);
        let admission = self
            .quotas
            .admit(
                &caller.owner,
                caller.quota_claim.as_deref(),
                demand.input_tokens,
            )
            .await?;
        let rate_limits = admission.as_ref().map(crate::quota::Admission::rate_limits);
        if let Some(admission) = admission {
            observer.admitted(Box::new(admission));
        }
        let route = Route {
            model: model.clone(),
            pinned: request.provider.map(|p| p.as_str().to_owned()),
            sticky: Some(sticky_hash(&routing::sticky_key(&input, &ctx.response_id))),
            demand,
        };
        let routing_span = telemetry::spans::routing(&model);
        let routed = routing_span.in_scope(|| self.routes.route(&route));
        let routed = routed.map_err(|e| route_error(&model, e));
        if let Err(err) = &routed {
            telemetry::spans::record_error(&routing_span, err.code());
        }
        let routed = routed?;
        telemetry::spans::record_route(&routing_span, &routed);
        let mut policy = self.config.routing.retry;
        if let Some(group) = self.config.routing.models.get(&model) {
            policy.retries = group.retries.unwrap_or(policy.retries);
        }
        let job = Job {
            request: &request,
            input: &input,
            request_id: &request_id,
            model: &model,
            ctx: &ctx,
            tokens: demand.input_tokens,
            policy,
        };
        let Won {
            attempt,
            mut permit,
            provider,
            upstream_model,
        } = self.try_candidates(&job, &routed, observer).await?;
        match attempt {
            Attempt::Json(emitter) => {
                let notes = Notes {
                    dropped_tools: emitter.dropped_tools().to_vec(),
                    rate_limits,
                };
                let response = emitter.into_response();
                permit.settle_tokens(response.usage.map_or(0, |u| u.total_tokens));
                self.store(&caller.owner, &request, &input, &response).await;
                observer.finish(&response);
                Ok(Execution::Json(Box::new(response), notes))
            }
            Attempt::Stream(live) => {
                observer.first_byte();
                let mut stream = EventStream::new(LiveResponse {
                    live,
                    permit,
                    gateway: self.clone(),
                    request: Arc::new(request),
                    input: Arc::new(input),
                    owner: caller.owner.clone(),
                    request_id,
                    provider,
                    upstream_model,
                    observer: observer.detach(),
                    cancel,
                    done: false,
                });
                stream.notes.rate_limits = rate_limits;
                Ok(Execution::Stream(stream))
            }
        }
    }

    pub(super) async fn store(
        &self,
        owner: &str,
        request: &CreateResponse,
        input: &[Item],
        response: &ResponseResource,
    ) {
        // A failed background response is stored too: its owner polls for the outcome.
        let failed = response.status == ResponseStatus::Failed && !response.background;
        if request.store == Some(false) || failed {
            return;
        }
        let stored = StoredResponse {
            owner: owner.to_owned(),
            input: input.to_vec(),
            response: response.clone(),
        };
        let span = telemetry::spans::conversation_store(self.conversations.kind());
        if let Err(err) = telemetry::traced(span, self.conversations.put(stored)).await {
            // The response is still served; it just cannot be continued (counted, never silent).
            tracing::error!(
                response_id = %response.id,
                store = self.conversations.kind(),
                store_failures = self.conversations.store_failures(),
                error = %err,
                "Could not store the response."
            );
        }
    }
}

/// Everything a live streamed response owns; dropping it releases the permit and the upstream call.
struct LiveResponse {
    live: LiveStream,
    permit: Permit,
    gateway: Engine,
    request: Arc<CreateResponse>,
    input: Arc<Vec<Item>>,
    /// The caller that owns the stored result.
    owner: String,
    request_id: String,
    provider: String,
    /// The upstream model (a 429 mid-stream cools it).
    upstream_model: String,
    /// Records the request at its end; dropped unfinished, a client disconnect.
    observer: RequestObserver,
    /// A background response's cancel signal.
    cancel: Option<tokio::sync::watch::Receiver<bool>>,
    done: bool,
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
                () = self.gateway.drain.closed() => Some(Err(GatewayError::ShuttingDown)),
                () = super::background::cancelled(self.cancel.as_mut()) => Some(Err(GatewayError::Cancelled)),
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
                    .report(super::failover::outcome_after_first_byte(
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
        self.gateway
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
    pub(super) fn from_batches(
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

    fn new(live: LiveResponse) -> Self {
        let keepalive = live.gateway.config.server.keepalive;
        let notes = Notes {
            dropped_tools: live.live.emitter.dropped_tools().to_vec(),
            rate_limits: None,
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

    /// The events as SSE frames, ending with `data: [DONE]`, with a `: keep-alive` comment
    /// whenever no event flowed for `server.keepalive`.
    pub fn into_sse(self) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
        let keepalive = self.keepalive;
        let frames = self.inner.map(|batch| {
            let mut chunk = BytesMut::with_capacity(512 * batch.len());
            for event in &batch {
                write_event(event, &mut chunk);
            }
            Ok(chunk.freeze())
        });
        let frames = frames.chain(futures::stream::once(async {
            Ok(Bytes::from_static(DONE_FRAME))
        }));
        super::with_keepalive(frames, keepalive)
    }
}
