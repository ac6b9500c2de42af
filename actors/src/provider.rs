//! `ProviderActor` and its [`ProviderGate`]: one per upstream instance. The gate owns the
//! concurrency permits (with a bounded wait queue) and the instance's health: breaker, 429
//! cooling, local `rpm`/`tpm` buckets and the time-to-first-byte average. Callers take permits
//! from the gate in their own worker (a short lock; a wait for a free slot is a semaphore wait
//! in the caller's task) and report outcomes through the permit, so a request costs no mailbox
//! round trip and the actor never awaits an upstream call. Changes the router skips instances by
//! (breaker, cooling, limits) are published to it as [`InstanceUpdate`]s; calls in flight and
//! latency are read live from the gate ([`crate::RouteTable::register`]). The actor holds the
//! gate and answers the same operations as messages. In fleet mode the gate's `rpm`/`tpm` draw
//! from a [`LeasePool`], its 429 cooling and breaker trips are reported as [`Tripped`] to the
//! fleet actor, and the other replicas' trips come back as [`ApplyTrip`].

use std::{
    sync::{
        Arc, Mutex, MutexGuard, OnceLock, PoisonError,
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
    health::{Availability, InstanceHealth, InstanceUpdate, Refusal, ReportOutcome},
    lease::LeasePool,
    strategy::InstanceStats,
};

/// What tripped on one replica and should hold on every replica.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trip {
    /// An upstream 429 with `retry-after`: `model` cools.
    Cooling {
        /// The upstream model.
        model: String,
    },
    /// The breaker opened.
    BreakerOpen,
}

/// Reports a trip on this replica, for the fleet to publish (sent by the gate).
#[derive(Message, Debug, Clone, PartialEq, Eq)]
#[rtype(result = "()")]
pub struct Tripped {
    /// The provider instance.
    pub provider: String,
    /// What tripped.
    pub trip: Trip,
    /// For how long from now.
    pub lasts: Duration,
}

/// Applies another replica's trip to this provider (sent by the fleet actor).
#[derive(Message, Debug, Clone, PartialEq, Eq)]
#[rtype(result = "()")]
pub struct ApplyTrip {
    /// What tripped.
    pub trip: Trip,
    /// For how long from now.
    pub lasts: Duration,
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
    /// Fleet mode: `rpm`/`tpm` hold across replicas and are drawn from this pool instead of
    /// local buckets.
    pub fleet: Option<Arc<LeasePool>>,
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
pub struct Permit {
    slot: Option<OwnedSemaphorePermit>,
    gate: Arc<ProviderGate>,
    reported: bool,
    /// Tokens charged to the `tpm` bucket (`None` without a `tpm` limit).
    tokens: Option<u64>,
    settled: bool,
}

impl std::fmt::Debug for Permit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Permit")
            .field("provider", &self.gate.name)
            .field("reported", &self.reported)
            .field("tokens", &self.tokens)
            .finish()
    }
}

impl Permit {
    fn new(slot: OwnedSemaphorePermit, gate: Arc<ProviderGate>, tokens: Option<u64>) -> Self {
        Self {
            slot: Some(slot),
            gate,
            reported: false,
            tokens,
            settled: false,
        }
    }

    /// Records the time to the first event of a stream (the latency average) without a
    /// verdict: the stream counts as a success only when it completes.
    pub fn first_byte(&self, ttfb: Duration) {
        self.gate.lock().health.record_ttfb(ttfb);
    }

    /// Reports the call's outcome (only the first report counts).
    pub fn report(&mut self, outcome: ReportOutcome) {
        if !self.reported {
            self.reported = true;
            self.gate.record(&outcome);
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
                self.gate.refund_tokens(refund);
            }
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        // Free the slot before the report, so the in-flight count is already right.
        drop(self.slot.take());
        self.report(ReportOutcome::Abandoned);
    }
}

/// A caller waiting for a slot. However the wait ends it leaves the queue, and unless it got a
/// slot it gives its admission back (`rpm`/`tpm` charge, a half-open probe): also when the wait
/// is dropped with the caller's request, which would otherwise leave a probe taken for good.
struct Waiter<'a> {
    gate: &'a ProviderGate,
    tokens: u64,
    served: bool,
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        self.gate.waiting.fetch_sub(1, Ordering::Relaxed);
        if !self.served {
            let now = Instant::now();
            let mut state = self.gate.lock();
            state.health.undo_admit(self.tokens, now);
            self.gate.publish(&mut state, now);
            drop(state);
            self.gate.give_back_lease(self.tokens);
        }
    }
}

/// Retry hint when the queue is full: callers should back off briefly.
const QUEUE_FULL_RETRY_AFTER: Duration = Duration::from_secs(1);

/// The admission state of one provider instance, shared by its actor and its permits.
pub struct ProviderGate {
    name: String,
    limits: ProviderLimits,
    slots: Arc<Semaphore>,
    waiting: AtomicUsize,
    state: Mutex<GateState>,
    router: Option<Recipient<InstanceUpdate>>,
    /// Where trips are reported in fleet mode (set once the fleet actor runs).
    fleet: OnceLock<Recipient<Tripped>>,
}

struct GateState {
    health: InstanceHealth,
    /// What the router last heard (without the live statistics).
    last_published: Option<Availability>,
}

impl ProviderGate {
    /// A gate for `limits`; `router` is told whenever what it skips instances by changes.
    pub fn new(
        name: impl Into<String>,
        limits: ProviderLimits,
        router: Option<Recipient<InstanceUpdate>>,
    ) -> Arc<Self> {
        let breaker = Breaker::new(limits.failure_threshold, limits.cooldown);
        // In fleet mode the pool enforces `rpm`/`tpm`; local buckets would count them twice.
        let (rpm, tpm) = match limits.fleet {
            Some(_) => (None, None),
            None => (limits.rpm, limits.tpm),
        };
        Arc::new(Self {
            name: name.into(),
            slots: Arc::new(Semaphore::new(limits.max_concurrency)),
            waiting: AtomicUsize::new(0),
            state: Mutex::new(GateState {
                health: InstanceHealth::new(breaker, rpm, tpm, Instant::now()),
                last_published: None,
            }),
            limits,
            router,
            fleet: OnceLock::new(),
        })
    }

    /// Reports this gate's trips to `fleet` from now on (once; later calls are ignored).
    pub fn share_trips(&self, fleet: Recipient<Tripped>) {
        let _ = self.fleet.set(fleet);
    }

    /// The instance name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The fleet lease pool, in fleet mode.
    pub fn lease_pool(&self) -> Option<&Arc<LeasePool>> {
        self.limits.fleet.as_ref()
    }

    /// Gives an admission's request and tokens back to the fleet pool.
    fn give_back_lease(&self, tokens: u64) {
        if let Some(pool) = &self.limits.fleet {
            pool.give_back(1, i64::try_from(tokens).unwrap_or(i64::MAX));
        }
    }

    /// Redis is back: the fleet's bucket decides again, so refusals made at the degraded local
    /// share no longer make the router skip this instance.
    pub fn fleet_recovered(&self) {
        if let Some(pool) = &self.limits.fleet {
            pool.recover();
        }
        let now = Instant::now();
        let mut state = self.lock();
        state.health.clear_limited();
        self.publish(&mut state, now);
    }

    /// Applies another replica's trip (no echo back to the fleet).
    pub fn apply_trip(&self, trip: &Trip, lasts: Duration) {
        let now = Instant::now();
        let mut state = self.lock();
        match trip {
            Trip::Cooling { model } => state.health.cool(model, now + lasts, now),
            Trip::BreakerOpen => state.health.open_breaker(now + lasts, now),
        }
        self.publish(&mut state, now);
    }

    fn lock(&self) -> MutexGuard<'_, GateState> {
        // The state stays consistent under a panic elsewhere (every update is one call).
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn in_flight(&self) -> usize {
        self.limits
            .max_concurrency
            .saturating_sub(self.slots.available_permits())
    }

    /// Calls in flight and recent latency, for the routing strategies.
    pub fn stats(&self) -> InstanceStats {
        InstanceStats {
            in_flight: self.in_flight(),
            ttfb: self.lock().health.ttfb(),
        }
    }

    /// Tells the router when breaker, cooling or limits changed.
    fn publish(&self, state: &mut GateState, now: Instant) {
        let mut availability = state.health.availability(0, now);
        availability.stats = InstanceStats::default();
        if state.last_published.as_ref() == Some(&availability) {
            return;
        }
        if let Some(router) = &self.router {
            router.do_send(InstanceUpdate {
                provider: self.name.clone(),
                availability: availability.clone(),
            });
        }
        state.last_published = Some(availability);
    }

    /// A permit to call `model` with about `tokens` tokens of input: at once when a slot is
    /// free, else after a bounded wait in the caller's task (a full queue or a wait longer than
    /// `queue_timeout` is refused).
    pub async fn acquire(
        self: &Arc<Self>,
        model: &str,
        tokens: u64,
    ) -> Result<Permit, AdmissionError> {
        // A request above the whole minute's quota is charged the quota (it waits for a full
        // bucket), and that is what its usage later corrects.
        let tokens = self.limits.tpm.map_or(tokens, |tpm| tokens.min(tpm));
        let charged = self.limits.tpm.map(|_| tokens);
        // The fleet's share first: the only step that may wait (for a lease on its way, at
        // most the Redis command timeout). Every refusal below gives it back.
        if let Some(pool) = &self.limits.fleet
            && let Err(retry_after) = pool.take(tokens).await
        {
            let now = Instant::now();
            let mut state = self.lock();
            state.health.mark_limited(now + retry_after);
            self.publish(&mut state, now);
            return Err(AdmissionError::RateLimited { retry_after });
        }
        let now = Instant::now();
        {
            let mut state = self.lock();
            let admitted = state.health.admit(model, tokens, now);
            if let Err(refusal) = admitted {
                self.publish(&mut state, now);
                drop(state);
                self.give_back_lease(tokens);
                return Err(refusal.into());
            }
            if let Ok(slot) = self.slots.clone().try_acquire_owned() {
                self.publish(&mut state, now);
                return Ok(Permit::new(slot, self.clone(), charged));
            }
            // Count the waiter under the lock, so concurrent callers cannot overfill the queue.
            if self.waiting.load(Ordering::Relaxed) >= self.limits.max_queue {
                state.health.undo_admit(tokens, now);
                self.publish(&mut state, now);
                drop(state);
                self.give_back_lease(tokens);
                return Err(AdmissionError::QueueFull {
                    retry_after: QUEUE_FULL_RETRY_AFTER,
                });
            }
            self.waiting.fetch_add(1, Ordering::Relaxed);
            self.publish(&mut state, now);
        }
        let mut waiter = Waiter {
            gate: self,
            tokens,
            served: false,
        };
        let waited = tokio::time::timeout(
            self.limits.queue_timeout,
            self.slots.clone().acquire_owned(),
        )
        .await;
        match waited {
            Ok(Ok(slot)) => {
                waiter.served = true;
                drop(waiter);
                Ok(Permit::new(slot, self.clone(), charged))
            }
            Ok(Err(_)) | Err(_) => {
                drop(waiter);
                Err(AdmissionError::QueueFull {
                    retry_after: QUEUE_FULL_RETRY_AFTER,
                })
            }
        }
    }

    /// Records how a call went.
    pub fn record(&self, outcome: &ReportOutcome) {
        let now = Instant::now();
        let mut state = self.lock();
        let was_open = state.health.breaker().open_end();
        state.health.record(outcome, now);
        self.publish(&mut state, now);
        let opened = state
            .health
            .breaker()
            .open_end()
            .filter(|until| was_open != Some(*until));
        drop(state);
        let Some(fleet) = self.fleet.get() else {
            return;
        };
        let tripped = |trip, lasts| Tripped {
            provider: self.name.clone(),
            trip,
            lasts,
        };
        if let Some(until) = opened {
            fleet.do_send(tripped(Trip::BreakerOpen, until - now));
        }
        if let ReportOutcome::RateLimited {
            model,
            retry_after: Some(wait),
        } = outcome
            && !wait.is_zero()
        {
            let trip = Trip::Cooling {
                model: model.clone(),
            };
            fleet.do_send(tripped(trip, *wait));
        }
    }

    fn refund_tokens(&self, refund: i64) {
        self.lock().health.refund_tokens(refund, Instant::now());
        if let Some(pool) = &self.limits.fleet {
            pool.give_back(0, refund);
        }
    }

    /// A live view of the instance.
    pub fn status(&self) -> ProviderStatus {
        let now = Instant::now();
        let state = self.lock();
        ProviderStatus {
            name: self.name.clone(),
            in_flight: self.in_flight(),
            waiting: self.waiting.load(Ordering::Relaxed),
            breaker: state.health.breaker().state(now),
            ttfb: state.health.ttfb(),
        }
    }
}

/// The per-provider actor: holds the gate and answers its operations as messages.
pub struct ProviderActor {
    gate: Arc<ProviderGate>,
}

impl ProviderActor {
    /// A provider actor; `router` is told whenever what it routes by changes.
    pub fn new(
        name: impl Into<String>,
        limits: ProviderLimits,
        router: Option<Recipient<InstanceUpdate>>,
    ) -> Self {
        Self {
            gate: ProviderGate::new(name, limits, router),
        }
    }

    /// The gate the request path takes permits from.
    pub fn gate(&self) -> Arc<ProviderGate> {
        self.gate.clone()
    }
}

impl Actor for ProviderActor {
    type Context = Context<Self>;
}

impl Handler<ApplyTrip> for ProviderActor {
    type Result = ();

    fn handle(&mut self, msg: ApplyTrip, _: &mut Self::Context) {
        self.gate.apply_trip(&msg.trip, msg.lasts);
    }
}

impl Handler<Status> for ProviderActor {
    type Result = MessageResult<Status>;

    fn handle(&mut self, _: Status, _: &mut Self::Context) -> Self::Result {
        MessageResult(self.gate.status())
    }
}

#[cfg(test)]
mod tests;
