//! A token bucket for local `rpm`/`tpm` limits: it holds up to one minute's quota and refills
//! continuously. Taking is allowed into debt when a call used more than estimated, so the next
//! callers wait the overrun off. Pure: the caller passes the clock.

use std::time::Duration;

use tokio::time::Instant;

/// One per-minute quota.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    capacity: f64,
    per_second: f64,
    level: f64,
    updated: Instant,
}

impl TokenBucket {
    /// A full bucket allowing `per_minute` units per minute.
    pub fn per_minute(per_minute: u64, now: Instant) -> Self {
        let capacity = per_minute.max(1) as f64;
        Self {
            capacity,
            per_second: capacity / 60.0,
            level: capacity,
            updated: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.level = (self.level + elapsed * self.per_second).min(self.capacity);
        self.updated = now;
    }

    /// `None` when `amount` fits now, else how long until it does. An amount above the
    /// capacity waits for a full bucket (it could never fit otherwise).
    pub fn wait_for(&mut self, amount: u64, now: Instant) -> Option<Duration> {
        self.refill(now);
        let amount = (amount as f64).min(self.capacity);
        if self.level >= amount {
            return None;
        }
        Some(Duration::from_secs_f64(
            (amount - self.level) / self.per_second,
        ))
    }

    /// Takes `amount` (call after [`Self::wait_for`] said it fits).
    pub fn take(&mut self, amount: u64, now: Instant) {
        self.refill(now);
        self.level -= (amount as f64).min(self.capacity);
    }

    /// The whole units left now (none while in debt).
    pub fn remaining(&mut self, now: Instant) -> u64 {
        self.refill(now);
        self.level.max(0.0).floor() as u64
    }

    /// How long until the bucket is full again.
    pub fn until_full(&mut self, now: Instant) -> Duration {
        self.refill(now);
        Duration::from_secs_f64(((self.capacity - self.level) / self.per_second).max(0.0))
    }

    /// The same bucket with a new limit, keeping what is left (at most the new capacity).
    #[must_use]
    pub fn resized(&self, per_minute: u64, now: Instant) -> Self {
        let mut copy = self.clone();
        copy.refill(now);
        let mut out = Self::per_minute(per_minute, now);
        out.level = copy.level.min(out.capacity);
        out
    }

    /// The limit per minute.
    pub fn capacity(&self) -> u64 {
        self.capacity as u64
    }

    /// Gives back `refund` units (negative: charges an overrun, possibly into debt).
    pub fn adjust(&mut self, refund: i64, now: Instant) {
        self.refill(now);
        self.level = (self.level + refund as f64).min(self.capacity);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_when_empty_and_names_the_wait() {
        let t0 = Instant::now();
        let mut b = TokenBucket::per_minute(60, t0);
        for _ in 0..60 {
            assert_eq!(b.wait_for(1, t0), None);
            b.take(1, t0);
        }
        assert_eq!(b.wait_for(1, t0), Some(Duration::from_secs(1)));
        assert_eq!(b.wait_for(1, t0 + Duration::from_secs(1)), None);
    }

    #[test]
    fn overruns_become_debt_and_refunds_are_capped() {
        let t0 = Instant::now();
        let mut b = TokenBucket::per_minute(600, t0);
        b.take(100, t0);
        b.adjust(-600, t0); // estimated 100, used 700: 100 in debt
        assert_eq!(b.wait_for(10, t0), Some(Duration::from_secs(11)));
        b.adjust(10_000, t0);
        assert_eq!(b.wait_for(600, t0), None, "capped at capacity");
    }

    #[test]
    fn reports_what_is_left_and_when_it_is_whole() {
        let t0 = Instant::now();
        let mut b = TokenBucket::per_minute(3, t0);
        b.take(1, t0);
        assert_eq!(b.remaining(t0), 2);
        assert_eq!(b.until_full(t0), Duration::from_secs(20));
        let mut smaller = b.resized(1, t0);
        assert_eq!((smaller.capacity(), smaller.remaining(t0)), (1, 1));
        b.adjust(-10, t0);
        assert_eq!(b.remaining(t0), 0, "debt is not negative remaining");
    }

    #[test]
    fn an_oversized_request_waits_for_a_full_bucket() {
        let t0 = Instant::now();
        let mut b = TokenBucket::per_minute(100, t0);
        assert_eq!(b.wait_for(1_000, t0), None);
        b.take(1_000, t0);
        assert_eq!(b.wait_for(1_000, t0), Some(Duration::from_secs(60)));
    }
}
