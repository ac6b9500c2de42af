//! One request end to end: route, then try the candidates (`failover`: permits, retries,
//! failover, one deadline) until one produces its first translated event. After it, the SSE body
//! pulls upstream on demand (backpressure; a client that leaves drops the upstream call), and
//! failures, an idle upstream or the shutdown drain become `error` + `response.failed`.

mod live;

use std::sync::Arc;

use gateway_actors::{Route, Routed, sticky_hash};

use super::{
    Engine, StoredResponse,
    attempt::Attempt,
    background::Detached,
    failover::{Job, Won, route_error},
    validate_request,
};
use crate::{
    api::{CreateResponse, Item, ResponseResource, ResponseStatus},
    auth::Caller,
    config::RetryPolicy,
    error::GatewayError,
    observability::RequestObserver,
    rate_limits::RateLimits,
    routing,
    stream::ResponseContext,
    telemetry,
};
use tracing::Instrument;

pub use self::live::EventStream;
use self::live::LiveResponse;

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
        let input = self.load_input(&request, caller).await?;
        // Minted before routing: a first turn's own id is its conversation's sticky key.
        // A background response already has its id (given out while queued).
        let (ctx, cancel) = match detached {
            Some(detached) => (detached.ctx, Some(detached.cancel)),
            None => (ResponseContext::fresh(), None),
        };
        let demand = routing::demand(&request, &input);
        let rate_limits = self
            .admit_caller(caller, demand.input_tokens, observer)
            .await?;
        let route = Route {
            model: model.clone(),
            pinned: request.provider.map(|p| p.as_str().to_owned()),
            sticky: Some(sticky_hash(&routing::sticky_key(&input, &ctx.response_id))),
            demand,
        };
        let routed = self.route(&route)?;
        let policy = self.retry_policy(&model);
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
                let stream = EventStream::new(
                    LiveResponse {
                        live,
                        permit,
                        engine: self.clone(),
                        request: Arc::new(request),
                        input: Arc::new(input),
                        owner: caller.owner.clone(),
                        request_id,
                        provider,
                        upstream_model,
                        observer: observer.detach(),
                        cancel,
                        done: false,
                    },
                    rate_limits,
                );
                Ok(Execution::Stream(stream))
            }
        }
    }

    /// The whole input sent upstream: the stored conversation (`previous_response_id`)
    /// followed by the request's own input with compaction items expanded. Every tool result
    /// the request sends must answer a call in it.
    async fn load_input(
        &self,
        request: &CreateResponse,
        caller: &Caller,
    ) -> Result<Vec<Item>, GatewayError> {
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
        Ok(input)
    }

    /// Charges `tokens` to the caller's quota (a refusal is the caller's 429); the caller's
    /// rate-limit state, when it has limits, for the response headers.
    async fn admit_caller(
        &self,
        caller: &Caller,
        tokens: u64,
        observer: &mut RequestObserver,
    ) -> Result<Option<RateLimits>, GatewayError> {
        let admission = self
            .quotas
            .admit(&caller.owner, caller.quota_claim.as_deref(), tokens)
            .await?;
        let rate_limits = admission.as_ref().map(crate::quota::Admission::rate_limits);
        if let Some(admission) = admission {
            observer.admitted(Box::new(admission));
        }
        Ok(rate_limits)
    }

    /// The router's candidates for `route`, in a routing span that records the outcome.
    fn route(&self, route: &Route) -> Result<Routed, GatewayError> {
        let model = &route.model;
        let routing_span = telemetry::spans::routing(model);
        let routed = routing_span.in_scope(|| self.routes.route(route));
        let routed = routed.map_err(|e| route_error(model, e));
        if let Err(err) = &routed {
            telemetry::spans::record_error(&routing_span, err.code());
        }
        let routed = routed?;
        telemetry::spans::record_route(&routing_span, &routed);
        Ok(routed)
    }

    /// The routing retry policy, with `model`'s own `retries` when its group sets them.
    fn retry_policy(&self, model: &str) -> RetryPolicy {
        let mut policy = self.config.routing.retry;
        if let Some(group) = self.config.routing.models.get(model) {
            policy.retries = group.retries.unwrap_or(policy.retries);
        }
        policy
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
