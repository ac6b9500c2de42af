//! Caller quotas and budgets (`quotas:`): `rpm`, `tpm` and a daily or monthly `budget_usd` per
//! static API key or JWT caller (by `sub` or another claim), checked before a request is routed
//! and settled from its real usage and cost when it ends. In fleet mode (Redis and `fleet`) the
//! limits hold across every replica: one Lua script call per request (bounded by
//! `redis.command_timeout`); while Redis is unreachable each replica enforces `limit ÷ live
//! replicas` locally and hands its spend to Redis when it is back. Without Redis they hold per
//! process.

mod ledger;
mod local;
mod report;
mod shared;
pub mod window;

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::Duration,
};

pub use self::{
    ledger::Admission,
    report::{BudgetRow, QuotaRow, WindowRow},
};
use self::{
    ledger::{Ledger, flush_loop},
    local::LocalLedger,
    shared::SharedLedger,
};
use crate::{
    config::{Config, QuotaLimits, QuotasConfig},
    error::GatewayError,
    fleet::FleetStatus,
    rate_limits::RateLimits,
};

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
                let manager = redis.manager("quotas")?;
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
    let per_minute = |what: &str, limit: Option<u64>| {
        (
            "quota_exceeded",
            format!(
                "Rate limit reached for {} on {what} per minute (limit {}). Please try again in {}s.",
                subject.id,
                limit.unwrap_or(0),
                secs.max(1)
            ),
        )
    };
    let (code, message) = match refused {
        Refused::Requests(_) => per_minute("requests", subject.limits.rpm),
        Refused::Tokens(_) => per_minute("tokens", subject.limits.tpm),
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
