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

mod messages;
mod permit;

use self::permit::Waiter;
pub use self::{
    messages::{AdmissionError, ApplyTrip, ProviderLimits, ProviderStatus, Status, Trip, Tripped},
    permit::Permit,
};

use std::{
    sync::{
        Arc, Mutex, MutexGuard, OnceLock, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use actix::prelude::*;
use tokio::{sync::Semaphore, time::Instant};

use crate::{
    breaker::Breaker,
    health::{Availability, InstanceHealth, InstanceUpdate, ReportOutcome},
    lease::LeasePool,
    strategy::InstanceStats,
};

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
