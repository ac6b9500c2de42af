//! A caller's rate-limit state as OpenAI's response headers carry it
//! (`x-ratelimit-{limit,remaining,reset}-{requests,tokens}`); SDKs and agents read them to pace
//! themselves. Plain data: the quota ledger fills it, the HTTP layer and the error renderer
//! write it.

use std::{fmt::Write as _, time::Duration};

/// One per-minute limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The limit per minute.
    pub limit: u64,
    /// What is left now.
    pub remaining: u64,
    /// Until the limit is whole again.
    pub reset: Duration,
}

/// The caller's limits after a request was admitted (or refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RateLimits {
    /// Requests per minute.
    pub requests: Option<Window>,
    /// Tokens per minute.
    pub tokens: Option<Window>,
}

impl RateLimits {
    /// The header names and values (only for the limits the caller has).
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::with_capacity(6);
        if let Some(w) = self.requests {
            out.push(("x-ratelimit-limit-requests", w.limit.to_string()));
            out.push(("x-ratelimit-remaining-requests", w.remaining.to_string()));
            out.push(("x-ratelimit-reset-requests", go_duration(w.reset)));
        }
        if let Some(w) = self.tokens {
            out.push(("x-ratelimit-limit-tokens", w.limit.to_string()));
            out.push(("x-ratelimit-remaining-tokens", w.remaining.to_string()));
            out.push(("x-ratelimit-reset-tokens", go_duration(w.reset)));
        }
        out
    }
}

/// A duration the way OpenAI writes its reset headers (Go's notation): `0s`, `120ms`, `1.5s`,
/// `6m0s`, `1h2m3s`; milliseconds at most.
pub fn go_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return "0s".to_owned();
    }
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let (hours, rest) = (ms / 3_600_000, ms % 3_600_000);
    let (minutes, rest) = (rest / 60_000, rest % 60_000);
    let (secs, millis) = (rest / 1000, rest % 1000);
    let mut out = String::new();
    if hours > 0 {
        let _ = write!(out, "{hours}h");
    }
    if hours > 0 || minutes > 0 {
        let _ = write!(out, "{minutes}m");
    }
    let _ = write!(out, "{secs}");
    if millis > 0 {
        let fraction = format!("{millis:03}");
        let _ = write!(out, ".{}", fraction.trim_end_matches('0'));
    }
    out.push('s');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_openais() {
        let cases = [
            (0, "0s"),
            (120, "120ms"),
            (1_000, "1s"),
            (1_500, "1.5s"),
            (19_999, "19.999s"),
            (360_000, "6m0s"),
            (3_723_000, "1h2m3s"),
        ];
        for (ms, text) in cases {
            assert_eq!(go_duration(Duration::from_millis(ms)), text);
        }
    }

    #[test]
    fn only_the_callers_limits_become_headers() {
        let limits = RateLimits {
            requests: Some(Window {
                limit: 3,
                remaining: 2,
                reset: Duration::from_secs(20),
            }),
            tokens: None,
        };
        assert_eq!(
            limits.headers(),
            vec![
                ("x-ratelimit-limit-requests", "3".to_owned()),
                ("x-ratelimit-remaining-requests", "2".to_owned()),
                ("x-ratelimit-reset-requests", "20s".to_owned()),
            ]
        );
        assert!(RateLimits::default().headers().is_empty());
    }
}
