//! One request end to end: route, then for each candidate take a permit, call upstream and wait
//! for the first translated event; retryable failures before that point fail over to the next
//! candidate. After it, the SSE body pulls upstream on demand (backpressure; a client that leaves
//! drops the upstream call), and failures become `error` + `response.failed`.

use std::{sync::Arc, time::Instant};

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use gateway_actors::{Acquire, AdmissionError, Permit, ReportOutcome, Route, RouteError};

use super::{Gateway, ProviderSlot, StoredResponse, validate_request};
use crate::{
    api::{CreateResponse, Item, ResponseResource, ResponseStatus, StreamEvent},
    auth::Caller,
    error::{GatewayError, UpstreamErrorKind},
    providers::{Call, DataStream, StreamTranslator, UpstreamReply},
    stream::{
        ResponseContext, ResponseEmitter,
        sse::{DONE_FRAME, encode_event},
    },
};

/// What the handler renders.
pub enum Execution {
    /// A complete response object.
    Json(Box<ResponseResource>),
    /// A live event stream (rendered as SSE, WebSocket frames or Chat Completions chunks).
    Stream(EventStream),
}

/// A stream attempt that produced its first events.
struct LiveStream {
    data: DataStream,
    translator: Box<dyn StreamTranslator>,
    emitter: ResponseEmitter,
}

enum Attempt {
    Json(ResponseEmitter),
    Stream(LiveStream),
}

fn mailbox(err: actix::MailboxError) -> GatewayError {
    GatewayError::Internal(format!("actor mailbox: {err}"))
}

fn route_error(model: &str, err: RouteError) -> GatewayError {
    match err {
        RouteError::UnknownModel(message) => GatewayError::NotFound {
            message,
            param: Some("model".to_owned()),
            code: "model_not_found",
        },
        RouteError::AllUnavailable { retry_after } => GatewayError::NoHealthyProvider {
            model: model.to_owned(),
            retry_after,
        },
    }
}

fn admission_error(provider: &str, model: &str, err: AdmissionError) -> GatewayError {
    match err {
        AdmissionError::QueueFull { retry_after } => GatewayError::QueueFull {
            provider: provider.to_owned(),
            retry_after,
        },
        AdmissionError::CircuitOpen { retry_after } => GatewayError::NoHealthyProvider {
            model: model.to_owned(),
            retry_after,
        },
    }
}

/// Whether a failure says the provider itself is unhealthy (feeds the breaker).
fn counts_against_health(err: &GatewayError) -> bool {
    matches!(
        err,
        GatewayError::Upstream(e) if matches!(
            e.kind,
            UpstreamErrorKind::Server | UpstreamErrorKind::Timeout | UpstreamErrorKind::Connect | UpstreamErrorKind::Overloaded
        )
    )
}

impl Gateway {
    /// Serves `POST /v1/responses` for `caller`, who owns the stored result and may only
    /// continue from their own responses.
    pub async fn create_response(
        &self,
        request: CreateResponse,
        request_id: String,
        caller: &Caller,
    ) -> Result<Execution, GatewayError> {
        validate_request(&request)?;
        let started = Instant::now();
        let model = request.model.clone().unwrap_or_default();
        let new_input = super::compaction::expand_compaction(request.input_items())?;
        let input = self
            .conversations
            .resolve_input(
                request.previous_response_id.as_deref(),
                new_input,
                &caller.owner,
            )
            .await?;
        let route = Route {
            model: model.clone(),
            pinned: request.provider.map(|p| p.as_str().to_owned()),
        };
        let candidates = self
            .router
            .send(route)
            .await
            .map_err(mailbox)?
            .map_err(|e| route_error(&model, e))?;
        let ctx = ResponseContext::fresh();
        let mut last_error: Option<GatewayError> = None;
        for (attempt, candidate) in candidates.iter().enumerate() {
            let Some(slot) = self.providers.get(&candidate.provider) else {
                continue;
            };
            let mut permit = match slot.actor.send(Acquire).await.map_err(mailbox)? {
                Ok(permit) => permit,
                Err(err) => {
                    tracing::warn!(request_id, provider = %candidate.provider, reason = %err, "Provider refused admission; trying the next candidate.");
                    last_error = Some(admission_error(&candidate.provider, &model, err));
                    continue;
                }
            };
            let call = Call {
                request: &request,
                input: &input,
                model: &candidate.model,
                stream: request.is_stream(),
                request_id: &request_id,
            };
            let skeleton =
                ResponseResource::in_progress(&request, &ctx.response_id, &model, ctx.created_at);
            match attempt_call(slot, call, skeleton, &ctx).await {
                Ok(Attempt::Json(emitter)) => {
                    permit.report(ReportOutcome::Success);
                    let response = emitter.into_response();
                    self.store(&caller.owner, &request, &input, &response).await;
                    log_done(
                        &request_id,
                        &candidate.provider,
                        attempt,
                        &response,
                        started,
                        false,
                    );
                    return Ok(Execution::Json(Box::new(response)));
                }
                Ok(Attempt::Stream(live)) => {
                    permit.report(ReportOutcome::Success);
                    let body = EventStream::new(LiveResponse {
                        live,
                        permit,
                        gateway: self.clone(),
                        request: Arc::new(request),
                        input: Arc::new(input),
                        owner: caller.owner.clone(),
                        request_id,
                        provider: candidate.provider.clone(),
                        attempt,
                        started,
                        done: false,
                    });
                    return Ok(Execution::Stream(body));
                }
                Err(err) => {
                    let outcome = if counts_against_health(&err) {
                        ReportOutcome::Failure
                    } else {
                        ReportOutcome::Abandoned
                    };
                    permit.report(outcome);
                    if let GatewayError::Upstream(e) = &err {
                        tracing::debug!(request_id, provider = %e.provider, detail = %e.detail, "Upstream failure detail.");
                    }
                    if !err.is_retryable() {
                        tracing::info!(request_id, provider = %candidate.provider, status = err.status().as_u16(), error = %err, "Request failed upstream.");
                        return Err(err);
                    }
                    tracing::warn!(request_id, provider = %candidate.provider, attempt, error = %err, "Upstream attempt failed; failing over.");
                    last_error = Some(err);
                }
            }
        }
        Err(last_error
            .unwrap_or_else(|| GatewayError::Internal("no candidate could be tried".to_owned())))
    }

    async fn store(
        &self,
        owner: &str,
        request: &CreateResponse,
        input: &[Item],
        response: &ResponseResource,
    ) {
        if request.store == Some(false) || response.status == ResponseStatus::Failed {
            return;
        }
        let stored = StoredResponse {
            owner: owner.to_owned(),
            input: input.to_vec(),
            response: response.clone(),
        };
        if let Err(err) = self.conversations.put(stored).await {
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

async fn attempt_call(
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

fn log_done(
    request_id: &str,
    provider: &str,
    attempt: usize,
    response: &ResponseResource,
    started: Instant,
    stream: bool,
) {
    let usage = response.usage.unwrap_or_default();
    tracing::info!(
        request_id,
        provider,
        model = %response.model,
        response_id = %response.id,
        status = ?response.status,
        failovers = attempt,
        stream,
        latency_ms = started.elapsed().as_millis() as u64,
        input_tokens = usage.input_tokens,
        output_tokens = usage.output_tokens,
        "Request served."
    );
}

/// Everything a live streamed response owns; dropping it releases the permit and the upstream call.
struct LiveResponse {
    live: LiveStream,
    permit: Permit,
    gateway: Gateway,
    request: Arc<CreateResponse>,
    input: Arc<Vec<Item>>,
    /// The caller that owns the stored result.
    owner: String,
    request_id: String,
    provider: String,
    attempt: usize,
    started: Instant,
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
                self.finish().await;
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
            let step = match data.next().await {
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
                if let GatewayError::Upstream(e) = &err {
                    tracing::debug!(request_id = %self.request_id, provider = %e.provider, detail = %e.detail, "Upstream stream failure detail.");
                }
                tracing::warn!(request_id = %self.request_id, provider = %self.provider, error = %err, "Stream failed after the first byte.");
                if counts_against_health(&err) {
                    self.gateway.report_failure(&self.provider);
                }
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
            .await;
        log_done(
            &self.request_id,
            &self.provider,
            self.attempt,
            &response,
            self.started,
            true,
        );
        self.permit.report(ReportOutcome::Success);
    }
}

impl Gateway {
    fn report_failure(&self, provider: &str) {
        if let Some(slot) = self.providers.get(provider) {
            slot.actor.do_send(ReportOutcome::Failure);
        }
    }
}

/// A live response's events, in batches; the terminal event is in the last batch, and the
/// response is stored before that batch is yielded.
pub struct EventStream {
    inner: std::pin::Pin<Box<dyn Stream<Item = Vec<StreamEvent>>>>,
}

impl EventStream {
    fn new(live: LiveResponse) -> Self {
        let stream = futures::stream::unfold(live, |mut live| async move {
            let batch = live.next_batch().await?;
            Some((batch, live))
        });
        Self {
            inner: Box::pin(stream),
        }
    }

    /// The next batch, or `None` after the terminal event.
    pub async fn next_batch(&mut self) -> Option<Vec<StreamEvent>> {
        self.inner.next().await
    }

    /// The events as SSE frames, ending with `data: [DONE]`.
    pub fn into_sse(self) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
        let frames = self.inner.map(|batch| {
            let mut chunk = BytesMut::new();
            for event in &batch {
                chunk.extend_from_slice(&encode_event(event));
            }
            Ok(chunk.freeze())
        });
        frames.chain(futures::stream::once(async {
            Ok(Bytes::from_static(DONE_FRAME))
        }))
    }
}
