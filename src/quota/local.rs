//! Caller limits kept in this process: token buckets per caller for `rpm`/`tpm` and the spend
//! of the current budget window. The whole limits without Redis; `limit ÷ live replicas`
//! while Redis is unreachable in fleet mode.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
    time::Duration,
};

use gateway_actors::TokenBucket;
use tokio::time::Instant;

use super::{Ask, Checked, Refused};
use crate::rate_limits::{RateLimits, Window};

/// One caller's local state.
#[derive(Debug)]
struct LocalCaller {
    rpm: Option<TokenBucket>,
    tpm: Option<TokenBucket>,
    /// The budget window's name and what was spent in it, in nano-USD.
    spend: (String, u64),
}

/// Every caller's local state.
#[derive(Debug, Default)]
pub struct LocalLedger {
    callers: Mutex<HashMap<String, LocalCaller>>,
}

/// `limit ÷ share`, at least 1.
fn share_of(limit: Option<u64>, share: usize) -> Option<u64> {
    limit.map(|l| (l / u64::try_from(share.max(1)).unwrap_or(1)).max(1))
}

/// The bucket for `limit` now: kept, resized when the limit changed, created full.
fn bucket(slot: &mut Option<TokenBucket>, limit: Option<u64>, now: Instant) {
    *slot = match (slot.take(), limit) {
        (_, None) => None,
        (Some(b), Some(l)) if b.capacity() == l => Some(b),
        (Some(b), Some(l)) => Some(b.resized(l, now)),
        (None, Some(l)) => Some(TokenBucket::per_minute(l, now)),
    };
}

fn window(b: &mut TokenBucket, now: Instant) -> Window {
    Window {
        limit: b.capacity(),
        remaining: b.remaining(now),
        reset: b.until_full(now),
    }
}

impl LocalLedger {
    /// Checks `ask.id` against `limits ÷ share` for a request of `tokens`, taking the request
    /// and its tokens when `take` and nothing is over; the budget counts `fleet_spent` (what the
    /// fleet was last known to have spent in the window) and this replica's own spend.
    pub fn check(&self, ask: &Ask<'_>) -> Checked {
        let Ask {
            id,
            limits,
            share,
            tokens,
            take,
            window: window_name,
            fleet_spent,
        } = *ask;
        let now = Instant::now();
        let mut callers = self.callers.lock().unwrap_or_else(PoisonError::into_inner);
        let caller = callers.entry(id.to_owned()).or_insert_with(|| LocalCaller {
            rpm: None,
            tpm: None,
            spend: (window_name.to_owned(), 0),
        });
        bucket(&mut caller.rpm, share_of(limits.rpm, share), now);
        bucket(&mut caller.tpm, share_of(limits.tpm, share), now);
        if caller.spend.0 != window_name {
            caller.spend = (window_name.to_owned(), 0);
        }
        let mut refused = None;
        if let Some(wait) = caller.rpm.as_mut().and_then(|b| b.wait_for(1, now)) {
            refused = Some(Refused::Requests(wait));
        } else if let Some(wait) = caller.tpm.as_mut().and_then(|b| b.wait_for(tokens, now)) {
            refused = Some(Refused::Tokens(wait));
        }
        // Without Redis `fleet_spent` is 0 and `share` 1; degraded, this replica's own spend
        // counts for every live replica (they are assumed to spend alike until Redis is back).
        let spent = fleet_spent.saturating_add(
            caller
                .spend
                .1
                .saturating_mul(u64::try_from(share).unwrap_or(1)),
        );
        if refused.is_none()
            && let Some(budget) = limits.budget_usd
            && spent >= super::nanos(budget)
        {
            refused = Some(Refused::Budget);
        }
        if refused.is_none() && take {
            if let Some(b) = caller.rpm.as_mut() {
                b.take(1, now);
            }
            if let Some(b) = caller.tpm.as_mut() {
                b.take(tokens, now);
            }
        }
        Checked {
            refused,
            limits: RateLimits {
                requests: caller.rpm.as_mut().map(|b| window(b, now)),
                tokens: caller.tpm.as_mut().map(|b| window(b, now)),
            },
            spent_nanos: spent,
        }
    }

    /// Corrects `id`'s token estimate by `token_delta` (negative: it used more) and adds
    /// `cost_nanos` to the spend of `window_name`.
    pub fn settle(&self, id: &str, token_delta: i64, cost_nanos: u64, window_name: &str) {
        let now = Instant::now();
        let mut callers = self.callers.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(caller) = callers.get_mut(id) else {
            return;
        };
        if let Some(b) = caller.tpm.as_mut() {
            b.adjust(token_delta, now);
        }
        if caller.spend.0 != window_name {
            caller.spend = (window_name.to_owned(), 0);
        }
        caller.spend.1 = caller.spend.1.saturating_add(cost_nanos);
    }

    /// The callers seen, for `GET /v1/usage`.
    pub fn seen(&self) -> Vec<String> {
        let callers = self.callers.lock().unwrap_or_else(PoisonError::into_inner);
        callers.keys().cloned().collect()
    }

    /// Forgets the local spend (Redis is back and has been given it).
    pub fn clear_spend(&self, id: &str) {
        let mut callers = self.callers.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(caller) = callers.get_mut(id) {
            caller.spend.1 = 0;
        }
    }
}

/// The wait of a refusal, for the retry-after.
pub fn wait_of(refused: &Refused, budget_ends_in: Duration) -> Duration {
    match refused {
        Refused::Requests(wait) | Refused::Tokens(wait) => *wait,
        Refused::Budget => budget_ends_in,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::QuotaLimits;

    fn check(
        ledger: &LocalLedger,
        id: &str,
        limits: &QuotaLimits,
        (share, tokens, take): (usize, u64, bool),
        window: &str,
        fleet_spent: u64,
    ) -> Checked {
        ledger.check(&Ask {
            id,
            limits,
            share,
            tokens,
            take,
            window,
            fleet_spent,
        })
    }

    fn limits(rpm: Option<u64>, tpm: Option<u64>, budget: Option<f64>) -> QuotaLimits {
        QuotaLimits {
            rpm,
            tpm,
            budget_usd: budget,
            ..QuotaLimits::default()
        }
    }

    #[test]
    fn holds_rpm_and_says_what_is_left() {
        let ledger = LocalLedger::default();
        let l = limits(Some(3), None, None);
        for left in [2, 1, 0] {
            let checked = check(&ledger, "key:ci", &l, (1, 10, true), "d", 0);
            assert!(checked.refused.is_none());
            assert_eq!(checked.limits.requests.map(|w| w.remaining), Some(left));
        }
        let refused = check(&ledger, "key:ci", &l, (1, 10, true), "d", 0);
        assert!(
            matches!(refused.refused, Some(Refused::Requests(w)) if w > Duration::from_secs(19))
        );
        assert!(refused.limits.tokens.is_none());
    }

    #[test]
    fn a_degraded_replica_takes_its_share() {
        let ledger = LocalLedger::default();
        let l = limits(Some(6), None, None);
        let first = check(&ledger, "a", &l, (3, 0, true), "d", 0);
        assert_eq!(
            first.limits.requests.map(|w| (w.limit, w.remaining)),
            Some((2, 1))
        );
        assert!(
            check(&ledger, "a", &l, (3, 0, true), "d", 0)
                .refused
                .is_none()
        );
        assert!(
            check(&ledger, "a", &l, (3, 0, true), "d", 0)
                .refused
                .is_some()
        );
    }

    #[test]
    fn tokens_are_corrected_and_budgets_counted_per_window() {
        let ledger = LocalLedger::default();
        let l = limits(None, Some(100), Some(1.0));
        assert!(
            check(&ledger, "a", &l, (1, 50, true), "d1", 0)
                .refused
                .is_none()
        );
        ledger.settle("a", -60, super::super::nanos(0.6), "d1"); // used 110: in debt
        assert!(matches!(
            check(&ledger, "a", &l, (1, 1, false), "d1", 0).refused,
            Some(Refused::Tokens(_))
        ));
        ledger.settle("a", 200, super::super::nanos(0.5), "d1");
        assert!(matches!(
            check(&ledger, "a", &l, (1, 1, false), "d1", 0).refused,
            Some(Refused::Budget)
        ));
        assert!(
            check(&ledger, "a", &l, (1, 1, false), "d2", 0)
                .refused
                .is_none(),
            "a new day"
        );
        assert!(
            matches!(
                check(
                    &ledger,
                    "a",
                    &l,
                    (1, 1, false),
                    "d2",
                    super::super::nanos(1.0)
                )
                .refused,
                Some(Refused::Budget)
            ),
            "the fleet's spend counts"
        );
    }
}
