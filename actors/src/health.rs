//! The health and rate-limit state of one provider instance, without the actor around it:
//! the breaker, 429 cooling per upstream model, the local `rpm`/`tpm` token buckets and the
//! time-to-first-byte average. Pure: every method takes the clock.

use std::{collections::HashMap, time::Duration};

use tokio::time::Instant;

use actix::Message;

use crate::{breaker::Breaker, bucket::TokenBucket, strategy::InstanceStats};

/// How a call that held a permit went (reported through the permit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportOutcome {
    /// The upstream answered; `ttfb` is the time to its first event.
    Success {
        /// Time to first byte (feeds the latency average).
        ttfb: Duration,
    },
    /// A stream ran to its end (its time to first byte was given with [`Permit::first_byte`]).
    Completed,
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

/// A provider instance's availability changed.
#[derive(Message, Debug, Clone, PartialEq)]
#[rtype(result = "()")]
pub struct InstanceUpdate {
    /// Provider instance name.
    pub provider: String,
    /// What the router routes by.
    pub availability: Availability,
}

/// Weight of the newest sample in the time-to-first-byte average.
const TTFB_EWMA_WEIGHT: f64 = 0.3;

/// Longest cooling a `retry-after` can impose (a day-long hint must not park an instance).
const MAX_COOLING: Duration = Duration::from_secs(3600);

/// Why a call may not start now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The breaker is open (or its one probe is in flight).
    CircuitOpen(Duration),
    /// Cooling after an upstream 429, or over the local `rpm`/`tpm` limit.
    RateLimited(Duration),
}

/// What the router needs to know about this instance.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Availability {
    /// Until the breaker lets a probe through.
    pub open_until: Option<Instant>,
    /// Until the local rate limits admit calls again.
    pub limited_until: Option<Instant>,
    /// Upstream models cooling after a 429, and until when.
    pub cooling: Vec<(String, Instant)>,
    /// Live statistics for the strategies.
    pub stats: InstanceStats,
}

/// Per-instance health and limits.
#[derive(Debug, Clone)]
pub struct InstanceHealth {
    breaker: Breaker,
    cooling: HashMap<String, Instant>,
    rpm: Option<TokenBucket>,
    tpm: Option<TokenBucket>,
    limited_until: Option<Instant>,
    ttfb: Option<Duration>,
}

impl InstanceHealth {
    /// Fresh state: breaker closed, buckets full.
    pub fn new(breaker: Breaker, rpm: Option<u64>, tpm: Option<u64>, now: Instant) -> Self {
        Self {
            breaker,
            cooling: HashMap::new(),
            rpm: rpm.map(|n| TokenBucket::per_minute(n, now)),
            tpm: tpm.map(|n| TokenBucket::per_minute(n, now)),
            limited_until: None,
            ttfb: None,
        }
    }

    /// Admits one call of about `tokens` tokens to `model`, charging the buckets.
    pub fn admit(&mut self, model: &str, tokens: u64, now: Instant) -> Result<(), Refusal> {
        if let Some(until) = self.cooling.get(model).filter(|until| **until > now) {
            return Err(Refusal::RateLimited(*until - now));
        }
        let waits = [
            self.rpm.as_mut().and_then(|b| b.wait_for(1, now)),
            self.tpm.as_mut().and_then(|b| b.wait_for(tokens, now)),
        ];
        if let Some(wait) = waits.into_iter().flatten().max() {
            self.limited_until = Some(now + wait);
            return Err(Refusal::RateLimited(wait));
        }
        self.breaker.admit(now).map_err(Refusal::CircuitOpen)?;
        if let Some(b) = self.rpm.as_mut() {
            b.take(1, now);
        }
        if let Some(b) = self.tpm.as_mut() {
            b.take(tokens, now);
        }
        Ok(())
    }

    /// Takes back an admission that never reached the upstream (queue full or timed out).
    pub fn undo_admit(&mut self, tokens: u64, now: Instant) {
        self.breaker.release_probe();
        if let Some(b) = self.rpm.as_mut() {
            b.adjust(1, now);
        }
        self.refund_tokens(i64::try_from(tokens).unwrap_or(i64::MAX), now);
    }

    /// Corrects the token charge once the real usage is known (negative: an overrun).
    pub fn refund_tokens(&mut self, refund: i64, now: Instant) {
        if let Some(b) = self.tpm.as_mut() {
            b.adjust(refund, now);
        }
    }

    /// Records how a call went.
    pub fn record(&mut self, outcome: &ReportOutcome, now: Instant) {
        match outcome {
            ReportOutcome::Success { ttfb } => {
                self.breaker.record(true, now);
                self.record_ttfb(*ttfb);
            }
            ReportOutcome::Completed => self.breaker.record(true, now),
            ReportOutcome::Failure => self.breaker.record(false, now),
            ReportOutcome::RateLimited { model, retry_after } => {
                // A 429 says nothing about health; with a hint, that model cools for it.
                self.breaker.release_probe();
                if let Some(wait) = retry_after.filter(|w| !w.is_zero()) {
                    let until = now + wait.min(MAX_COOLING);
                    let entry = self.cooling.entry(model.clone()).or_insert(until);
                    *entry = (*entry).max(until);
                }
            }
            ReportOutcome::Abandoned => self.breaker.release_probe(),
        }
    }

    /// Cools `model` until `until` (a 429 seen by another replica); the later end wins.
    pub fn cool(&mut self, model: &str, until: Instant, now: Instant) {
        let until = until.min(now + MAX_COOLING);
        let entry = self.cooling.entry(model.to_owned()).or_insert(until);
        *entry = (*entry).max(until);
    }

    /// Opens the breaker until `until` (another replica's opened).
    pub fn open_breaker(&mut self, until: Instant, now: Instant) {
        self.breaker.open_until(until.min(now + MAX_COOLING));
    }

    /// The fleet's `rpm`/`tpm` refuse calls until `until` (tells the router to skip).
    pub fn mark_limited(&mut self, until: Instant) {
        self.limited_until = Some(self.limited_until.map_or(until, |u| u.max(until)));
    }

    /// Forgets a rate-limit refusal (the fleet's limits apply again after degraded mode).
    pub fn clear_limited(&mut self) {
        self.limited_until = None;
    }

    /// Folds one time to first byte into the average.
    pub fn record_ttfb(&mut self, ttfb: Duration) {
        self.ttfb = Some(match self.ttfb {
            None => ttfb,
            Some(avg) => avg.mul_f64(1.0 - TTFB_EWMA_WEIGHT) + ttfb.mul_f64(TTFB_EWMA_WEIGHT),
        });
    }

    /// Recent time to first byte.
    pub fn ttfb(&self) -> Option<Duration> {
        self.ttfb
    }

    /// The breaker itself (for status reports).
    pub fn breaker(&self) -> &Breaker {
        &self.breaker
    }

    /// What the router needs to know, with `in_flight` from the caller; expired entries are
    /// dropped.
    pub fn availability(&mut self, in_flight: usize, now: Instant) -> Availability {
        self.cooling.retain(|_, until| *until > now);
        if self.limited_until.is_some_and(|until| until <= now) {
            self.limited_until = None;
        }
        let mut cooling: Vec<(String, Instant)> =
            self.cooling.iter().map(|(m, u)| (m.clone(), *u)).collect();
        cooling.sort();
        Availability {
            open_until: self.breaker.retry_after(now).map(|wait| now + wait),
            limited_until: self.limited_until,
            cooling,
            stats: InstanceStats {
                in_flight,
                ttfb: self.ttfb,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn health(rpm: Option<u64>, tpm: Option<u64>, now: Instant) -> InstanceHealth {
        InstanceHealth::new(Breaker::new(2, Duration::from_secs(30)), rpm, tpm, now)
    }

    fn limited(retry_after: Option<u64>) -> ReportOutcome {
        ReportOutcome::RateLimited {
            model: "m".into(),
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    #[test]
    fn a_429_cools_only_that_model_for_its_retry_after() {
        let t0 = Instant::now();
        let mut h = health(None, None, t0);
        h.record(&limited(Some(7)), t0);
        assert_eq!(
            h.admit("m", 1, t0 + Duration::from_secs(2)),
            Err(Refusal::RateLimited(Duration::from_secs(5)))
        );
        assert_eq!(h.admit("other", 1, t0), Ok(()));
        assert_eq!(h.admit("m", 1, t0 + Duration::from_secs(7)), Ok(()));
        assert!(
            h.availability(0, t0 + Duration::from_secs(7))
                .cooling
                .is_empty()
        );
    }

    #[test]
    fn a_429_without_a_hint_does_not_cool_or_trip_the_breaker() {
        let t0 = Instant::now();
        let mut h = health(None, None, t0);
        for _ in 0..5 {
            h.record(&limited(None), t0);
        }
        assert_eq!(h.admit("m", 1, t0), Ok(()));
    }

    #[test]
    fn rpm_refuses_beyond_the_quota_and_reports_when_it_frees() {
        let t0 = Instant::now();
        let mut h = health(Some(2), None, t0);
        assert_eq!(h.admit("m", 0, t0), Ok(()));
        assert_eq!(h.admit("m", 0, t0), Ok(()));
        assert_eq!(
            h.admit("m", 0, t0),
            Err(Refusal::RateLimited(Duration::from_secs(30)))
        );
        assert_eq!(
            h.availability(0, t0).limited_until,
            Some(t0 + Duration::from_secs(30))
        );
        assert_eq!(h.admit("m", 0, t0 + Duration::from_secs(30)), Ok(()));
    }

    #[test]
    fn tpm_is_corrected_by_real_usage() {
        let t0 = Instant::now();
        let mut h = health(None, Some(6_000), t0);
        assert_eq!(h.admit("m", 1_000, t0), Ok(()));
        h.refund_tokens(1_000 - 7_000, t0); // the call really used 7,000 tokens: 1,000 in debt
        assert_eq!(
            h.admit("m", 100, t0),
            Err(Refusal::RateLimited(Duration::from_secs(11)))
        );
    }

    #[test]
    fn undo_gives_the_quota_back() {
        let t0 = Instant::now();
        let mut h = health(Some(1), Some(100), t0);
        assert_eq!(h.admit("m", 100, t0), Ok(()));
        h.undo_admit(100, t0);
        assert_eq!(h.admit("m", 100, t0), Ok(()));
    }

    #[test]
    fn ttfb_is_an_exponentially_weighted_average() {
        let t0 = Instant::now();
        let mut h = health(None, None, t0);
        let ok = |ms| ReportOutcome::Success {
            ttfb: Duration::from_millis(ms),
        };
        h.record(&ok(1000), t0);
        h.record(&ok(0), t0);
        assert_eq!(
            h.availability(0, t0).stats.ttfb,
            Some(Duration::from_millis(700))
        );
    }
}
