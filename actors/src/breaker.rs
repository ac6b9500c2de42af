//! A three-state circuit breaker: consecutive failures open it for a cooldown, then one probe
//! is let through (half-open); its outcome closes or reopens it.

use std::time::Duration;

use tokio::time::Instant;

/// Breaker state, as reported to operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Traffic flows.
    Closed,
    /// Traffic is refused until the cooldown ends.
    Open,
    /// One probe request is in flight.
    HalfOpen,
}

#[derive(Debug, Clone, Copy)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { probing: bool },
}

/// The breaker.
#[derive(Debug, Clone)]
pub struct Breaker {
    state: State,
    threshold: u32,
    cooldown: Duration,
}

impl Breaker {
    /// A closed breaker opening after `threshold` consecutive failures for `cooldown`.
    pub fn new(threshold: u32, cooldown: Duration) -> Self {
        Self {
            state: State::Closed { failures: 0 },
            threshold: threshold.max(1),
            cooldown,
        }
    }

    /// Asks to send a request at `now`: `Err(wait)` while open.
    pub fn admit(&mut self, now: Instant) -> Result<(), Duration> {
        match self.state {
            State::Closed { .. } => Ok(()),
            State::Open { until } if now < until => Err(until - now),
            State::Open { .. } | State::HalfOpen { probing: false } => {
                self.state = State::HalfOpen { probing: true };
                Ok(())
            }
            State::HalfOpen { probing: true } => Err(self.cooldown.min(Duration::from_secs(1))),
        }
    }

    /// Time until traffic may flow again (zero when closed).
    pub fn retry_after(&self, now: Instant) -> Option<Duration> {
        match self.state {
            State::Open { until } if now < until => Some(until - now),
            State::Closed { .. } | State::Open { .. } | State::HalfOpen { .. } => None,
        }
    }

    /// Records an outcome at `now`.
    pub fn record(&mut self, success: bool, now: Instant) {
        self.state = match (self.state, success) {
            (_, true) => State::Closed { failures: 0 },
            (State::Closed { failures }, false) if failures + 1 < self.threshold => State::Closed {
                failures: failures + 1,
            },
            (State::Closed { .. } | State::HalfOpen { .. }, false) => State::Open {
                until: now + self.cooldown,
            },
            (State::Open { until }, false) => State::Open { until },
        };
    }

    /// Opens the breaker until `until` (another replica's breaker opened): an open breaker
    /// keeps the later end.
    pub fn open_until(&mut self, until: Instant) {
        self.state = match self.state {
            State::Open { until: mine } => State::Open {
                until: mine.max(until),
            },
            State::Closed { .. } | State::HalfOpen { .. } => State::Open { until },
        };
    }

    /// Until when an open breaker refuses traffic (`None` unless open).
    pub fn open_end(&self) -> Option<Instant> {
        match self.state {
            State::Open { until } => Some(until),
            State::Closed { .. } | State::HalfOpen { .. } => None,
        }
    }

    /// Releases a half-open probe that ended without a verdict (e.g. the client left).
    pub fn release_probe(&mut self) {
        if let State::HalfOpen { probing: true } = self.state {
            self.state = State::HalfOpen { probing: false };
        }
    }

    /// The current state.
    pub fn state(&self, now: Instant) -> BreakerState {
        match self.state {
            State::Closed { .. } => BreakerState::Closed,
            State::Open { until } if now < until => BreakerState::Open,
            State::Open { .. } | State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_then_probes_once() {
        let t0 = Instant::now();
        let mut b = Breaker::new(2, Duration::from_secs(10));
        b.record(false, t0);
        assert!(b.admit(t0).is_ok());
        b.record(false, t0);
        assert_eq!(b.state(t0), BreakerState::Open);
        assert!(b.admit(t0 + Duration::from_secs(5)).is_err());
        let later = t0 + Duration::from_secs(11);
        assert!(
            b.admit(later).is_ok(),
            "first request after cooldown is the probe"
        );
        assert!(b.admit(later).is_err(), "only one probe at a time");
        b.record(true, later);
        assert_eq!(b.state(later), BreakerState::Closed);
    }

    #[test]
    fn failed_probe_reopens() {
        let t0 = Instant::now();
        let mut b = Breaker::new(1, Duration::from_secs(1));
        b.record(false, t0);
        let later = t0 + Duration::from_secs(2);
        assert!(b.admit(later).is_ok());
        b.record(false, later);
        assert_eq!(b.state(later), BreakerState::Open);
    }

    #[test]
    fn success_resets_the_count() {
        let t0 = Instant::now();
        let mut b = Breaker::new(2, Duration::from_secs(1));
        b.record(false, t0);
        b.record(true, t0);
        b.record(false, t0);
        assert_eq!(b.state(t0), BreakerState::Closed);
    }
}
