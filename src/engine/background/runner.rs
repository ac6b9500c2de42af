//! A background response from start to end: admitted against the bounds and stored `queued`
//! before the answer; then, detached from the request on the actix runtime, stored
//! `in_progress` and run through the same dispatch as any streamed request (routing, permits,
//! failover, limits); its events go to the run's log, renumbered after `response.queued`; the
//! end (completed, failed, incomplete or cancelled) is stored before its last event is logged.

use tokio::sync::watch;

use super::RunSlot;
use crate::{
    api::{CreateResponse, EventBody, ResponseResource, ResponseStatus, StreamEvent},
    auth::Caller,
    engine::{DetachedTicket, Engine, EventStream, Execution, StoredResponse, validate_request},
    error::GatewayError,
    stream::{ResponseContext, ResponseEmitter},
};

/// How often a runner looks for a cancel asked on another replica (shared store only).
const REMOTE_CANCEL_POLL: std::time::Duration = std::time::Duration::from_millis(200);
/// The runner refreshes its heartbeat (which lives `background.heartbeat_timeout`) five times
/// per timeout, so only a replica that stopped lets it expire.
const BEATS_PER_TIMEOUT: u32 = 5;

/// What a background runner hands the dispatch: the id already given out, and its cancel
/// signal.
pub struct Detached {
    /// The response's id and creation time.
    pub ctx: ResponseContext,
    /// Turns true when the owner cancels.
    pub cancel: watch::Receiver<bool>,
}

/// The dispatch's events as the run logs them: its `response.created` is dropped (the run's
/// own, `queued`, came first, then `response.queued`) and the rest move up by one.
fn renumber(batch: Vec<StreamEvent>) -> Vec<StreamEvent> {
    batch
        .into_iter()
        .filter(|e| !matches!(e.body, EventBody::Created { .. }))
        .map(|mut e| {
            e.sequence_number += 1;
            e
        })
        .collect()
}

impl Engine {
    /// `POST /v1/responses` with `background: true`: the `queued` response (or its event
    /// stream) at once; the work goes on without the client.
    pub(in crate::engine) async fn create_background(
        &self,
        request: CreateResponse,
        request_id: String,
        caller: &Caller,
    ) -> Result<Execution, GatewayError> {
        let result = self
            .start_background(request, request_id.clone(), caller)
            .await;
        if let Err(err) = &result {
            self.observability.reject(&request_id, err);
        }
        result
    }

    async fn start_background(
        &self,
        request: CreateResponse,
        request_id: String,
        caller: &Caller,
    ) -> Result<Execution, GatewayError> {
        validate_request(&request)?;
        // A caller already over its quota is refused now, not with a failed response later
        // (the run itself is admitted, and charged, when it starts).
        self.quotas
            .check(&caller.owner, caller.quota_claim.as_deref())
            .await?;
        let ticket = self
            .drain
            .admit_detached()
            .ok_or(GatewayError::ShuttingDown)?;
        let ctx = ResponseContext::fresh();
        let model = request.model.clone().unwrap_or_default();
        let mut queued =
            ResponseResource::in_progress(&request, &ctx.response_id, &model, ctx.created_at);
        queued.status = ResponseStatus::Queued;
        let slot = self.background.admit(&ctx.response_id, &caller.owner)?;
        // Beating before it is visible: another replica never takes a fresh one for orphaned.
        self.conversations
            .heartbeat(&ctx.response_id, self.config.background.heartbeat_timeout)
            .await;
        // Stored before the answer, so a GET right after it finds the response.
        self.conversations
            .put(StoredResponse {
                owner: caller.owner.clone(),
                input: request.input_items(),
                response: queued.clone(),
            })
            .await?;
        let run = slot.run().clone();
        self.record(
            &run,
            vec![
                StreamEvent {
                    sequence_number: 0,
                    body: EventBody::Created {
                        response: Box::new(queued.clone()),
                    },
                },
                StreamEvent {
                    sequence_number: 1,
                    body: EventBody::Queued {
                        response: Box::new(queued.clone()),
                    },
                },
            ],
        )
        .await;
        let stream = request.is_stream();
        let detached = Detached {
            ctx,
            cancel: run.cancel_signal(),
        };
        // Not tied to this request: it runs on this worker's runtime until its end, holding
        // its running slot and drain ticket.
        actix_web::rt::spawn(self.clone().run_background(
            request,
            request_id,
            caller.clone(),
            detached,
            (slot, ticket),
        ));
        if stream {
            let events = run.follow(None)?;
            return Ok(Execution::Stream(EventStream::from_batches(
                events,
                self.config.server.keepalive,
            )));
        }
        // Tools left out are chosen per attempt, after this answer.
        Ok(Execution::Json(
            Box::new(queued),
            super::super::Notes::default(),
        ))
    }

    async fn run_background(
        self,
        request: CreateResponse,
        request_id: String,
        caller: Caller,
        detached: Detached,
        holds: (RunSlot, DetachedTicket),
    ) {
        let run = holds.0.run().clone();
        let watch = self.watch_remote_cancel(&run);
        tokio::select! {
            () = self.drive_background(request, request_id, caller, detached, holds) => {}
            () = watch => {}
        }
    }

    /// Appends `events` to `run`'s log here and, with a shared store, to its Redis stream (so
    /// any replica can replay and follow it).
    async fn record(&self, run: &super::Run, events: Vec<StreamEvent>) {
        if self.conversations.is_shared() {
            self.conversations
                .append_events(run.id(), &events, self.config.background.event_buffer)
                .await;
        }
        run.push(events);
    }

    /// Keeps `run`'s heartbeat alive and cancels it when a cancel for it was asked on another
    /// replica; never resolves.
    async fn watch_remote_cancel(&self, run: &super::Run) {
        if !self.conversations.is_shared() {
            return std::future::pending().await;
        }
        let ttl = self.config.background.heartbeat_timeout;
        let beat_every = ttl / BEATS_PER_TIMEOUT;
        let mut tick = tokio::time::interval(REMOTE_CANCEL_POLL.min(beat_every));
        let mut last_beat = tokio::time::Instant::now();
        loop {
            tick.tick().await;
            if last_beat.elapsed() >= beat_every {
                last_beat = tokio::time::Instant::now();
                self.conversations.heartbeat(run.id(), ttl).await;
            }
            if self.conversations.cancel_requested(run.id()).await {
                run.cancel();
                return std::future::pending().await;
            }
        }
    }

    async fn drive_background(
        &self,
        mut request: CreateResponse,
        request_id: String,
        caller: Caller,
        detached: Detached,
        holds: (RunSlot, DetachedTicket),
    ) {
        let run = holds.0.run().clone();
        let ctx = detached.ctx.clone();
        let model = request.model.clone().unwrap_or_default();
        let in_progress =
            ResponseResource::in_progress(&request, &ctx.response_id, &model, ctx.created_at);
        let started = StoredResponse {
            owner: caller.owner.clone(),
            input: request.input_items(),
            response: in_progress.clone(),
        };
        if let Err(err) = self.conversations.put(started).await {
            tracing::warn!(response_id = %ctx.response_id, error = %err, "Could not store a background response as in progress.");
        }
        // Always streamed upstream: the events are what followers replay.
        request.stream = Some(true);
        let mut cancel = detached.cancel.clone();
        let result = tokio::select! {
            result = self.run_request(request.clone(), request_id, &caller, Some(detached)) => result,
            () = super::cancelled(Some(&mut cancel)) => Err(GatewayError::Cancelled),
        };
        match result {
            Ok(Execution::Stream(mut events)) => {
                while let Some(batch) = events.next_batch().await {
                    self.record(&run, renumber(batch)).await;
                }
            }
            Ok(Execution::Json(response, _)) => {
                // Not reached (the request is streamed); logged as the end it is.
                let body = match response.status {
                    ResponseStatus::Incomplete => EventBody::Incomplete { response },
                    ResponseStatus::Failed | ResponseStatus::Cancelled => {
                        EventBody::Failed { response }
                    }
                    ResponseStatus::Completed
                    | ResponseStatus::Queued
                    | ResponseStatus::InProgress => EventBody::Completed { response },
                };
                let end = vec![StreamEvent {
                    sequence_number: 2,
                    body,
                }];
                self.record(&run, end).await;
            }
            Err(err) => {
                // Ended before its first byte (refused, failed upstream, cancelled or shut
                // down): the events and the stored end are made here.
                let mut emitter = ResponseEmitter::new(in_progress, &ctx, true);
                emitter.start();
                if matches!(err, GatewayError::Cancelled) {
                    emitter.cancel(err.to_object());
                } else {
                    emitter.fail(err.to_object());
                }
                let input = request.input_items();
                self.store(&caller.owner, &request, &input, emitter.response())
                    .await;
                self.record(&run, renumber(emitter.drain())).await;
            }
        }
        drop(holds);
    }
}
