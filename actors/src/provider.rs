//! `ProviderActor`: one per upstream instance. Owns the concurrency permits (with a bounded
//! wait queue) and the instance's health: breaker, 429 cooling, local `rpm`/`tpm` buckets and the
//! time-to-first-byte average. It hands out permits; callers do the I/O and report outcomes back,
//! so the actor never awaits an upstream call. Every change the router cares about (breaker,
//! cooling, limits, calls in flight, latency) is sent to it as an [`InstanceUpdate`].

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use actix::prelude::*;
use tokio::{
    sync::{OwnedSemaphorePermit, Semaphore},
    time::Instant,
};

use crate::{
    breaker::{Breaker, BreakerState},
    health::{Availability, InstanceHealth, Refusal},
    router::InstanceUpdate,
};

/// Asks for a permit to call `model` on this provider with about `tokens` tokens of input.
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<Permit, AdmissionError>")]
pub struct Acquire {
    /// The upstream model (429 cooling is per model).
    pub model: String,
    /// Estimated tokens, charged to the `tpm` bucket and corrected later.
    pub tokens: u64,
}

/// Reports how a call that held a permit went.
#[derive(Message, Debug, Clone, PartialEq, Eq)]
#[rtype(result = "()")]
pub enum ReportOutcome {
    /// The upstream answered; `ttfb` is the time to its first event.
    Success {
        /// Time to first byte (feeds the latency average).
        ttfb: Duration,
    },
    /// The upstream failed in a way that counts against its health.
    Failure,
    /// The upstream answered 429; with a hint, `model` cools for that long.
    RateLimited {
        /// The upstream model that was limited.
        model: String,
        /// The upstream's `retry-after`.
        retry_after: Option<Duration>,
    },
    /// No verdict (the client left, or the failure was the caller's fault).
    Abandoned,
}

/// Asks for the provider's live status.
#[derive(Message)]
#[rtype(result = "ProviderStatus")]
pub struct Status;

/// A permit was dropped (its slot is already free).
#[derive(Message)]
#[rtype(result = "()")]
struct Released;

/// Corrects the token charge (`refund` < 0: the call used more than estimated).
#[derive(Message)]
#[rtype(result = "()")]
struct RefundTokens {
    refund: i64,
}

/// An admission that never reached the upstream (the wait for a slot failed).
#[derive(Message)]
#[rtype(result = "()")]
struct UndoAdmit {
    tokens: u64,
}

/// Why a permit was refused.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum AdmissionError {
    /// The breaker is open.
    #[error("circuit open for {retry_after:?}")]
    CircuitOpen {
        /// Until the breaker half-opens.
        retry_after: Duration,
    },
    /// Cooling after an upstream 429, or over the local `rpm`/`tpm` limit.
    #[error("rate limited for {retry_after:?}")]
    RateLimited {
        /// Until a call fits again.
        retry_after: Duration,
    },
    /// The wait queue is full, or the wait timed out.
    #[error("queue full")]
    QueueFull {
        /// Suggested wait.
        retry_after: Duration,
    },
}

impl From<Refusal> for AdmissionError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::CircuitOpen(retry_after) => Self::CircuitOpen { retry_after },
            Refusal::RateLimited(retry_after) => Self::RateLimited { retry_after },
        }
    }
}

/// Limits of one provider instance.
#[derive(Debug, Clone)]
pub struct ProviderLimits {
    /// Concurrent calls.
    pub max_concurrency: usize,
    /// Callers allowed to wait for a permit.
    pub max_queue: usize,
    /// Longest wait for a permit.
    pub queue_timeout: Duration,
    /// Consecutive failures that open the breaker.
    pub failure_threshold: u32,
    /// Breaker cooldown.
    pub cooldown: Duration,
    /// Local requests-per-minute limit.
    pub rpm: Option<u64>,
    /// Local tokens-per-minute limit.
    pub tpm: Option<u64>,
}

/// A live view of one provider.
#[derive(Debug, Clone)]
pub struct ProviderStatus {
    /// Instance name.
    pub name: String,
    /// Calls holding a permit.
    pub in_flight: usize,
    /// Callers waiting for a permit.
    pub waiting: usize,
    /// Breaker state.
    pub breaker: BreakerState,
    /// Recent time to first byte.
    pub ttfb: Option<Duration>,
}

/// A concurrency slot. Hold it for the whole upstream call, stream included; dropping it frees
/// the slot. Report the outcome once the first byte (or the failure) is known.
#[derive(Debug)]
pub struct Permit {
    slot: Option<OwnedSemaphorePermit>,
    actor: Addr<ProviderActor>,
    reported: bool,
    /// Tokens charged to the `tpm` bucket (`None` without a `tpm` limit).
    tokens: Option<u64>,
    settled: bool,
}

impl Permit {
    fn new(slot: OwnedSemaphorePermit, actor: Addr<ProviderActor>, tokens: Option<u64>) -> Self {
        Self {
            slot: Some(slot),
            actor,
            reported: false,
            tokens,
            settled: false,
        }
    }

    /// Reports the call's outcome (only the first report counts).
    pub fn report(&mut self, outcome: ReportOutcome) {
        if !self.reported {
            self.reported = true;
            self.actor.do_send(outcome);
        }
    }

    /// Corrects the estimated token charge with the tokens really used (only once; nothing to
    /// do without a `tpm` limit).
    pub fn settle_tokens(&mut self, used: u64) {
        if let Some(charged) = self.tokens.filter(|_| !self.settled) {
            self.settled = true;
            let refund = i128::from(charged) - i128::from(used);
            let refund =
                i64::try_from(refund).unwrap_or(if refund < 0 { i64::MIN } else { i64::MAX });
            if refund != 0 {
                self.actor.do_send(RefundTokens { refund });
            }
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        // Free the slot before telling the actor, so its in-flight count is already right.
        drop(self.slot.take());
        self.report(ReportOutcome::Abandoned);
        self.actor.do_send(Released);
    }
}

/// Decrements the wait counter however the wait ends.
struct WaitGuard(Arc<AtomicUsize>);

impl Drop for WaitGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Retry hint when the queue is full: callers should back off briefly.
const QUEUE_FULL_RETRY_AFTER: Duration = Duration::from_secs(1);

/// The per-provider actor.
pub struct ProviderActor {
    name: String,
    limits: ProviderLimits,
    slots: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    health: InstanceHealth,
    last_published: Option<Availability>,
    router: Option<Recipient<InstanceUpdate>>,
}

impl ProviderActor {
    /// A provider actor; `router` is told whenever what it routes by changes.
    pub fn new(
        name: impl Into<String>,
        limits: ProviderLimits,
        router: Option<Recipient<InstanceUpdate>>,
    ) -> Self {
        let breaker = Breaker::new(limits.failure_threshold, limits.cooldown);
        Self {
            name: name.into(),
            slots: Arc::new(Semaphore::new(limits.max_concurrency)),
            waiting: Arc::new(AtomicUsize::new(0)),
            health: InstanceHealth::new(breaker, limits.rpm, limits.tpm, Instant::now()),
            last_published: None,
            limits,
            router,
        }
    }

    fn in_flight(&self) -> usize {
        self.limits
            .max_concurrency
            .saturating_sub(self.slots.available_permits())
    }

    /// Sends the router the instance's availability when it changed.
    fn publish(&mut self, now: Instant) {
        let availability = self.health.availability(self.in_flight(), now);
        if self.last_published.as_ref() == Some(&availability) {
            return;
        }
        self.last_published = Some(availability.clone());
        if let Some(router) = &self.router {
            router.do_send(InstanceUpdate {
                provider: self.name.clone(),
                availability,
            });
        }
    }
}

impl Actor for ProviderActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Acquire requests are answered immediately (waits happen outside the mailbox),
        // so a large mailbox only absorbs bursts.
        ctx.set_mailbox_capacity(4096);
    }
}

impl Handler<Acquire> for ProviderActor {
    type Result = ResponseFuture<Result<Permit, AdmissionError>>;

    fn handle(&mut self, msg: Acquire, ctx: &mut Self::Context) -> Self::Result {
        let now = Instant::now();
        let actor = ctx.address();
        // A request above the whole minute's quota is charged the quota (it waits for a full
        // bucket), and that is what its usage later corrects.
        let tokens = self
            .limits
            .tpm
            .map_or(msg.tokens, |tpm| msg.tokens.min(tpm));
        let admitted = self.health.admit(&msg.model, tokens, now);
        if let Err(refusal) = admitted {
            self.publish(now);
            return Box::pin(async move { Err(refusal.into()) });
        }
        let charged = self.limits.tpm.map(|_| tokens);
        if let Ok(slot) = self.slots.clone().try_acquire_owned() {
            self.publish(now);
            let permit = Permit::new(slot, actor, charged);
            return Box::pin(async move { Ok(permit) });
        }
        if self.waiting.load(Ordering::Relaxed) >= self.limits.max_queue {
            self.health.undo_admit(tokens, now);
            self.publish(now);
            return Box::pin(async {
                Err(AdmissionError::QueueFull {
                    retry_after: QUEUE_FULL_RETRY_AFTER,
                })
            });
        }
        self.publish(now);
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let guard = WaitGuard(self.waiting.clone());
        let slots = self.slots.clone();
        let timeout = self.limits.queue_timeout;
        Box::pin(async move {
            let waited = tokio::time::timeout(timeout, slots.acquire_owned()).await;
            drop(guard);
            match waited {
                Ok(Ok(slot)) => Ok(Permit::new(slot, actor, charged)),
                Ok(Err(_)) | Err(_) => {
                    actor.do_send(UndoAdmit { tokens });
                    Err(AdmissionError::QueueFull {
                        retry_after: QUEUE_FULL_RETRY_AFTER,
                    })
                }
            }
        })
    }
}

impl Handler<ReportOutcome> for ProviderActor {
    type Result = ();

    fn handle(&mut self, outcome: ReportOutcome, _: &mut Self::Context) {
        let now = Instant::now();
        self.health.record(&outcome, now);
        self.publish(now);
    }
}

impl Handler<Released> for ProviderActor {
    type Result = ();

    fn handle(&mut self, _: Released, _: &mut Self::Context) {
        self.publish(Instant::now());
    }
}

impl Handler<RefundTokens> for ProviderActor {
    type Result = ();

    fn handle(&mut self, msg: RefundTokens, _: &mut Self::Context) {
        self.health.refund_tokens(msg.refund, Instant::now());
    }
}

impl Handler<UndoAdmit> for ProviderActor {
    type Result = ();

    fn handle(&mut self, msg: UndoAdmit, _: &mut Self::Context) {
        let now = Instant::now();
        self.health.undo_admit(msg.tokens, now);
        self.publish(now);
    }
}

impl Handler<Status> for ProviderActor {
    type Result = MessageResult<Status>;

    fn handle(&mut self, _: Status, _: &mut Self::Context) -> Self::Result {
        let now = Instant::now();
        MessageResult(ProviderStatus {
            name: self.name.clone(),
            in_flight: self.in_flight(),
            waiting: self.waiting.load(Ordering::Relaxed),
            breaker: self.health.breaker().state(now),
            ttfb: self.health.ttfb(),
        })
    }
}

#[cfg(test)]
mod tests;
