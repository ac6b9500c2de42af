//! Everything before the first byte reaches the client: for each candidate in the router's
//! order, take a permit, call upstream and wait for the first translated event. A retryable
//! failure (connect error, timeout, 429, 408, 409, 5xx, Anthropic 529) is retried on the same
//! target with exponential backoff and jitter, honouring `retry-after` up to the cap, then the
//! next target is tried; a 429 with `retry-after` moves on at once when another target is left
//! (that model cools on that instance, and the router routes around it). Non-retryable errors
//! return at once. Every attempt shares one deadline, and the drain cancels them. After the
//! first event nothing is ever retried: the stream is committed.

use std::time::Duration;

use gateway_actors::{
    AdmissionError, Candidate, Permit, ReportOutcome, RouteError, Routed, SplitMix64,
};
use tokio::time::Instant;

use super::{
    Engine, ProviderSlot,
    attempt::{Attempt, attempt_call},
};
use crate::{
    api::{CreateResponse, Item, ResponseResource},
    config::RetryPolicy,
    error::{GatewayError, UpstreamErrorKind},
    observability::RequestObserver,
    providers::{Call, upstream_error},
    stream::ResponseContext,
    telemetry::spans,
};
use tracing::Instrument;

/// What every attempt of one request shares.
pub(super) struct Job<'a> {
    /// The caller's request.
    pub request: &'a CreateResponse,
    /// History followed by the new input.
    pub input: &'a [Item],
    /// For logs.
    pub request_id: &'a str,
    /// The model the caller asked for.
    pub model: &'a str,
    /// Response id and creation time (the same on every attempt).
    pub ctx: &'a ResponseContext,
    /// Estimated tokens (charged to `tpm`, corrected afterwards).
    pub tokens: u64,
    /// Retries, backoff and deadline for this model.
    pub policy: RetryPolicy,
}

/// The attempt that won, with the permit it holds.
pub(super) struct Won {
    /// What it produced.
    pub attempt: Attempt,
    /// The concurrency slot, held until the response ends.
    pub permit: Permit,
    /// The provider instance that answered.
    pub provider: String,
    /// The upstream model it answered with (cooled by a later 429).
    pub upstream_model: String,
}

/// How one attempt ended, when it did not win.
enum Miss {
    /// The instance refused admission: try the next candidate.
    Refused(AdmissionError),
    /// A retryable upstream failure.
    Retryable(GatewayError),
    /// Stop: a non-retryable error, the deadline, or the drain.
    Fatal(GatewayError),
}

/// The caller-facing error for a routing refusal: unknown model → 404; everything cooling or
/// at its limit → 429; only open breakers → 503. Never a 500.
pub(super) fn route_error(model: &str, err: RouteError) -> GatewayError {
    match err {
        RouteError::UnknownModel(message) => GatewayError::NotFound {
            message,
            param: Some("model".to_owned()),
            code: "model_not_found",
        },
        RouteError::AllUnavailable {
            retry_after,
            rate_limited: true,
        } => GatewayError::RateLimited {
            model: model.to_owned(),
            retry_after,
        },
        RouteError::AllUnavailable {
            retry_after,
            rate_limited: false,
        } => GatewayError::NoHealthyProvider {
            model: model.to_owned(),
            retry_after,
        },
    }
}

/// A refused admission as the error it would be on its own (for logs and metrics).
fn admission_error(provider: &str, model: &str, err: &AdmissionError) -> GatewayError {
    match *err {
        AdmissionError::QueueFull { retry_after } => GatewayError::QueueFull {
            provider: provider.to_owned(),
            retry_after,
        },
        AdmissionError::CircuitOpen { retry_after } => GatewayError::NoHealthyProvider {
            model: model.to_owned(),
            retry_after,
        },
        AdmissionError::RateLimited { retry_after } => GatewayError::RateLimited {
            model: model.to_owned(),
            retry_after,
        },
    }
}

/// Whether a failure says the provider itself is unhealthy (feeds the breaker).
pub(super) fn counts_against_health(err: &GatewayError) -> bool {
    matches!(
        err,
        GatewayError::Upstream(e) if matches!(
            e.kind,
            UpstreamErrorKind::Server | UpstreamErrorKind::Timeout | UpstreamErrorKind::Connect | UpstreamErrorKind::Overloaded
        )
    )
}

/// The report for a stream that failed after its first byte: every upstream failure counts
/// against the instance's health, whatever the provider or how the stream broke (a rate limit
/// still only cools the model); the drain or the gateway's own errors give no verdict.
pub(super) fn outcome_after_first_byte(err: &GatewayError, model: &str) -> ReportOutcome {
    match err {
        GatewayError::Upstream(e) if e.kind == UpstreamErrorKind::RateLimited => {
            ReportOutcome::RateLimited {
                model: model.to_owned(),
                retry_after: e.retry_after,
            }
        }
        GatewayError::Upstream(_) => ReportOutcome::Failure,
        _ => ReportOutcome::Abandoned,
    }
}

/// The report for a failed attempt on `model`.
fn outcome_of(err: &GatewayError, model: &str) -> ReportOutcome {
    match err {
        GatewayError::Upstream(e) if e.kind == UpstreamErrorKind::RateLimited => {
            ReportOutcome::RateLimited {
                model: model.to_owned(),
                retry_after: e.retry_after,
            }
        }
        err if counts_against_health(err) => ReportOutcome::Failure,
        _ => ReportOutcome::Abandoned,
    }
}

fn timeout_error(provider: &str) -> GatewayError {
    upstream_error::timeout(provider).into()
}

/// Admission refusals seen so far, summarised into one error when nothing else happened.
#[derive(Default)]
struct Refusals {
    /// Soonest end of a 429 cooling or local limit.
    limited: Option<Duration>,
    /// A full queue (provider, suggested wait).
    full: Option<(String, Duration)>,
    /// Soonest half-open of an open breaker.
    open: Option<Duration>,
}

impl Refusals {
    fn add(&mut self, provider: &str, err: AdmissionError) {
        let min = |slot: &mut Option<Duration>, wait: Duration| {
            *slot = Some(slot.map_or(wait, |w| w.min(wait)));
        };
        match err {
            AdmissionError::RateLimited { retry_after } => min(&mut self.limited, retry_after),
            AdmissionError::CircuitOpen { retry_after } => min(&mut self.open, retry_after),
            AdmissionError::QueueFull { retry_after } => {
                if self.full.as_ref().is_none_or(|(_, w)| retry_after < *w) {
                    self.full = Some((provider.to_owned(), retry_after));
                }
            }
        }
    }

    /// Cooling or limited anywhere → 429 with the soonest wait; else a full queue → 429; else
    /// open breakers → 503.
    fn into_error(self, model: &str) -> GatewayError {
        let full_wait = self.full.as_ref().map(|(_, w)| *w);
        match (self.limited, self.full, self.open) {
            (Some(limited), _, _) => GatewayError::RateLimited {
                model: model.to_owned(),
                retry_after: full_wait.map_or(limited, |w| w.min(limited)),
            },
            (None, Some((provider, retry_after)), _) => GatewayError::QueueFull {
                provider,
                retry_after,
            },
            (None, None, open) => GatewayError::NoHealthyProvider {
                model: model.to_owned(),
                retry_after: open.unwrap_or(Duration::from_secs(1)),
            },
        }
    }
}

impl Engine {
    /// Tries the routed candidates in order (with retries) until one produces its first event.
    pub(super) async fn try_candidates(
        &self,
        job: &Job<'_>,
        routed: &Routed,
        observer: &mut RequestObserver,
    ) -> Result<Won, GatewayError> {
        let deadline = Instant::now() + job.policy.deadline;
        let candidates = routed.candidates.as_slice();
        // What the router skipped counts too: the answer names the soonest wait of all.
        let mut refusals = Refusals {
            limited: routed.skipped_limited,
            full: None,
            open: routed.skipped_open,
        };
        let mut last: Option<GatewayError> = None;
        let mut jitter = SplitMix64::new(uuid::Uuid::new_v4().as_u64_pair().0);
        let request_id = job.request_id;
        for (index, candidate) in candidates.iter().enumerate() {
            let Some(slot) = self.providers.get(&candidate.provider) else {
                continue;
            };
            let provider = candidate.provider.as_str();
            let others_left = index + 1 < candidates.len();
            let mut retry = 0;
            loop {
                let span = spans::attempt(
                    observer.span(),
                    observer.attempts() + 1,
                    &slot.provider.config,
                    &candidate.model,
                );
                let outcome = self
                    .attempt(job, slot, candidate, deadline, observer)
                    .instrument(span.clone())
                    .await;
                match &outcome {
                    Ok(_) => {}
                    Err(Miss::Refused(e)) => spans::record_error(&span, spans::refusal_type(e)),
                    Err(Miss::Retryable(e) | Miss::Fatal(e)) => {
                        spans::record_error(&span, e.code())
                    }
                }
                let err = match outcome {
                    Ok(won) => return Ok(won),
                    Err(Miss::Fatal(err)) => return Err(err),
                    Err(Miss::Refused(err)) => {
                        tracing::warn!(request_id, provider, reason = %err, "Provider refused admission; trying the next candidate.");
                        refusals.add(provider, err);
                        break;
                    }
                    Err(Miss::Retryable(err)) => err,
                };
                let cooling = matches!(&err, GatewayError::Upstream(e)
                    if e.kind == UpstreamErrorKind::RateLimited && e.retry_after.is_some());
                let delay = if cooling && others_left {
                    None
                } else {
                    job.policy.delay(retry, err.retry_after(), jitter.unit())
                };
                let delay = delay.filter(|d| Instant::now() + *d < deadline);
                match delay {
                    Some(wait) => {
                        tracing::warn!(request_id, provider, retry = retry + 1, wait_ms = wait.as_millis() as u64, error = %err, "Upstream attempt failed; retrying the same target.");
                        last = Some(err);
                        tokio::select! {
                            () = self.drain.closed() => return Err(GatewayError::ShuttingDown),
                            () = tokio::time::sleep(wait) => {}
                        }
                        retry += 1;
                    }
                    None => {
                        tracing::warn!(request_id, provider, error = %err, "Upstream attempt failed; failing over.");
                        last = Some(err);
                        break;
                    }
                }
            }
            if Instant::now() >= deadline {
                break;
            }
        }
        Err(last.unwrap_or_else(|| refusals.into_error(job.model)))
    }

    /// One attempt on one candidate: admission, then the call up to its first event.
    async fn attempt(
        &self,
        job: &Job<'_>,
        slot: &ProviderSlot,
        candidate: &Candidate,
        deadline: Instant,
        observer: &mut RequestObserver,
    ) -> Result<Won, Miss> {
        let provider = candidate.provider.as_str();
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(Miss::Fatal(timeout_error(provider)));
        }
        observer.attempt(provider, &candidate.model);
        let acquire = slot.gate.acquire(&candidate.model, job.tokens);
        let Ok(admitted) = tokio::time::timeout(remaining, acquire).await else {
            return Err(Miss::Fatal(timeout_error(provider)));
        };
        let mut permit = match admitted {
            Ok(permit) => permit,
            Err(refusal) => {
                observer.attempt_failed(&admission_error(provider, job.model, &refusal));
                return Err(Miss::Refused(refusal));
            }
        };
        let call = Call {
            request: job.request,
            input: job.input,
            model: &candidate.model,
            stream: job.request.is_stream(),
            request_id: job.request_id,
            sealer: &self.config.server.reasoning_key,
        };
        let skeleton = ResponseResource::in_progress(
            job.request,
            &job.ctx.response_id,
            job.model,
            job.ctx.created_at,
        );
        let started = Instant::now();
        // Time to first byte: the provider's request_timeout, within the overall deadline.
        let limit = slot
            .provider
            .config
            .request_timeout
            .min(deadline.saturating_duration_since(started));
        let result = tokio::select! {
            () = self.drain.closed() => return Err(Miss::Fatal(GatewayError::ShuttingDown)),
            result = tokio::time::timeout(limit, attempt_call(slot, call, skeleton, job.ctx, self.config.tools.unsupported)) => {
                result.unwrap_or_else(|_| Err(timeout_error(provider)))
            }
        };
        match result {
            Ok(attempt) => {
                let ttfb = started.elapsed();
                spans::record_ttfb(ttfb);
                match &attempt {
                    // A whole answer: the call succeeded.
                    Attempt::Json(_) => permit.report(ReportOutcome::Success { ttfb }),
                    // A stream succeeds only when it completes (reported by the live stream).
                    Attempt::Stream(_) => permit.first_byte(ttfb),
                }
                Ok(Won {
                    attempt,
                    permit,
                    provider: candidate.provider.clone(),
                    upstream_model: candidate.model.clone(),
                })
            }
            Err(err) => {
                permit.report(outcome_of(&err, &candidate.model));
                permit.settle_tokens(0);
                drop(permit);
                observer.attempt_failed(&err);
                if let GatewayError::Upstream(e) = &err {
                    tracing::debug!(request_id = job.request_id, provider = %e.provider, detail = %e.detail, "Upstream failure detail.");
                }
                if err.is_retryable() {
                    Err(Miss::Retryable(err))
                } else {
                    Err(Miss::Fatal(err))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::UpstreamError;

    #[test]
    fn refusals_prefer_429_with_the_soonest_wait_and_never_500() {
        let mut r = Refusals::default();
        r.add(
            "a",
            AdmissionError::CircuitOpen {
                retry_after: Duration::from_secs(1),
            },
        );
        r.add(
            "b",
            AdmissionError::RateLimited {
                retry_after: Duration::from_secs(9),
            },
        );
        r.add(
            "c",
            AdmissionError::RateLimited {
                retry_after: Duration::from_secs(4),
            },
        );
        let err = r.into_error("m");
        assert_eq!(err.status().as_u16(), 429);
        assert_eq!(err.retry_after(), Some(Duration::from_secs(4)));

        let mut full = Refusals::default();
        full.add(
            "a",
            AdmissionError::QueueFull {
                retry_after: Duration::from_secs(1),
            },
        );
        full.add(
            "b",
            AdmissionError::CircuitOpen {
                retry_after: Duration::from_secs(1),
            },
        );
        assert_eq!(full.into_error("m").code(), "provider_queue_full");

        let mut open = Refusals::default();
        open.add(
            "a",
            AdmissionError::CircuitOpen {
                retry_after: Duration::from_secs(3),
            },
        );
        assert_eq!(open.into_error("m").status().as_u16(), 503);
        assert_eq!(Refusals::default().into_error("m").status().as_u16(), 503);
    }

    #[test]
    fn a_429_cools_the_model_and_5xx_count_against_health() {
        let limited: GatewayError = UpstreamError::new("p", UpstreamErrorKind::RateLimited, "x")
            .with_retry_after(Some(Duration::from_secs(2)))
            .into();
        assert_eq!(
            outcome_of(&limited, "m"),
            ReportOutcome::RateLimited {
                model: "m".into(),
                retry_after: Some(Duration::from_secs(2))
            }
        );
        let server: GatewayError = UpstreamError::new("p", UpstreamErrorKind::Server, "x").into();
        assert_eq!(outcome_of(&server, "m"), ReportOutcome::Failure);
        let bad: GatewayError = UpstreamError::new("p", UpstreamErrorKind::BadRequest, "x").into();
        assert_eq!(outcome_of(&bad, "m"), ReportOutcome::Abandoned);
    }
}
