//! Usage accounting: token and cost totals per caller and model since start. Adding is a short
//! in-memory update (no I/O on the request path). With Redis configured (`redis:`, or the old
//! `conversations.redis_url`) the totals live in one Redis hash (`<key_prefix>usage`) that every
//! replica adds to with `HINCRBY`: a background task flushes this replica's pending deltas once a second and keeps them on failure.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex, PoisonError, Weak},
    time::Duration,
};

use redis::aio::ConnectionManager;
use serde::Serialize;

use crate::{api::Usage, config::RedisStoreConfig, error::GatewayError};

/// How often pending deltas are written to Redis.
const FLUSH_INTERVAL: Duration = Duration::from_secs(1);
/// Costs are added in nano-USD so Redis can keep them with integer `HINCRBY`, exactly.
const NANOS_PER_USD: f64 = 1e9;
/// Separates caller, model and counter in a Redis hash field (`caller|model|counter`; split
/// from the right, so a caller may contain it).
const FIELD_SEPARATOR: char = '|';

/// Totals for one caller and model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsageTotals {
    /// Responses served.
    pub requests: u64,
    /// Input tokens (cached included).
    pub input_tokens: u64,
    /// Output tokens (reasoning included).
    pub output_tokens: u64,
    /// Input tokens read from a prompt cache.
    pub cached_tokens: u64,
    /// Reasoning tokens.
    pub reasoning_tokens: u64,
    /// Cost in nano-USD (unpriced models add nothing).
    pub cost_nanos: u64,
}

/// The counters as `(Redis field suffix, accessor)`.
/// Selects one counter of the totals.
type Counter = fn(&mut UsageTotals) -> &mut u64;
type Field = (&'static str, Counter);
const FIELDS: [Field; 6] = [
    ("requests", |t| &mut t.requests),
    ("input_tokens", |t| &mut t.input_tokens),
    ("output_tokens", |t| &mut t.output_tokens),
    ("cached_tokens", |t| &mut t.cached_tokens),
    ("reasoning_tokens", |t| &mut t.reasoning_tokens),
    ("cost_nanousd", |t| &mut t.cost_nanos),
];

impl UsageTotals {
    fn add(&mut self, other: &Self) {
        let mut other = *other;
        for (_, field) in FIELDS {
            let value = *field(&mut other);
            let slot = field(self);
            *slot = slot.saturating_add(value);
        }
    }
}

/// One row of `GET /v1/usage`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageRow {
    /// The caller (`key:<name>`, `sub@iss` or `anonymous`).
    pub caller: String,
    /// The model label (a configured model, or `other`).
    pub model: String,
    /// Responses served.
    pub requests: u64,
    /// Input tokens (cached included).
    pub input_tokens: u64,
    /// Output tokens (reasoning included).
    pub output_tokens: u64,
    /// Cached input tokens.
    pub cached_tokens: u64,
    /// Reasoning tokens.
    pub reasoning_tokens: u64,
    /// Cost in USD from the price table.
    pub cost_usd: f64,
}

type Key = (String, String);

/// The ledger; cheap to clone into every worker.
#[derive(Clone)]
pub struct UsageLedger {
    inner: Arc<Inner>,
}

struct Inner {
    /// Memory mode: the totals. Redis mode: deltas not yet flushed.
    local: Mutex<HashMap<Key, UsageTotals>>,
    redis: Option<RedisUsage>,
    started_at: u64,
}

struct RedisUsage {
    manager: ConnectionManager,
    key: String,
}

impl UsageLedger {
    /// A ledger in this process, or in `redis` when configured (must run inside an actix
    /// System then: the flusher is spawned there; Redis connects on first use).
    pub fn start(redis: Option<&RedisStoreConfig>) -> Result<Self, GatewayError> {
        let redis = match redis {
            None => None,
            Some(config) => {
                let manager = config.manager("usage")?;
                Some(RedisUsage {
                    manager,
                    key: format!("{}usage", config.key_prefix),
                })
            }
        };
        let has_redis = redis.is_some();
        let ledger = Self {
            inner: Arc::new(Inner {
                local: Mutex::new(HashMap::new()),
                redis,
                started_at: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs()),
            }),
        };
        if has_redis {
            actix_web::rt::spawn(flush_loop(Arc::downgrade(&ledger.inner)));
        }
        Ok(ledger)
    }

    /// Unix seconds when this process started counting.
    pub fn started_at(&self) -> u64 {
        self.inner.started_at
    }

    /// `memory` or `redis`.
    pub fn kind(&self) -> &'static str {
        if self.inner.redis.is_some() {
            "redis"
        } else {
            "memory"
        }
    }

    /// Adds one served response (synchronous and I/O-free: safe on the request path).
    pub fn add(&self, caller: &str, model: &str, usage: &Usage, cost_usd: Option<f64>) {
        // Rounded to whole nano-USD; a negative or NaN cost cannot occur (prices are checked).
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "cost is finite, non-negative and far below 2^64 nano-USD"
        )]
        let cost_nanos = (cost_usd.unwrap_or(0.0) * NANOS_PER_USD).round().max(0.0) as u64;
        let delta = UsageTotals {
            requests: 1,
            input_tokens: usage.input_tokens,
            output_tokens: usage.output_tokens,
            cached_tokens: usage.input_tokens_details.cached_tokens,
            reasoning_tokens: usage.output_tokens_details.reasoning_tokens,
            cost_nanos,
        };
        let mut local = self.lock();
        local
            .entry((caller.to_owned(), model.to_owned()))
            .or_default()
            .add(&delta);
    }

    /// Totals per caller and model (only `caller`'s rows unless `caller` is `None`), sorted.
    /// With Redis: the shared totals plus this replica's unflushed deltas.
    pub async fn rows(&self, caller: Option<&str>) -> Result<Vec<UsageRow>, GatewayError> {
        let mut totals: BTreeMap<Key, UsageTotals> = BTreeMap::new();
        if let Some(redis) = &self.inner.redis {
            let fields: HashMap<String, u64> = redis::cmd("HGETALL")
                .arg(&redis.key)
                .query_async(&mut redis.manager.clone())
                .await
                .map_err(|e| GatewayError::StoreUnavailable(format!("Redis HGETALL: {e}")))?;
            for (field, value) in fields {
                if let Some((key, set)) = parse_field(&field) {
                    *set(totals.entry(key).or_default()) = value;
                }
            }
        }
        for (key, delta) in self.lock().iter() {
            totals.entry(key.clone()).or_default().add(delta);
        }
        Ok(totals
            .into_iter()
            .filter(|((who, _), _)| caller.is_none_or(|c| c == who))
            .map(|((caller, model), t)| row(caller, model, &t))
            .collect())
    }

    /// Writes pending deltas to Redis now (no-op in memory mode); failed deltas stay pending.
    pub async fn flush(&self) {
        flush(&self.inner).await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, UsageTotals>> {
        // A panic while holding this short lock cannot leave the map half-updated.
        self.inner
            .local
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

fn row(caller: String, model: String, t: &UsageTotals) -> UsageRow {
    #[expect(clippy::cast_precision_loss, reason = "display only")]
    let cost_usd = t.cost_nanos as f64 / NANOS_PER_USD;
    UsageRow {
        caller,
        model,
        requests: t.requests,
        input_tokens: t.input_tokens,
        output_tokens: t.output_tokens,
        cached_tokens: t.cached_tokens,
        reasoning_tokens: t.reasoning_tokens,
        cost_usd,
    }
}

/// `caller|model|counter` → the key and the counter's accessor.
fn parse_field(field: &str) -> Option<(Key, Counter)> {
    let mut parts = field.rsplitn(3, FIELD_SEPARATOR);
    let (counter, model, caller) = (parts.next()?, parts.next()?, parts.next()?);
    let (_, set) = FIELDS.iter().find(|(name, _)| *name == counter)?;
    Some(((caller.to_owned(), model.to_owned()), *set))
}

async fn flush_loop(inner: Weak<Inner>) {
    let mut tick = tokio::time::interval(FLUSH_INTERVAL);
    loop {
        tick.tick().await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        flush(&inner).await;
    }
}

async fn flush(inner: &Inner) {
    let Some(redis) = &inner.redis else {
        return;
    };
    let pending = std::mem::take(&mut *inner.local.lock().unwrap_or_else(PoisonError::into_inner));
    if pending.is_empty() {
        return;
    }
    let mut pipe = redis::pipe();
    pipe.atomic();
    for ((caller, model), totals) in &pending {
        let mut totals = *totals;
        for (name, field) in FIELDS {
            let value = *field(&mut totals);
            if value > 0 {
                let sep = FIELD_SEPARATOR;
                pipe.cmd("HINCRBY")
                    .arg(&redis.key)
                    .arg(format!("{caller}{sep}{model}{sep}{name}"))
                    .arg(value)
                    .ignore();
            }
        }
    }
    if let Err(err) = pipe.query_async::<()>(&mut redis.manager.clone()).await {
        tracing::warn!(error = %err, "Cannot write usage totals to Redis; keeping them for the next flush.");
        metrics::counter!(super::metrics::USAGE_FLUSH_FAILURES).increment(1);
        let mut local = inner.local.lock().unwrap_or_else(PoisonError::into_inner);
        for (key, delta) in pending {
            local.entry(key).or_default().add(&delta);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[actix_web::test]
    async fn memory_totals_add_up_per_caller_and_model() {
        let config = Config::from_yaml("", &|_| None).unwrap();
        let ledger = UsageLedger::start(config.redis.as_ref()).unwrap();
        let usage = Usage::new(100, 20, 40, 5);
        ledger.add("key:a", "gpt-4o", &usage, Some(0.5));
        ledger.add("key:a", "gpt-4o", &usage, Some(0.25));
        ledger.add("key:b", "other", &usage, None);
        let all = ledger.rows(None).await.unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].caller, "key:a");
        assert_eq!(all[0].requests, 2);
        assert_eq!(all[0].input_tokens, 200);
        assert_eq!(all[0].cached_tokens, 80);
        assert_eq!(all[0].reasoning_tokens, 10);
        assert!((all[0].cost_usd - 0.75).abs() < 1e-9);
        assert!(all[1].cost_usd.abs() < f64::EPSILON);
        let own = ledger.rows(Some("key:b")).await.unwrap();
        assert_eq!(own.len(), 1);
        assert_eq!(own[0].model, "other");
    }

    #[test]
    fn fields_split_from_the_right() {
        let (key, set) = parse_field("a|b@c|gpt-4o|output_tokens").unwrap();
        assert_eq!(key, ("a|b@c".to_owned(), "gpt-4o".to_owned()));
        let mut totals = UsageTotals::default();
        *set(&mut totals) = 7;
        assert_eq!(totals.output_tokens, 7);
        assert!(parse_field("caller|model|unknown").is_none());
        assert!(parse_field("nothing").is_none());
    }
}
