//! Caller quotas and budgets (`quotas:`): `rpm`, `tpm` and a daily or monthly `budget_usd` per
//! static API key or JWT caller (by `sub` or another claim), checked before a request is routed
//! and settled from its real usage and cost when it ends. In fleet mode (Redis and `fleet`) the
//! limits hold across every replica: one Lua script call per request (bounded by
//! `redis.command_timeout`); while Redis is unreachable each replica enforces `limit ÷ live
//! replicas` locally and hands its spend to Redis when it is back. Without Redis they hold per
//! process.

mod local;
mod shared;
pub mod window;

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::Serialize;

use self::{local::LocalLedger, shared::SharedLedger};
use crate::{
    config::{Config, QuotaLimits, QuotasConfig},
    error::GatewayError,
    fleet::FleetStatus,
    rate_limits::RateLimits,
};

/// Pending spend is handed to Redis this often (only after a failed settle).
const FLUSH_INTERVAL: Duration = Duration::from_secs(1);

/// USD → nano-USD, the integer unit budgets are counted in.
pub fn nanos(usd: f64) -> u64 {
    if usd.is_finite() && usd > 0.0 {
        (usd * 1e9).round() as u64
    } else {
        0
    }
}

/// Which limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// `rpm`, and until when.
    Requests(Duration),
    /// `tpm`, and until when.
    Tokens(Duration),
    /// `budget_usd` (until the window ends).
    Budget,
}

/// The outcome of one check.
#[derive(Debug, Clone)]
pub struct Checked {
    /// What refused the request, if anything.
    pub refused: Option<Refused>,
    /// The caller's windows after the check.
    pub limits: RateLimits,
    /// Spent in the budget window, in nano-USD.
    pub spent_nanos: u64,
}

/// One check: who, against what, for how much.
#[derive(Clone, Copy)]
pub struct Ask<'a> {
    /// The quota subject.
    pub id: &'a str,
    /// Its limits.
    pub limits: &'a QuotaLimits,
    /// Divide the limits by this (live replicas while degraded; else 1).
    pub share: usize,
    /// The request's estimated tokens.
    pub tokens: u64,
    /// Take the request (false: only look).
    pub take: bool,
    /// The budget window's name.
    pub window: &'a str,
    /// What the fleet was last known to have spent in the window.
    pub fleet_spent: u64,
}

/// A caller's quota identity and limits.
#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    /// `key:<name>`, `sub@iss`, `<claim>:<value>` or `anonymous`.
    pub id: String,
    /// Its limits.
    pub limits: QuotaLimits,
}

/// Where caller limits are kept; shared by every configuration a reload makes.
struct Ledger {
    local: LocalLedger,
    /// Redis, in fleet mode.
    shared: Option<(SharedLedger, Arc<FleetStatus>)>,
    /// Last spend Redis reported per subject and window (degraded checks start from it).
    known_spend: Mutex<HashMap<String, (String, u64)>>,
    /// Spend Redis has not taken yet: (subject, window) → (nano-USD, window end).
    pending: Mutex<HashMap<(String, String), (u64, Duration)>>,
}

/// Caller quotas; cheap to clone.
#[derive(Clone)]
pub struct Quotas {
    config: Arc<QuotasConfig>,
    ledger: Arc<Ledger>,
}

impl Quotas {
    /// Starts the ledger for `config` (in fleet mode, on `redis` with the fleet's `status`; must
    /// run inside an actix System).
    pub fn start(config: &Config, status: Option<Arc<FleetStatus>>) -> Result<Self, GatewayError> {
        let shared = match (config.redis.as_ref(), status) {
            // Set up whenever the fleet is (a reload may add quotas); Redis connects on first use.
            (Some(redis), Some(status)) => {
                let client = redis
                    .client()
                    .map_err(|e| GatewayError::Internal(format!("quota Redis URL: {e}")))?;
                let manager_config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(redis.connect_timeout))
                    .set_response_timeout(Some(redis.command_timeout))
                    .set_number_of_retries(1);
                let manager = ConnectionManager::new_lazy_with_config(client, manager_config)
                    .map_err(|e| GatewayError::Internal(format!("cannot set up Redis: {e}")))?;
                let ledger = SharedLedger::new(manager, &redis.key_prefix, redis.command_timeout);
                Some((ledger, status))
            }
            _ => None,
        };
        let ledger = Arc::new(Ledger {
            local: LocalLedger::default(),
            shared,
            known_spend: Mutex::default(),
            pending: Mutex::default(),
        });
        if ledger.shared.is_some() {
            actix::spawn(flush_loop(Arc::downgrade(&ledger)));
        }
        Ok(Self {
            config: Arc::new(config.quotas.clone()),
            ledger,
        })
    }

    /// The same ledger with `config`'s limits (a configuration reload).
    #[must_use]
    pub fn reconfigure(&self, config: &Config) -> Self {
        Self {
            config: Arc::new(config.quotas.clone()),
            ledger: self.ledger.clone(),
        }
    }

    /// The quota subject of the caller `owner` (with the configured claim's value, if its
    /// token had one), or `None` when it has no limits.
    pub fn subject(&self, owner: &str, claim: Option<&str>) -> Option<Subject> {
        let config = &self.config;
        let (id, own) = if let Some(name) = owner.strip_prefix("key:") {
            (owner.to_owned(), config.api_keys.get(name))
        } else {
            match claim {
                Some(value) if config.claim != "sub" => (
                    format!("{}:{value}", config.claim),
                    config.claims.get(value),
                ),
                Some(value) => (owner.to_owned(), config.claims.get(value)),
                // No claim (anonymous, or a token without it): the default applies.
                None => (owner.to_owned(), None),
            }
        };
        let limits = own.copied().or(config.default)?;
        Some(Subject { id, limits })
    }

    /// Admits a request of `tokens` (estimated) for the caller, or refuses it with 429
    /// `quota_exceeded` / `budget_exceeded`. `None` when the caller has no limits.
    pub async fn admit(
        &self,
        owner: &str,
        claim: Option<&str>,
        tokens: u64,
    ) -> Result<Option<Admission>, GatewayError> {
        let Some(subject) = self.subject(owner, claim) else {
            return Ok(None);
        };
        let window = window::current(subject.limits.budget_period);
        let checked = self
            .ledger
            .check(&subject, tokens, true, &window.name)
            .await;
        if let Some(refused) = checked.refused {
            return Err(refusal(&subject, refused, &window, checked.limits));
        }
        let tokens = subject.limits.tpm.map_or(0, |cap| tokens.min(cap));
        Ok(Some(Admission {
            ledger: self.ledger.clone(),
            subject,
            tokens,
            window,
            rate_limits: checked.limits,
            settled: false,
        }))
    }

    /// Refuses the caller now if a request would be refused, without taking anything (a
    /// background response is checked when it is created, admitted when it runs).
    pub async fn check(&self, owner: &str, claim: Option<&str>) -> Result<(), GatewayError> {
        let Some(subject) = self.subject(owner, claim) else {
            return Ok(());
        };
        let window = window::current(subject.limits.budget_period);
        let checked = self.ledger.check(&subject, 0, false, &window.name).await;
        match checked.refused {
            Some(refused) => Err(refusal(&subject, refused, &window, checked.limits)),
            None => Ok(()),
        }
    }

    /// Every limited caller's state (`scope`: only that owner's), for `GET /v1/usage`.
    pub async fn report(&self, scope: Option<(&str, Option<&str>)>) -> Vec<QuotaRow> {
        let subjects: Vec<Subject> = match scope {
            Some((owner, claim)) => self.subject(owner, claim).into_iter().collect(),
            None => self.known_subjects(),
        };
        let mut rows = Vec::with_capacity(subjects.len());
        for subject in subjects {
            let window = window::current(subject.limits.budget_period);
            let checked = self.ledger.check(&subject, 0, false, &window.name).await;
            rows.push(QuotaRow::new(&subject, &checked, &window));
        }
        rows
    }

    /// The configured subjects and those seen by this replica.
    fn known_subjects(&self) -> Vec<Subject> {
        let config = &self.config;
        let mut ids: BTreeMap<String, QuotaLimits> = BTreeMap::new();
        for (name, limits) in &config.api_keys {
            ids.insert(format!("key:{name}"), *limits);
        }
        for id in self.ledger.local.seen() {
            let limits = id
                .strip_prefix("key:")
                .and_then(|name| config.api_keys.get(name))
                .or_else(|| claim_value(&config.claim, &id).and_then(|v| config.claims.get(v)))
                .or(config.default.as_ref());
            if let Some(limits) = limits {
                ids.insert(id, *limits);
            }
        }
        if config.claim != "sub" {
            for (value, limits) in &config.claims {
                ids.insert(format!("{}:{value}", config.claim), *limits);
            }
        }
        ids.into_iter()
            .map(|(id, limits)| Subject { id, limits })
            .collect()
    }
}

/// The claim value in a subject id `<claim>:<value>`.
fn claim_value<'a>(claim: &str, id: &'a str) -> Option<&'a str> {
    id.strip_prefix(claim)?.strip_prefix(':')
}

/// The 429 for a refusal.
fn refusal(
    subject: &Subject,
    refused: Refused,
    window: &window::BudgetWindow,
    limits: RateLimits,
) -> GatewayError {
    let retry_after = local::wait_of(&refused, window.ends_in);
    let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
    let (code, message) = match refused {
        Refused::Requests(_) => (
            "quota_exceeded",
            format!(
                "Rate limit reached for {} on requests per minute (limit {}). Please try again in {}s.",
                subject.id,
                subject.limits.rpm.unwrap_or(0),
                secs.max(1)
            ),
        ),
        Refused::Tokens(_) => (
            "quota_exceeded",
            format!(
                "Rate limit reached for {} on tokens per minute (limit {}). Please try again in {}s.",
                subject.id,
                subject.limits.tpm.unwrap_or(0),
                secs.max(1)
            ),
        ),
        Refused::Budget => (
            "budget_exceeded",
            format!(
                "{} has spent its budget of {} USD for this {} ({}); it renews in {}s.",
                subject.id,
                subject.limits.budget_usd.unwrap_or(0.0),
                subject.limits.budget_period.as_str(),
                window.name,
                secs.max(1)
            ),
        ),
    };
    GatewayError::CallerLimit {
        code,
        message,
        retry_after,
        limits,
    }
}

impl Ledger {
    /// Checks `subject` in Redis (fleet mode, not degraded) or locally.
    async fn check(&self, subject: &Subject, tokens: u64, take: bool, window: &str) -> Checked {
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
async fn flush_loop(ledger: std::sync::Weak<Ledger>) {
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
    ledger: Arc<Ledger>,
    subject: Subject,
    /// Tokens taken on admission.
    tokens: u64,
    window: window::BudgetWindow,
    rate_limits: RateLimits,
    settled: bool,
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

/// One caller's limits in `GET /v1/usage`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct QuotaRow {
    /// The quota subject.
    pub caller: String,
    /// Requests per minute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<WindowRow>,
    /// Tokens per minute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens: Option<WindowRow>,
    /// The spending budget.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<BudgetRow>,
}

/// A per-minute limit's state.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WindowRow {
    /// Per minute.
    pub limit: u64,
    /// Left now.
    pub remaining: u64,
    /// Seconds until whole again.
    pub reset_seconds: f64,
}

/// A budget's state.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BudgetRow {
    /// USD per period.
    pub limit_usd: f64,
    /// Spent in this window.
    pub spent_usd: f64,
    /// Left in this window.
    pub remaining_usd: f64,
    /// `day` or `month` (UTC).
    pub period: &'static str,
    /// The window (`2026-12-03`, `2026-12`).
    pub window: String,
    /// Seconds until the next window.
    pub reset_seconds: f64,
}

impl QuotaRow {
    fn new(subject: &Subject, checked: &Checked, window: &window::BudgetWindow) -> Self {
        let row = |w: crate::rate_limits::Window| WindowRow {
            limit: w.limit,
            remaining: w.remaining,
            reset_seconds: w.reset.as_secs_f64(),
        };
        let spent = checked.spent_nanos as f64 / 1e9;
        Self {
            caller: subject.id.clone(),
            requests: checked.limits.requests.map(row),
            tokens: checked.limits.tokens.map(row),
            budget: subject.limits.budget_usd.map(|limit| BudgetRow {
                limit_usd: limit,
                spent_usd: spent,
                remaining_usd: (limit - spent).max(0.0),
                period: subject.limits.budget_period.as_str(),
                window: window.name.clone(),
                reset_seconds: window.ends_in.as_secs_f64(),
            }),
        }
    }
}
