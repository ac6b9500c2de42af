//! Where caller limits are kept (in this process, and in Redis in fleet mode), and the
//! admission a request carries until it is settled from its real usage and cost.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use super::{Ask, Checked, Subject, local::LocalLedger, nanos, shared::SharedLedger, window};
use crate::{fleet::FleetStatus, rate_limits::RateLimits};

/// Pending spend is handed to Redis this often (only after a failed settle).
const FLUSH_INTERVAL: Duration = Duration::from_secs(1);

/// Where caller limits are kept; shared by every configuration a reload makes.
pub(super) struct Ledger {
    pub(super) local: LocalLedger,
    /// Redis, in fleet mode.
    pub(super) shared: Option<(SharedLedger, Arc<FleetStatus>)>,
    /// Last spend Redis reported per subject and window (degraded checks start from it).
    pub(super) known_spend: Mutex<HashMap<String, (String, u64)>>,
    /// Spend Redis has not taken yet: (subject, window) → (nano-USD, window end).
    pub(super) pending: Mutex<HashMap<(String, String), (u64, Duration)>>,
}

impl Ledger {
    /// Checks `subject` in Redis (fleet mode, not degraded) or locally.
    pub(super) async fn check(
        &self,
        subject: &Subject,
        tokens: u64,
        take: bool,
        window: &str,
    ) -> Checked {
        let mut ask = Ask {
            id: &subject.id,
            limits: &subject.limits,
            share: 1,
            tokens,
            take,
            window,
            fleet_spent: 0,
        };
        if let Some((shared, status)) = &self.shared {
            if !status.is_degraded()
                && let Some(checked) = shared.check(&ask).await
            {
                let mut known = self
                    .known_spend
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                known.insert(subject.id.clone(), (window.to_owned(), checked.spent_nanos));
                return checked;
            }
            // Redis is away: this replica's share, from the spend last seen.
            ask.share = status.live().max(1);
            let known = self
                .known_spend
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            ask.fleet_spent = known
                .get(&subject.id)
                .filter(|(w, _)| w == window)
                .map_or(0, |(_, spent)| *spent);
        }
        self.local.check(&ask)
    }

    /// Settles in Redis (spawned; kept for the flush loop when Redis does not take it) or
    /// locally.
    fn settle(self: &Arc<Self>, admission: &Admission, token_delta: i64, cost_nanos: u64) {
        let id = admission.subject.id.clone();
        let window = admission.window.clone();
        let tpm = admission.subject.limits.tpm;
        // Locally too: degraded checks count this replica's own spend.
        self.local
            .settle(&id, token_delta, cost_nanos, &window.name);
        if self.shared.is_none() || (token_delta == 0 && cost_nanos == 0) {
            return;
        }
        let ledger = self.clone();
        actix::spawn(async move {
            let Some((shared, _)) = &ledger.shared else {
                return;
            };
            let taken = shared
                .settle(
                    &id,
                    &window.name,
                    window.ends_in,
                    tpm,
                    token_delta,
                    cost_nanos,
                )
                .await;
            if taken {
                return;
            }
            let mut pending = ledger
                .pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let slot = pending
                .entry((id, window.name))
                .or_insert((0, window.ends_in));
            slot.0 = slot.0.saturating_add(cost_nanos);
        });
    }
}

/// Hands spend Redis did not take to it once it is back (a budget must not forget what was
/// acknowledged while Redis was away), while the ledger lives.
pub(super) async fn flush_loop(ledger: std::sync::Weak<Ledger>) {
    let mut tick = tokio::time::interval(FLUSH_INTERVAL);
    loop {
        tick.tick().await;
        let Some(ledger) = ledger.upgrade() else {
            return;
        };
        let Some((shared, status)) = &ledger.shared else {
            return;
        };
        if status.is_degraded() {
            continue;
        }
        let batch: Vec<_> = {
            let mut pending = ledger
                .pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            pending.drain().collect()
        };
        for ((id, window), (nanos, ends_in)) in batch {
            if shared.settle(&id, &window, ends_in, None, 0, nanos).await {
                ledger.local.clear_spend(&id);
                tracing::info!(caller = %id, "Spend kept while Redis was away handed to the fleet.");
            } else {
                let mut pending = ledger
                    .pending
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                let slot = pending.entry((id, window)).or_insert((0, ends_in));
                slot.0 = slot.0.saturating_add(nanos);
            }
        }
    }
}

/// An admitted request's claim on its caller's limits; settled from the real usage when the
/// response ends (a request dropped unfinished keeps its estimate charged).
pub struct Admission {
    pub(super) ledger: Arc<Ledger>,
    pub(super) subject: Subject,
    /// Tokens taken on admission.
    pub(super) tokens: u64,
    pub(super) window: window::BudgetWindow,
    pub(super) rate_limits: RateLimits,
    pub(super) settled: bool,
}

impl std::fmt::Debug for Admission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admission")
            .field("subject", &self.subject.id)
            .field("tokens", &self.tokens)
            .finish_non_exhaustive()
    }
}

impl Admission {
    /// The caller's rate-limit headers for this response.
    pub fn rate_limits(&self) -> RateLimits {
        self.rate_limits
    }
}

impl crate::observability::Settle for Admission {
    fn settle(&mut self, used_tokens: u64, cost_usd: Option<f64>) {
        if std::mem::replace(&mut self.settled, true) {
            return;
        }
        let delta = i64::try_from(self.tokens).unwrap_or(i64::MAX)
            - i64::try_from(used_tokens).unwrap_or(i64::MAX);
        let delta = if self.subject.limits.tpm.is_some() {
            delta
        } else {
            0
        };
        let cost = if self.subject.limits.budget_usd.is_some() {
            cost_usd.map_or(0, nanos)
        } else {
            0
        };
        self.ledger.clone().settle(self, delta, cost);
    }
}
