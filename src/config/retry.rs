//! The retry policy: how often a target is retried before the next one, how long to wait
//! (exponential backoff with jitter, or the upstream's `retry-after` when it is within the cap),
//! and the one deadline every attempt of a request shares. Pure: jitter comes in as a number.

use std::time::Duration;

/// Retries of one target before moving on (the OpenAI and Anthropic SDKs default to 2 too).
pub const DEFAULT_RETRIES: u32 = 2;
/// First backoff; each retry doubles it.
pub const DEFAULT_BACKOFF: Duration = Duration::from_millis(250);
/// Longest wait before a retry; a longer `retry-after` moves on to the next target instead.
pub const DEFAULT_MAX_RETRY_WAIT: Duration = Duration::from_secs(5);
/// Everything before the first byte reaches the client (admission, attempts, waits) fits in
/// this; generous because reasoning models can think for minutes before they answer.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(15 * 60);

/// How failed attempts are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries of one target after its first attempt.
    pub retries: u32,
    /// Backoff before the first retry (doubled each time, with jitter).
    pub backoff: Duration,
    /// Cap of any single wait, `retry-after` included.
    pub max_wait: Duration,
    /// Overall deadline until the first byte.
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            retries: DEFAULT_RETRIES,
            backoff: DEFAULT_BACKOFF,
            max_wait: DEFAULT_MAX_RETRY_WAIT,
            deadline: DEFAULT_DEADLINE,
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0 = the first retry), or `None` when the target
    /// should not be retried: retries used up, or the upstream asked for a longer wait than
    /// the cap. `jitter` in `[0, 1)` spreads the backoff over its upper half; a `retry-after`
    /// hint is honoured as the lower bound.
    pub fn delay(&self, retry: u32, hint: Option<Duration>, jitter: f64) -> Option<Duration> {
        if retry >= self.retries {
            return None;
        }
        if hint.is_some_and(|h| h > self.max_wait) {
            return None;
        }
        let factor = 2u32.saturating_pow(retry.min(16));
        let full = self.backoff.saturating_mul(factor).min(self.max_wait);
        let jittered = full.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0));
        Some(hint.map_or(jittered, |h| h.max(jittered)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            retries: 3,
            backoff: Duration::from_millis(100),
            max_wait: Duration::from_secs(1),
            deadline: Duration::from_secs(60),
        }
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let p = policy();
        assert_eq!(p.delay(0, None, 0.0), Some(Duration::from_millis(50)));
        let top = p.delay(0, None, 0.999_999).unwrap();
        assert!(top < Duration::from_millis(100) && top > Duration::from_millis(99));
        assert_eq!(p.delay(1, None, 0.0), Some(Duration::from_millis(100)));
        assert_eq!(p.delay(2, None, 0.0), Some(Duration::from_millis(200)));
        let capped = RetryPolicy { retries: 30, ..p };
        assert_eq!(
            capped.delay(20, None, 0.0),
            Some(Duration::from_millis(500))
        );
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_cap() {
        let p = policy();
        let hint = Some(Duration::from_millis(700));
        assert_eq!(p.delay(0, hint, 0.5), Some(Duration::from_millis(700)));
        assert_eq!(
            p.delay(0, Some(Duration::from_millis(1)), 0.0),
            Some(Duration::from_millis(50))
        );
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(2)), 0.0),
            None,
            "over the cap: move on"
        );
    }

    #[test]
    fn retries_run_out() {
        let p = RetryPolicy {
            retries: 1,
            ..policy()
        };
        assert!(p.delay(0, None, 0.0).is_some());
        assert_eq!(p.delay(1, None, 0.0), None);
        assert_eq!(RetryPolicy { retries: 0, ..p }.delay(0, None, 0.0), None);
    }
}
