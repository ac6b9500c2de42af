//! `ProviderActor`: one per upstream instance. Owns the concurrency permits (with a bounded
//! wait queue) and the circuit breaker. It hands out permits; callers do the I/O and report
//! outcomes back with `ReportOutcome`, so the actor never awaits an upstream call.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use actix::prelude::*;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::{
    breaker::{Breaker, BreakerState},
    router::BreakerChanged,
};

/// Asks for a permit to call this provider.
#[derive(Message)]
#[rtype(result = "Result<Permit, AdmissionError>")]
pub struct Acquire;

/// Reports how a call that held a permit went (feeds the breaker).
#[derive(Message, Debug, Clone, Copy, PartialEq, Eq)]
#[rtype(result = "()")]
pub enum ReportOutcome {
    /// The upstream answered.
    Success,
    /// The upstream failed in a way that counts against its health.
    Failure,
    /// No verdict (the client left, or the failure was the caller's fault).
    Abandoned,
}

/// Asks for the provider's live status.
#[derive(Message)]
#[rtype(result = "ProviderStatus")]
pub struct Status;

/// Why a permit was refused.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum AdmissionError {
    /// The breaker is open.
    #[error("circuit open for {retry_after:?}")]
    CircuitOpen {
        /// Until the breaker half-opens.
        retry_after: Duration,
    },
    /// The wait queue is full, or the wait timed out.
    #[error("queue full")]
    QueueFull {
        /// Suggested wait.
        retry_after: Duration,
    },
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
}

/// A concurrency slot. Hold it for the whole upstream call, stream included; dropping it frees
/// the slot. Report the outcome once the first byte (or the failure) is known.
#[derive(Debug)]
pub struct Permit {
    _slot: OwnedSemaphorePermit,
    actor: Addr<ProviderActor>,
    reported: bool,
}

impl Permit {
    /// Reports the call's outcome (only the first report counts).
    pub fn report(&mut self, outcome: ReportOutcome) {
        if !self.reported {
            self.reported = true;
            self.actor.do_send(outcome);
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.report(ReportOutcome::Abandoned);
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
    breaker: Breaker,
    last_reported: BreakerState,
    router: Option<Recipient<BreakerChanged>>,
}

impl ProviderActor {
    /// A provider actor; `router` is told whenever the breaker opens or closes.
    pub fn new(
        name: impl Into<String>,
        limits: ProviderLimits,
        router: Option<Recipient<BreakerChanged>>,
    ) -> Self {
        Self {
            name: name.into(),
            slots: Arc::new(Semaphore::new(limits.max_concurrency)),
            waiting: Arc::new(AtomicUsize::new(0)),
            breaker: Breaker::new(limits.failure_threshold, limits.cooldown),
            last_reported: BreakerState::Closed,
            limits,
            router,
        }
    }

    fn publish_breaker(&mut self, now: Instant) {
        let state = self.breaker.state(now);
        if state != self.last_reported {
            self.last_reported = state;
            if let Some(router) = &self.router {
                router.do_send(BreakerChanged {
                    provider: self.name.clone(),
                    open_until: self.breaker.retry_after(now).map(|wait| now + wait),
                });
            }
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

    fn handle(&mut self, _: Acquire, ctx: &mut Self::Context) -> Self::Result {
        let now = Instant::now();
        let actor = ctx.address();
        if let Err(retry_after) = self.breaker.admit(now) {
            return Box::pin(async move { Err(AdmissionError::CircuitOpen { retry_after }) });
        }
        self.publish_breaker(now);
        if let Ok(slot) = self.slots.clone().try_acquire_owned() {
            let permit = Permit {
                _slot: slot,
                actor,
                reported: false,
            };
            return Box::pin(async move { Ok(permit) });
        }
        if self.waiting.load(Ordering::Relaxed) >= self.limits.max_queue {
            self.breaker.release_probe();
            return Box::pin(async {
                Err(AdmissionError::QueueFull {
                    retry_after: QUEUE_FULL_RETRY_AFTER,
                })
            });
        }
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let guard = WaitGuard(self.waiting.clone());
        let slots = self.slots.clone();
        let timeout = self.limits.queue_timeout;
        Box::pin(async move {
            let waited = tokio::time::timeout(timeout, slots.acquire_owned()).await;
            drop(guard);
            match waited {
                Ok(Ok(slot)) => Ok(Permit {
                    _slot: slot,
                    actor,
                    reported: false,
                }),
                Ok(Err(_)) | Err(_) => {
                    actor.do_send(ReportOutcome::Abandoned);
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
        match outcome {
            ReportOutcome::Success => self.breaker.record(true, now),
            ReportOutcome::Failure => self.breaker.record(false, now),
            ReportOutcome::Abandoned => self.breaker.release_probe(),
        }
        self.publish_breaker(now);
    }
}

impl Handler<Status> for ProviderActor {
    type Result = MessageResult<Status>;

    fn handle(&mut self, _: Status, _: &mut Self::Context) -> Self::Result {
        MessageResult(ProviderStatus {
            name: self.name.clone(),
            in_flight: self.limits.max_concurrency - self.slots.available_permits(),
            waiting: self.waiting.load(Ordering::Relaxed),
            breaker: self.breaker.state(Instant::now()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_concurrency: usize, max_queue: usize) -> ProviderLimits {
        ProviderLimits {
            max_concurrency,
            max_queue,
            queue_timeout: Duration::from_millis(200),
            failure_threshold: 2,
            cooldown: Duration::from_secs(60),
        }
    }

    #[actix_rt::test]
    async fn full_queue_is_refused_at_once() {
        let actor = ProviderActor::new("p", limits(1, 1), None).start();
        let held = actor.send(Acquire).await.unwrap().unwrap();
        let waiter = actor.send(Acquire);
        let waiter = actix_rt::spawn(waiter);
        tokio::time::sleep(Duration::from_millis(20)).await;
        let refused = actor.send(Acquire).await.unwrap();
        assert!(matches!(refused, Err(AdmissionError::QueueFull { .. })));
        drop(held);
        assert!(
            waiter.await.unwrap().unwrap().is_ok(),
            "the waiter gets the freed slot"
        );
    }

    #[actix_rt::test]
    async fn failures_open_the_breaker() {
        let actor = ProviderActor::new("p", limits(4, 4), None).start();
        for _ in 0..2 {
            let mut permit = actor.send(Acquire).await.unwrap().unwrap();
            permit.report(ReportOutcome::Failure);
        }
        let status = actor.send(Status).await.unwrap();
        assert_eq!(status.breaker, BreakerState::Open);
        let refused = actor.send(Acquire).await.unwrap();
        assert!(matches!(refused, Err(AdmissionError::CircuitOpen { .. })));
    }

    #[actix_rt::test]
    async fn waiting_too_long_is_refused() {
        let actor = ProviderActor::new("p", limits(1, 4), None).start();
        let _held = actor.send(Acquire).await.unwrap().unwrap();
        let refused = actor.send(Acquire).await.unwrap();
        assert!(matches!(refused, Err(AdmissionError::QueueFull { .. })));
        assert_eq!(actor.send(Status).await.unwrap().waiting, 0);
    }
}
