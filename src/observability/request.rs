//! `RequestObserver`: follows one model request from routing to its last byte and, exactly once,
//! writes its log line, counts its metrics and adds its usage. Dropped unfinished (the client
//! left, so actix dropped the handler or the stream), it records a client disconnect. It owns
//! the request's gateway-level tracing span (`telemetry::spans::gen_ai`), which ends with it.

use std::time::{Duration, Instant};

use super::{Observability, log::Outcome, metrics};
use crate::{
    api::{ResponseResource, ResponseStatus, Usage},
    error::{GatewayError, UpstreamErrorKind},
};

/// The status recorded when the client left before the answer ended (nginx's convention).
pub const CLIENT_CLOSED: u16 = 499;

/// The state of one request; see the module docs.
pub struct RequestObserver {
    obs: Observability,
    request_id: String,
    caller: String,
    model: String,
    model_label: String,
    stream: bool,
    started: Instant,
    provider: Option<String>,
    upstream_model: Option<String>,
    attempts: u32,
    failovers: u32,
    retries: u32,
    first_byte: Option<Duration>,
    /// The error a committed stream ended with: status, code, loggable message.
    stream_error: Option<(u16, &'static str, String)>,
    /// The gateway-level tracing span (`Span::none()` while tracing is off).
    span: tracing::Span,
    /// The caller's quota claim, settled from the real usage at the end.
    admission: Option<Box<dyn Settle>>,
    done: bool,
}

/// What a request was admitted against (its caller's quota), settled from the real usage and
/// cost when the request ends (`quota::Admission`; this layer only calls it).
pub trait Settle {
    /// The request used `used_tokens` and cost `cost_usd` (`None`: unpriced); 0 and `None`
    /// when it failed before any answer.
    fn settle(&mut self, used_tokens: u64, cost_usd: Option<f64>);
}

impl RequestObserver {
    pub(super) fn new(
        obs: Observability,
        request_id: &str,
        caller: &str,
        model: &str,
        stream: bool,
    ) -> Self {
        let model_label = obs.inner.labels.label(model);
        let span = crate::telemetry::spans::gen_ai(request_id, model, stream);
        Self {
            obs,
            request_id: request_id.to_owned(),
            caller: caller.to_owned(),
            model: model.to_owned(),
            model_label,
            stream,
            started: Instant::now(),
            provider: None,
            upstream_model: None,
            attempts: 0,
            failovers: 0,
            retries: 0,
            first_byte: None,
            stream_error: None,
            span,
            admission: None,
            done: false,
        }
    }

    /// The request id.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// The request's gateway-level tracing span: its routing, attempts and conversation spans
    /// are children of it.
    pub fn span(&self) -> &tracing::Span {
        &self.span
    }

    /// How many candidates were tried so far (retries included).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// A candidate is about to be tried (admission, then the upstream call) for
    /// `upstream_model`. A different provider than the last one counts a failover, the same
    /// one a retry.
    pub fn attempt(&mut self, provider: &str, upstream_model: &str) {
        if let Some(previous) = &self.provider {
            if previous == provider {
                self.retries += 1;
                metrics::record_retry(provider);
            } else {
                self.failovers += 1;
                metrics::record_failover(previous);
            }
        }
        self.attempts += 1;
        self.provider = Some(provider.to_owned());
        self.upstream_model = Some(upstream_model.to_owned());
    }

    /// The current candidate refused admission or failed before the first byte.
    pub fn attempt_failed(&mut self, err: &GatewayError) {
        metrics::record_upstream_error(self.provider_label(), err);
    }

    /// The answer's first byte can go out now (a stream committed to its first event).
    pub fn first_byte(&mut self) {
        if self.first_byte.is_none() {
            self.first_byte = Some(self.started.elapsed());
        }
    }

    /// A committed stream failed: the client gets an `error` event, not an HTTP error status.
    pub fn stream_failed(&mut self, err: &GatewayError) {
        metrics::record_upstream_error(self.provider_label(), err);
        self.stream_error = Some((err.status().as_u16(), err.code(), loggable_message(err)));
    }

    /// Moves the request into a new observer (a committed stream keeps it to its end); this
    /// one is left finished, so dropping it records nothing.
    #[must_use]
    pub fn detach(&mut self) -> Self {
        let moved = Self {
            obs: self.obs.clone(),
            request_id: std::mem::take(&mut self.request_id),
            caller: std::mem::take(&mut self.caller),
            model: std::mem::take(&mut self.model),
            model_label: std::mem::take(&mut self.model_label),
            stream: self.stream,
            started: self.started,
            provider: self.provider.take(),
            upstream_model: self.upstream_model.take(),
            attempts: self.attempts,
            failovers: self.failovers,
            retries: self.retries,
            first_byte: self.first_byte,
            stream_error: self.stream_error.take(),
            span: std::mem::replace(&mut self.span, tracing::Span::none()),
            admission: self.admission.take(),
            done: self.done,
        };
        self.done = true;
        moved
    }

    /// The request was admitted against its caller's quota; settled when it ends.
    pub fn admitted(&mut self, admission: Box<dyn Settle>) {
        self.admission = Some(admission);
    }

    /// The response is complete (also `failed` or `incomplete`): log, count, account.
    pub fn finish(&mut self, response: &ResponseResource) {
        if self.done {
            return;
        }
        self.done = true;
        let latency = self.started.elapsed();
        let ttfb = self.first_byte.unwrap_or(latency);
        let usage = response.usage.unwrap_or_default();
        let served = self
            .upstream_model
            .as_deref()
            .filter(|m| !m.is_empty())
            .unwrap_or(&response.model);
        let prices = &self.obs.inner.prices;
        let cost = prices
            .cost(served, &usage)
            .or_else(|| prices.cost(&response.model, &usage));
        let (status, error_code, error) = match (response.status, &self.stream_error) {
            (ResponseStatus::Failed | ResponseStatus::Cancelled, Some((status, code, message))) => {
                (*status, Some(*code), Some(message.as_str()))
            }
            (ResponseStatus::Failed, None) => (
                502,
                Some("upstream_error"),
                response.error.as_ref().map(|e| e.message.as_str()),
            ),
            (
                ResponseStatus::Completed
                | ResponseStatus::Incomplete
                | ResponseStatus::InProgress
                | ResponseStatus::Queued
                | ResponseStatus::Cancelled,
                _,
            ) => (200, None, None),
        };
        self.count(status, latency);
        self.count_served(ttfb, &usage, cost);
        if let Some(admission) = self.admission.as_mut() {
            admission.settle(usage.total_tokens, cost);
        }
        crate::telemetry::spans::record_response(&self.span, response, self.attempts, error_code);
        if response.usage.is_some() {
            self.obs
                .inner
                .usage
                .add(&self.caller, &self.model_label, &usage, cost);
        }
        self.log(&Outcome {
            status,
            error_code,
            error,
            response_id: Some(&response.id),
            response_status: Some(response.status),
            latency,
            ttfb,
            usage,
            cost,
            client_disconnect: false,
        });
    }

    /// The request failed with `err` before any answer: log and count.
    pub fn fail(&mut self, err: &GatewayError) {
        if self.done {
            return;
        }
        self.done = true;
        let latency = self.started.elapsed();
        let status = err.status().as_u16();
        self.count(status, latency);
        // Nothing was generated: the token estimate goes back.
        if let Some(admission) = self.admission.as_mut() {
            admission.settle(0, None);
        }
        crate::telemetry::spans::record_error(&self.span, err.code());
        let message = loggable_message(err);
        self.log(&Outcome {
            status,
            error_code: Some(err.code()),
            error: Some(&message),
            response_id: None,
            response_status: None,
            latency,
            ttfb: latency,
            usage: Usage::default(),
            cost: None,
            client_disconnect: false,
        });
    }

    fn provider_label(&self) -> &str {
        self.provider.as_deref().unwrap_or(metrics::NO_PROVIDER)
    }

    fn count(&self, status: u16, latency: Duration) {
        let provider = self.provider_label().to_owned();
        let model = self.model_label.clone();
        ::metrics::counter!(metrics::REQUESTS, "provider" => provider.clone(), "model" => model.clone(), "status" => status.to_string())
            .increment(1);
        ::metrics::histogram!(metrics::REQUEST_DURATION, "provider" => provider, "model" => model)
            .record(latency.as_secs_f64());
    }

    fn count_served(&self, ttfb: Duration, usage: &Usage, cost: Option<f64>) {
        let provider = self.provider_label().to_owned();
        let model = self.model_label.clone();
        ::metrics::histogram!(metrics::TIME_TO_FIRST_BYTE, "provider" => provider.clone(), "model" => model.clone())
            .record(ttfb.as_secs_f64());
        for (kind, count) in [
            ("input", usage.input_tokens),
            ("output", usage.output_tokens),
            ("cached", usage.input_tokens_details.cached_tokens),
            ("reasoning", usage.output_tokens_details.reasoning_tokens),
        ] {
            if count > 0 {
                ::metrics::counter!(metrics::TOKENS, "provider" => provider.clone(), "model" => model.clone(), "kind" => kind)
                    .increment(count);
            }
        }
        if let Some(cost) = cost.filter(|c| *c > 0.0) {
            ::metrics::gauge!(metrics::COST, "provider" => provider, "model" => model)
                .increment(cost);
        }
    }

    fn log(&self, outcome: &Outcome<'_>) {
        super::log::request_finished(&super::log::Line {
            request_id: &self.request_id,
            caller: &self.caller,
            model: &self.model,
            upstream_model: self.upstream_model.as_deref().unwrap_or(""),
            provider: self.provider.as_deref().unwrap_or(""),
            attempts: self.attempts,
            failovers: self.failovers,
            retries: self.retries,
            stream: self.stream,
            trace_id: &crate::telemetry::trace_id(&self.span),
            outcome,
        });
    }
}

/// The error's message for the info line, unless it may quote the request (a 400's message
/// can echo a value from the body, an upstream 400 the prompt): those go to debug only.
fn loggable_message(err: &GatewayError) -> String {
    let quotes_input = match err {
        GatewayError::InvalidRequest { .. } => true,
        GatewayError::Upstream(e) => matches!(
            e.kind,
            UpstreamErrorKind::BadRequest
                | UpstreamErrorKind::ContentFilter
                | UpstreamErrorKind::ContextLengthExceeded
        ),
        GatewayError::NotFound { .. }
        | GatewayError::PayloadTooLarge { .. }
        | GatewayError::RequestTimeout { .. }
        | GatewayError::Overloaded { .. }
        | GatewayError::QueueFull { .. }
        | GatewayError::RateLimited { .. }
        | GatewayError::CallerLimit { .. }
        | GatewayError::NoHealthyProvider { .. }
        | GatewayError::ShuttingDown
        | GatewayError::BackgroundLimit { .. }
        | GatewayError::Cancelled
        | GatewayError::StoreUnavailable(_)
        | GatewayError::Unauthorized { .. }
        | GatewayError::AuthUnavailable
        | GatewayError::Internal(_) => false,
    };
    if quotes_input {
        tracing::debug!(code = err.code(), error = %err, "Request error detail.");
        String::new()
    } else {
        err.to_string()
    }
}

impl Drop for RequestObserver {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        self.done = true;
        let latency = self.started.elapsed();
        self.count(CLIENT_CLOSED, latency);
        ::metrics::counter!(metrics::CLIENT_DISCONNECTS, "provider" => self.provider_label().to_owned(), "model" => self.model_label.clone())
            .increment(1);
        crate::telemetry::spans::record_error(&self.span, "client_disconnect");
        self.log(&Outcome {
            status: CLIENT_CLOSED,
            error_code: None,
            error: None,
            response_id: None,
            response_status: None,
            latency,
            ttfb: self.first_byte.unwrap_or(latency),
            usage: Usage::default(),
            cost: None,
            client_disconnect: true,
        });
    }
}
