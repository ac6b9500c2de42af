//! Everything before the first byte reaches the client: for each candidate in the router's
//! order, take a permit, call upstream and wait for the first translated event. A retryable
//! failure (connect error, timeout, 429, 408, 409, 5xx, Anthropic 529) is retried on the same
//! target with exponential backoff and jitter, honouring `retry-after` up to the cap, then the
//! next target is tried; a 429 with `retry-after` moves on at once when another target is left
//! (that model cools on that instance, and the router routes around it). Non-retryable errors
//! return at once. Every attempt shares one deadline, and the drain cancels them. After the
//! first event nothing is ever retried: the stream is committed.

mod refusals;

use std::time::Duration;

use gateway_actors::{AdmissionError, Candidate, Permit, ReportOutcome, Routed, SplitMix64};
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

pub(super) use self::refusals::route_error;
use self::refusals::{Refusals, admission_error};

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

/// What the failover loop carries from one candidate to the next.
struct Round {
    /// Shared by every attempt of the request.
    deadline: Instant,
    /// Admission refusals so far (the router's skips included).
    refusals: Refusals,
    /// The last retryable failure, which the caller gets when nothing wins.
    last: Option<GatewayError>,
    /// Backoff jitter.
    jitter: SplitMix64,
}

impl Engine {
    /// Tries the routed candidates in order (with retries) until one produces its first event.
    pub(super) async fn try_candidates(
        &self,
        job: &Job<'_>,
        routed: &Routed,
        observer: &mut RequestObserver,
    ) -> Result<Won, GatewayError> {
        let candidates = routed.candidates.as_slice();
        let mut round = Round {
            deadline: Instant::now() + job.policy.deadline,
            // What the router skipped counts too: the answer names the soonest wait of all.
            refusals: Refusals {
                limited: routed.skipped_limited,
                full: None,
                open: routed.skipped_open,
            },
            last: None,
            jitter: SplitMix64::new(uuid::Uuid::new_v4().as_u64_pair().0),
        };
        for (index, candidate) in candidates.iter().enumerate() {
            let Some(slot) = self.providers.get(&candidate.provider) else {
                continue;
            };
            let others_left = index + 1 < candidates.len();
            let tried = self
                .try_candidate(job, slot, candidate, others_left, &mut round, observer)
                .await?;
            if let Some(won) = tried {
                return Ok(won);
            }
            if Instant::now() >= round.deadline {
                break;
            }
        }
        Err(round
            .last
            .unwrap_or_else(|| round.refusals.into_error(job.model)))
    }

    /// One candidate, retried with backoff while its failures are retryable: `Some` when it
    /// won, `None` to fail over to the next, an error to stop.
    async fn try_candidate(
        &self,
        job: &Job<'_>,
        slot: &ProviderSlot,
        candidate: &Candidate,
        others_left: bool,
        round: &mut Round,
        observer: &mut RequestObserver,
    ) -> Result<Option<Won>, GatewayError> {
        let request_id = job.request_id;
        let provider = candidate.provider.as_str();
        let mut retry = 0;
        loop {
            let err = match self
                .traced_attempt(job, slot, candidate, round.deadline, observer)
                .await
            {
                Ok(won) => return Ok(Some(won)),
                Err(Miss::Fatal(err)) => return Err(err),
                Err(Miss::Refused(err)) => {
                    tracing::warn!(request_id, provider, reason = %err, "Provider refused admission; trying the next candidate.");
                    round.refusals.add(provider, err);
                    return Ok(None);
                }
                Err(Miss::Retryable(err)) => err,
            };
            let cooling = matches!(&err, GatewayError::Upstream(e)
                if e.kind == UpstreamErrorKind::RateLimited && e.retry_after.is_some());
            let delay = if cooling && others_left {
                None
            } else {
                job.policy
                    .delay(retry, err.retry_after(), round.jitter.unit())
            };
            let delay = delay.filter(|d| Instant::now() + *d < round.deadline);
            match delay {
                Some(wait) => {
                    tracing::warn!(request_id, provider, retry = retry + 1, wait_ms = wait.as_millis() as u64, error = %err, "Upstream attempt failed; retrying the same target.");
                    round.last = Some(err);
                    tokio::select! {
                        () = self.drain.closed() => return Err(GatewayError::ShuttingDown),
                        () = tokio::time::sleep(wait) => {}
                    }
                    retry += 1;
                }
                None => {
                    tracing::warn!(request_id, provider, error = %err, "Upstream attempt failed; failing over.");
                    round.last = Some(err);
                    return Ok(None);
                }
            }
        }
    }

    /// [`Self::attempt`] inside its own span, which records why it missed.
    async fn traced_attempt(
        &self,
        job: &Job<'_>,
        slot: &ProviderSlot,
        candidate: &Candidate,
        deadline: Instant,
        observer: &mut RequestObserver,
    ) -> Result<Won, Miss> {
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
            Err(Miss::Retryable(e) | Miss::Fatal(e)) => spans::record_error(&span, e.code()),
        }
        outcome
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
        let mut permit = self.admit(job, slot, candidate, deadline, observer).await?;
        match self.first_event(job, slot, candidate, deadline).await? {
            Ok((attempt, ttfb)) => {
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
            Err(err) => Err(missed(job, permit, &candidate.model, observer, err)),
        }
    }

    /// A permit on `candidate`'s instance, within what is left of the deadline.
    async fn admit(
        &self,
        job: &Job<'_>,
        slot: &ProviderSlot,
        candidate: &Candidate,
        deadline: Instant,
        observer: &mut RequestObserver,
    ) -> Result<Permit, Miss> {
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
        admitted.map_err(|refusal| {
            observer.attempt_failed(&admission_error(provider, job.model, &refusal));
            Miss::Refused(refusal)
        })
    }

    /// The upstream call up to its first event, with its time to first byte. The drain stops
    /// it (a miss); a failed or late call is the inner error, for the permit to report.
    async fn first_event(
        &self,
        job: &Job<'_>,
        slot: &ProviderSlot,
        candidate: &Candidate,
        deadline: Instant,
    ) -> Result<Result<(Attempt, Duration), GatewayError>, Miss> {
        let provider = candidate.provider.as_str();
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
        Ok(result.map(|attempt| (attempt, started.elapsed())))
    }
}

/// A failed call: its permit reports the outcome and frees the slot, and the failure becomes
/// a retryable or a fatal miss.
fn missed(
    job: &Job<'_>,
    mut permit: Permit,
    model: &str,
    observer: &mut RequestObserver,
    err: GatewayError,
) -> Miss {
    permit.report(outcome_of(&err, model));
    permit.settle_tokens(0);
    drop(permit);
    observer.attempt_failed(&err);
    if let GatewayError::Upstream(e) = &err {
        tracing::debug!(request_id = job.request_id, provider = %e.provider, detail = %e.detail, "Upstream failure detail.");
    }
    if err.is_retryable() {
        Miss::Retryable(err)
    } else {
        Miss::Fatal(err)
    }
}

#[cfg(test)]
mod tests;
