//! [`LeasePool`]: this replica's share of a provider's fleet-wide `rpm`/`tpm`, leased in batches
//! from Redis by the fleet task ahead of demand. Requests draw from it without I/O; only when it
//! is empty and a lease is on its way does a request wait, for at most `max_wait`. When Redis is
//! unreachable the pool enforces local buckets at the replica's share of each limit.

use std::{
    sync::{Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use tokio::{sync::Notify, time::Instant};

use crate::bucket::TokenBucket;

/// Retry hint when a lease did not come in time (Redis slow): back off briefly.
const LEASE_LATE_RETRY_AFTER: Duration = Duration::from_secs(1);

/// What [`LeasePool::try_take`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    /// Taken from the pool.
    Granted,
    /// The pool is short and a lease is asked for: wait for [`LeasePool::filled`].
    Wait,
    /// The fleet's bucket is empty (or the local share, degraded) for this long.
    Refused(Duration),
}

/// How much the fleet task should lease now (units of each limit; zero for an absent limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lease {
    /// Requests (`rpm`).
    pub requests: u64,
    /// Tokens (`tpm`).
    pub tokens: u64,
}

/// The local pool of one provider instance.
pub struct LeasePool {
    rpm: Option<u64>,
    tpm: Option<u64>,
    batch: Lease,
    max_wait: Duration,
    state: Mutex<PoolState>,
    /// Wakes the fleet task: the pool runs low (or a request is short).
    low: Notify,
    /// Wakes requests waiting for a lease.
    filled: Notify,
}

#[derive(Debug)]
struct PoolState {
    requests: i64,
    tokens: i64,
    /// Tokens a waiting request is short of (leased on top of the batch).
    shortfall: u64,
    leasing: bool,
    /// The fleet's bucket answered empty: refuse without asking until then.
    exhausted_until: Option<Instant>,
    last_take: Instant,
    /// Redis is unreachable: local buckets at this replica's share.
    degraded: Option<(Option<TokenBucket>, Option<TokenBucket>)>,
}

impl std::fmt::Debug for LeasePool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeasePool")
            .field("rpm", &self.rpm)
            .field("tpm", &self.tpm)
            .field("batch", &self.batch)
            .finish_non_exhaustive()
    }
}

fn batch_of(limit: Option<u64>, fraction: f64) -> u64 {
    limit.map_or(0, |n| {
        ((n as f64 * fraction).ceil() as u64).clamp(1, n.max(1))
    })
}

impl LeasePool {
    /// An empty pool for the fleet-wide `rpm`/`tpm`, leasing `fraction` of each per batch; a
    /// request waits at most `max_wait` for a lease.
    pub fn new(rpm: Option<u64>, tpm: Option<u64>, fraction: f64, max_wait: Duration) -> Self {
        Self {
            rpm,
            tpm,
            batch: Lease {
                requests: batch_of(rpm, fraction),
                tokens: batch_of(tpm, fraction),
            },
            max_wait,
            state: Mutex::new(PoolState {
                requests: 0,
                tokens: 0,
                shortfall: 0,
                leasing: false,
                exhausted_until: None,
                last_take: Instant::now(),
                degraded: None,
            }),
            low: Notify::new(),
            filled: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        // Every update is one short call: the state stays consistent under a panic elsewhere.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The fleet-wide `rpm` and `tpm`.
    pub fn limits(&self) -> (Option<u64>, Option<u64>) {
        (self.rpm, self.tpm)
    }

    /// Units leased per batch (the slack: at most one batch per replica beyond the bucket).
    pub fn batch(&self) -> Lease {
        self.batch
    }

    /// Takes one request of `tokens` tokens, without waiting.
    pub fn try_take(&self, tokens: u64, now: Instant) -> Take {
        let mut state = self.lock();
        state.last_take = now;
        if let Some((rpm, tpm)) = state.degraded.as_mut() {
            let waits = [
                rpm.as_mut().and_then(|b| b.wait_for(1, now)),
                tpm.as_mut().and_then(|b| b.wait_for(tokens, now)),
            ];
            if let Some(wait) = waits.into_iter().flatten().max() {
                return Take::Refused(wait);
            }
            if let Some(b) = rpm.as_mut() {
                b.take(1, now);
            }
            if let Some(b) = tpm.as_mut() {
                b.take(tokens, now);
            }
            return Take::Granted;
        }
        let wanted = i64::try_from(tokens).unwrap_or(i64::MAX);
        let enough_requests = self.rpm.is_none() || state.requests >= 1;
        let enough_tokens = self.tpm.is_none() || state.tokens >= wanted;
        if enough_requests && enough_tokens {
            if self.rpm.is_some() {
                state.requests -= 1;
            }
            if self.tpm.is_some() {
                state.tokens -= wanted;
            }
            if self.runs_low(&state) {
                self.low.notify_one();
            }
            return Take::Granted;
        }
        if let Some(until) = state.exhausted_until.filter(|until| *until > now) {
            return Take::Refused(until - now);
        }
        if !enough_tokens {
            state.shortfall = state
                .shortfall
                .max(u64::try_from(wanted - state.tokens).unwrap_or(0));
        }
        self.low.notify_one();
        Take::Wait
    }

    /// Takes one request of `tokens` tokens, waiting at most `max_wait` for a lease on its
    /// way; `Err(retry_after)` when the fleet's quota is spent (or the lease came too late).
    pub async fn take(&self, tokens: u64) -> Result<(), Duration> {
        let deadline = Instant::now() + self.max_wait;
        loop {
            // Registered before looking, so a lease landing in between is not missed.
            let filled = self.filled.notified();
            tokio::pin!(filled);
            filled.as_mut().enable();
            let now = Instant::now();
            match self.try_take(tokens, now) {
                Take::Granted => return Ok(()),
                Take::Refused(wait) => return Err(wait),
                Take::Wait if now >= deadline => return Err(LEASE_LATE_RETRY_AFTER),
                Take::Wait => {
                    if tokio::time::timeout_at(deadline, filled).await.is_err() {
                        return Err(LEASE_LATE_RETRY_AFTER);
                    }
                }
            }
        }
    }

    /// Gives back what an admission that never reached the upstream took, or corrects the
    /// token charge (`tokens` negative: an overrun, which the next lease covers).
    pub fn give_back(&self, requests: i64, tokens: i64) {
        let now = Instant::now();
        let mut state = self.lock();
        if let Some((rpm, tpm)) = state.degraded.as_mut() {
            if let Some(b) = rpm.as_mut() {
                b.adjust(requests, now);
            }
            if let Some(b) = tpm.as_mut() {
                b.adjust(tokens, now);
            }
            return;
        }
        if self.rpm.is_some() {
            state.requests = state.requests.saturating_add(requests);
        }
        if self.tpm.is_some() {
            state.tokens = state.tokens.saturating_add(tokens);
        }
        if self.runs_low(&state) {
            self.low.notify_one();
        }
    }

    fn runs_low(&self, state: &PoolState) -> bool {
        let low = |level: i64, batch: u64| level * 2 < i64::try_from(batch).unwrap_or(i64::MAX);
        (self.rpm.is_some() && low(state.requests, self.batch.requests))
            || (self.tpm.is_some() && low(state.tokens, self.batch.tokens))
    }

    // === The fleet task's side ===

    /// Resolves when the pool runs low or a request is short.
    pub async fn low(&self) {
        self.low.notified().await;
    }

    /// What to lease now (and marks a lease in flight), or `None` when the pool holds enough,
    /// a lease is already on its way, the bucket said empty, or the pool is degraded.
    pub fn lease_now(&self, now: Instant) -> Option<Lease> {
        let mut state = self.lock();
        let exhausted = state.exhausted_until.is_some_and(|until| until > now);
        let short = state.shortfall > 0 || self.runs_low(&state);
        if state.degraded.is_some() || state.leasing || exhausted || !short {
            return None;
        }
        let top_up = |level: i64, batch: u64| {
            u64::try_from(i64::try_from(batch).unwrap_or(i64::MAX) - level).unwrap_or(0)
        };
        let lease = Lease {
            requests: if self.rpm.is_some() {
                top_up(state.requests, self.batch.requests)
            } else {
                0
            },
            tokens: if self.tpm.is_some() {
                top_up(state.tokens, self.batch.tokens) + state.shortfall
            } else {
                0
            },
        };
        state.leasing = true;
        Some(lease)
    }

    /// Adds a lease's answer: what was granted and, when less than asked, how long until the
    /// bucket has more. Wakes the waiting requests.
    pub fn granted(&self, asked: Lease, granted: Lease, refill: Duration, now: Instant) {
        let mut state = self.lock();
        state.leasing = false;
        state.shortfall = 0;
        if state.degraded.is_none() {
            state.requests += i64::try_from(granted.requests).unwrap_or(i64::MAX);
            state.tokens += i64::try_from(granted.tokens).unwrap_or(i64::MAX);
        }
        let short = granted.requests < asked.requests || granted.tokens < asked.tokens;
        state.exhausted_until = short.then(|| now + refill.max(Duration::from_millis(1)));
        drop(state);
        self.filled.notify_waiters();
    }

    /// A lease failed (Redis trouble): the pool stops waiting for it.
    pub fn lease_failed(&self) {
        self.lock().leasing = false;
        self.filled.notify_waiters();
    }

    /// Everything held after `idle` without a request (to return to the fleet), emptied.
    pub fn take_idle(&self, idle: Duration, now: Instant) -> Option<Lease> {
        let mut state = self.lock();
        if state.degraded.is_some() || now.saturating_duration_since(state.last_take) < idle {
            return None;
        }
        let surplus = Lease {
            requests: u64::try_from(state.requests).unwrap_or(0),
            tokens: u64::try_from(state.tokens).unwrap_or(0),
        };
        if surplus == Lease::default() {
            return None;
        }
        state.requests -= i64::try_from(surplus.requests).unwrap_or(0);
        state.tokens -= i64::try_from(surplus.tokens).unwrap_or(0);
        Some(surplus)
    }

    /// Empties the pool (shutdown): what it held, to return to the fleet.
    pub fn drain(&self) -> Lease {
        let mut state = self.lock();
        let held = Lease {
            requests: u64::try_from(state.requests).unwrap_or(0),
            tokens: u64::try_from(state.tokens).unwrap_or(0),
        };
        state.requests = state.requests.min(0);
        state.tokens = state.tokens.min(0);
        held
    }

    /// Redis is unreachable: enforce `limit / replicas` locally until [`Self::recover`].
    pub fn degrade(&self, replicas: usize, now: Instant) {
        let share = |limit: Option<u64>| {
            limit.map(|n| TokenBucket::per_minute(n / replicas.max(1) as u64, now))
        };
        let mut state = self.lock();
        if state.degraded.is_none() {
            state.degraded = Some((share(self.rpm), share(self.tpm)));
            state.requests = 0;
            state.tokens = 0;
            state.leasing = false;
            state.exhausted_until = None;
        }
        drop(state);
        self.filled.notify_waiters();
    }

    /// Redis is back: lease from the fleet again (the pool starts empty).
    pub fn recover(&self) {
        let mut state = self.lock();
        if state.degraded.take().is_some() {
            drop(state);
            self.low.notify_one();
        }
    }
}

#[cfg(test)]
mod tests;
