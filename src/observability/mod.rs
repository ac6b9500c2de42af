//! Observability: the per-request log line, Prometheus metrics, prices and usage accounting.
//! A [`RequestObserver`] follows each model request and records it once at the end; nothing
//! here awaits I/O on the request path (metrics are atomics, usage is an in-memory add that a
//! background task copies to Redis).

mod baseline;
mod log;
pub mod metrics;
pub mod prices;
mod process;
mod request;
pub mod sink;
pub mod usage;

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;

pub use self::{
    metrics::ModelLabels,
    prices::PriceTable,
    request::{CLIENT_CLOSED, RequestObserver, Settle},
    usage::{UsageLedger, UsageRow},
};
use crate::{config::Config, error::GatewayError};

/// Shared by every request; cheap to clone.
#[derive(Clone)]
pub struct Observability {
    inner: Arc<Inner>,
}

struct Inner {
    labels: ModelLabels,
    prices: PriceTable,
    usage: UsageLedger,
    prometheus: Option<PrometheusHandle>,
    usage_admins: Vec<String>,
}

impl Observability {
    /// Builds it for `config`: installs the process-wide Prometheus recorder when metrics are
    /// enabled and starts the usage ledger (must run inside an actix System).
    pub fn start(config: &Config) -> Result<Self, GatewayError> {
        let prices = PriceTable::new(&config.prices);
        let labels = ModelLabels::new(config, prices.models());
        let prometheus = if config.metrics.enabled {
            metrics::install()
        } else {
            None
        };
        if prometheus.is_some() {
            baseline::register(config, &labels);
        }
        Ok(Self {
            inner: Arc::new(Inner {
                labels,
                prices,
                usage: UsageLedger::start(config.redis.as_ref())?,
                prometheus,
                usage_admins: config.usage.admins.clone(),
            }),
        })
    }

    /// The same recorder and usage ledger with `config`'s prices, model labels and usage
    /// admins (a configuration reload); the new providers' and models' series start at zero.
    pub fn reconfigure(&self, config: &Config) -> Self {
        let prices = PriceTable::new(&config.prices);
        let labels = ModelLabels::new(config, prices.models());
        if self.inner.prometheus.is_some() {
            baseline::register(config, &labels);
        }
        Self {
            inner: Arc::new(Inner {
                labels,
                prices,
                usage: self.inner.usage.clone(),
                prometheus: self.inner.prometheus.clone(),
                usage_admins: config.usage.admins.clone(),
            }),
        }
    }

    /// Starts following a model request for `caller` asking for `model`.
    pub fn observe(
        &self,
        request_id: &str,
        caller: &str,
        model: &str,
        stream: bool,
    ) -> RequestObserver {
        RequestObserver::new(self.clone(), request_id, caller, model, stream)
    }

    /// Records a model request rejected before it could be read (bad JSON, too large, no
    /// caller): the same log line and counters as any other request, without a model.
    pub fn reject(&self, request_id: &str, err: &GatewayError) {
        self.observe(request_id, "", "", false).fail(err);
    }

    /// The Prometheus handle (`None` when metrics are disabled).
    pub fn prometheus(&self) -> Option<&PrometheusHandle> {
        self.inner.prometheus.as_ref()
    }

    /// The usage ledger.
    pub fn usage(&self) -> &UsageLedger {
        &self.inner.usage
    }

    /// The price table.
    pub fn prices(&self) -> &PriceTable {
        &self.inner.prices
    }

    /// The `model` label for `model` (bounded: unknown names are `other`).
    pub fn model_label(&self, model: &str) -> String {
        self.inner.labels.label(model)
    }

    /// Whether `caller` may see every caller's usage (`usage.admins`, or the only caller of a
    /// gateway without authentication).
    pub fn sees_all_usage(&self, caller: &str) -> bool {
        caller == crate::auth::Caller::ANONYMOUS
            || self.inner.usage_admins.iter().any(|a| a == caller)
    }
}
