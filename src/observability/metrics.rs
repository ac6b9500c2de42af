//! Prometheus metrics: the names, the process-wide recorder (installed once, rendered by our own
//! `GET /metrics`), bounded labels, and the gauges sampled from the actors at scrape time. The
//! request path only touches `metrics` handles (atomics); nothing here awaits on it.

use std::{collections::HashSet, sync::OnceLock, time::Duration};

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::{
    config::Config,
    error::{GatewayError, UpstreamErrorKind},
};

/// Requests answered, by `provider`, `model` and `status`.
pub const REQUESTS: &str = "gateway_requests_total";
/// Total request latency in seconds, by `provider` and `model`.
pub const REQUEST_DURATION: &str = "gateway_request_duration_seconds";
/// Time until the first byte of the answer could be sent, by `provider` and `model`.
pub const TIME_TO_FIRST_BYTE: &str = "gateway_time_to_first_byte_seconds";
/// Tokens by `provider`, `model` and `kind` (`input`, `output`, `cached`, `reasoning`).
pub const TOKENS: &str = "gateway_tokens_total";
/// Cost in USD by `provider` and `model` (a float counter).
pub const COST: &str = "gateway_cost_usd_total";
/// Failed upstream attempts and admission refusals by `provider` and `class`.
pub const UPSTREAM_ERRORS: &str = "gateway_upstream_errors_total";
/// Attempts abandoned on `provider` for the next candidate.
pub const FAILOVERS: &str = "gateway_failovers_total";
/// Attempts repeated on the same `provider`.
pub const RETRIES: &str = "gateway_retries_total";
/// Requests whose client left before the answer was complete, by `provider` and `model`.
pub const CLIENT_DISCONNECTS: &str = "gateway_client_disconnects_total";
/// Rejected credentials by `reason` (the error code).
pub const AUTH_FAILURES: &str = "gateway_auth_failures_total";
/// Upstream requests running, by `provider` (sampled at scrape time).
pub const PROVIDER_IN_FLIGHT: &str = "gateway_provider_in_flight";
/// Requests waiting for a provider permit, by `provider` (sampled at scrape time).
pub const PROVIDER_QUEUED: &str = "gateway_provider_queued";
/// Breaker state by `provider`: 0 closed, 1 half-open, 2 open (sampled at scrape time).
pub const PROVIDER_BREAKER: &str = "gateway_provider_breaker_state";
/// Records in the memory conversation store.
pub const STORE_ENTRIES: &str = "gateway_conversation_store_entries";
/// Bytes held by the memory conversation store.
pub const STORE_BYTES: &str = "gateway_conversation_store_bytes";
/// Records evicted from the memory store to stay within its bounds.
pub const STORE_EVICTIONS: &str = "gateway_conversation_store_evictions_total";
/// Records expired from the memory store.
pub const STORE_EXPIRATIONS: &str = "gateway_conversation_store_expirations_total";
/// Responses that could not be stored (either store).
pub const STORE_FAILURES: &str = "gateway_conversation_store_failures_total";
/// Failed writes of usage totals to Redis (retried on the next flush).
pub const USAGE_FLUSH_FAILURES: &str = "gateway_usage_flush_failures_total";
/// 1 while Redis is unreachable in fleet mode and limits are enforced locally, else 0.
pub const FLEET_DEGRADED: &str = "gateway_fleet_degraded";
/// Always 1, labelled with the running build's `version` and `commit`.
pub const BUILD_INFO: &str = "gateway_build_info";

/// The label for a model or provider outside the configured set.
pub const OTHER: &str = "other";
/// The provider label when no provider was tried.
pub const NO_PROVIDER: &str = "none";

/// Latency buckets in seconds (LLM answers take from milliseconds to minutes).
const DURATION_BUCKETS: &[f64] = &[
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];
/// Time-to-first-byte buckets in seconds.
const TTFB_BUCKETS: &[f64] = &[
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];
/// How often histogram samples are folded even when nobody scrapes (keeps memory flat).
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// The process-wide recorder: `metrics` has one global recorder, so every gateway in the
/// process (several in tests) shares it.
static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the Prometheus recorder once per process and returns its handle (`None` when
/// another recorder was installed first, which is logged).
pub fn install() -> Option<PrometheusHandle> {
    HANDLE.get_or_init(build).clone()
}

fn build() -> Option<PrometheusHandle> {
    let builder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(REQUEST_DURATION.to_owned()), DURATION_BUCKETS)
        .and_then(|b| {
            b.set_buckets_for_metric(Matcher::Full(TIME_TO_FIRST_BYTE.to_owned()), TTFB_BUCKETS)
        });
    let handle = match builder.and_then(PrometheusBuilder::install_recorder) {
        Ok(handle) => handle,
        Err(err) => {
            tracing::error!(error = %err, "Cannot install the metrics recorder; /metrics stays empty.");
            return None;
        }
    };
    describe();
    metrics::gauge!(BUILD_INFO, "version" => crate::VERSION, "commit" => crate::COMMIT).set(1.0);
    let upkeep = handle.clone();
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".to_owned())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_INTERVAL);
                upkeep.run_upkeep();
            }
        });
    if let Err(err) = spawned {
        tracing::warn!(error = %err, "Cannot start the metrics upkeep thread; scrapes still fold histograms.");
    }
    Some(handle)
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        REQUESTS,
        "Requests answered, by provider, model and HTTP status."
    );
    describe_histogram!(REQUEST_DURATION, Unit::Seconds, "Total request latency.");
    describe_histogram!(
        TIME_TO_FIRST_BYTE,
        Unit::Seconds,
        "Time until the first byte of the answer could be sent."
    );
    describe_counter!(TOKENS, "Tokens by kind: input, output, cached, reasoning.");
    describe_counter!(COST, "Cost in USD from the price table.");
    describe_counter!(
        UPSTREAM_ERRORS,
        "Failed upstream attempts and refusals by class."
    );
    describe_counter!(FAILOVERS, "Attempts abandoned for the next candidate.");
    describe_counter!(RETRIES, "Attempts repeated on the same provider.");
    describe_counter!(
        CLIENT_DISCONNECTS,
        "Clients that left before the answer ended."
    );
    describe_counter!(AUTH_FAILURES, "Rejected credentials by reason.");
    describe_gauge!(PROVIDER_IN_FLIGHT, "Upstream requests running.");
    describe_gauge!(
        FLEET_DEGRADED,
        "1 while Redis is unreachable and fleet limits are enforced locally."
    );
    describe_gauge!(PROVIDER_QUEUED, "Requests waiting for a provider permit.");
    describe_gauge!(
        PROVIDER_BREAKER,
        "Breaker state: 0 closed, 1 half-open, 2 open."
    );
    describe_gauge!(STORE_ENTRIES, "Records in the memory conversation store.");
    describe_gauge!(STORE_BYTES, Unit::Bytes, "Bytes held by the memory store.");
    describe_counter!(STORE_EVICTIONS, "Records evicted to stay within bounds.");
    describe_counter!(STORE_EXPIRATIONS, "Records expired after their TTL.");
    describe_counter!(STORE_FAILURES, "Responses that could not be stored.");
    describe_counter!(USAGE_FLUSH_FAILURES, "Failed usage writes to Redis.");
    describe_gauge!(BUILD_INFO, "Always 1; the labels name the running build.");
}

/// Renders the scrape body. `gateway_cost_usd_total` is kept as a float gauge (`metrics`
/// counters are integers) that only ever grows, so it is declared a counter here. The process
/// metrics (`/proc`) are read now and appended.
pub fn render(handle: &PrometheusHandle) -> String {
    let mut text = handle.render().replace(
        &format!("# TYPE {COST} gauge"),
        &format!("# TYPE {COST} counter"),
    );
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&super::process::render());
    text
}

/// The set of model names that may appear as a `model` label; everything else is `other`, so
/// random model names from clients cannot grow the label set.
#[derive(Debug, Clone, Default)]
pub struct ModelLabels {
    known: HashSet<String>,
}

impl ModelLabels {
    /// Configured models: every provider's `models`, routing aliases and fallback keys and
    /// alias targets, model groups, and the priced models.
    pub fn new<'a>(config: &Config, priced: impl Iterator<Item = &'a str>) -> Self {
        let mut known: HashSet<String> = priced.map(str::to_owned).collect();
        for provider in &config.providers {
            known.extend(provider.models.iter().cloned());
            known.extend(provider.deployments.keys().cloned());
        }
        known.extend(config.routing.aliases.keys().cloned());
        known.extend(config.routing.fallbacks.keys().cloned());
        known.extend(config.routing.models.keys().cloned());
        for target in config.routing.aliases.values() {
            known.insert(target.rsplit('/').next().unwrap_or(target).to_owned());
        }
        Self { known }
    }

    /// The label for `model`: itself when known (a `provider/` prefix is dropped), else `other`.
    pub fn label(&self, model: &str) -> String {
        if self.known.contains(model) {
            return model.to_owned();
        }
        match model.rsplit_once('/') {
            Some((_, bare)) if self.known.contains(bare) => bare.to_owned(),
            _ => OTHER.to_owned(),
        }
    }
}

/// Every `class` label `error_class` can give (registered at zero for each provider at start;
/// a test keeps the two in step).
pub const ERROR_CLASSES: [&str; 16] = [
    "bad_request",
    "not_found",
    "auth",
    "rate_limited",
    "quota_exceeded",
    "overloaded",
    "server",
    "timeout",
    "connect",
    "protocol",
    "content_filter",
    "queue_full",
    "circuit_open",
    "shutting_down",
    "internal",
    "gateway",
];

/// The `class` label of a failed attempt (a fixed set).
pub fn error_class(err: &GatewayError) -> &'static str {
    match err {
        GatewayError::Upstream(e) => match e.kind {
            UpstreamErrorKind::BadRequest => "bad_request",
            UpstreamErrorKind::NotFound => "not_found",
            UpstreamErrorKind::Auth => "auth",
            UpstreamErrorKind::RateLimited => "rate_limited",
            UpstreamErrorKind::QuotaExceeded => "quota_exceeded",
            UpstreamErrorKind::Overloaded => "overloaded",
            UpstreamErrorKind::Server => "server",
            UpstreamErrorKind::Timeout => "timeout",
            UpstreamErrorKind::Connect => "connect",
            UpstreamErrorKind::Protocol => "protocol",
            UpstreamErrorKind::ContentFilter => "content_filter",
            UpstreamErrorKind::ContextLengthExceeded => "context_length_exceeded",
        },
        GatewayError::QueueFull { .. } => "queue_full",
        GatewayError::NoHealthyProvider { .. } => "circuit_open",
        GatewayError::RateLimited { .. } => "rate_limited",
        GatewayError::ShuttingDown => "shutting_down",
        GatewayError::Internal(_) => "internal",
        GatewayError::InvalidRequest { .. }
        | GatewayError::CallerLimit { .. }
        | GatewayError::NotFound { .. }
        | GatewayError::PayloadTooLarge { .. }
        | GatewayError::RequestTimeout { .. }
        | GatewayError::Overloaded { .. }
        | GatewayError::StoreUnavailable(_)
        | GatewayError::BackgroundLimit { .. }
        | GatewayError::Cancelled
        | GatewayError::Unauthorized { .. }
        | GatewayError::AuthUnavailable => "gateway",
    }
}

/// Counts a failed attempt (or admission refusal) on `provider`.
pub fn record_upstream_error(provider: &str, err: &GatewayError) {
    metrics::counter!(UPSTREAM_ERRORS, "provider" => provider.to_owned(), "class" => error_class(err))
        .increment(1);
}

/// Counts an attempt abandoned on `provider` for the next candidate.
pub fn record_failover(provider: &str) {
    metrics::counter!(FAILOVERS, "provider" => provider.to_owned()).increment(1);
}

/// Counts an attempt repeated on the same `provider`.
pub fn record_retry(provider: &str) {
    metrics::counter!(RETRIES, "provider" => provider.to_owned()).increment(1);
}

/// Counts rejected credentials; `reason` is the error code (a fixed set).
pub fn record_auth_failure(reason: &'static str) {
    metrics::counter!(AUTH_FAILURES, "reason" => reason).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_models_share_one_label() {
        let config = Config::from_yaml(
            "providers:\n  openai:\n    api_key: k\n    models: [gpt-4o]\nrouting:\n  aliases: { fast: \"anthropic/claude-x\" }\n",
            &|_| None,
        )
        .unwrap();
        let labels = ModelLabels::new(&config, ["priced-model"].into_iter());
        assert_eq!(labels.label("gpt-4o"), "gpt-4o");
        assert_eq!(labels.label("openai/gpt-4o"), "gpt-4o");
        assert_eq!(labels.label("fast"), "fast");
        assert_eq!(labels.label("claude-x"), "claude-x");
        assert_eq!(labels.label("priced-model"), "priced-model");
        let distinct: HashSet<String> = (0..1000)
            .map(|i| labels.label(&format!("random-{i}")))
            .collect();
        assert_eq!(distinct.len(), 1);
        assert!(distinct.contains(OTHER));
    }

    #[test]
    fn error_classes_lists_every_class_error_class_gives() {
        use crate::error::{UpstreamError, UpstreamErrorKind as K};
        let wait = Duration::from_secs(1);
        let kinds = [
            K::BadRequest,
            K::NotFound,
            K::Auth,
            K::RateLimited,
            K::QuotaExceeded,
            K::Overloaded,
            K::Server,
            K::Timeout,
            K::Connect,
            K::Protocol,
            K::ContentFilter,
        ];
        let mut errors: Vec<GatewayError> = kinds
            .into_iter()
            .map(|k| UpstreamError::new("p", k, "m").into())
            .collect();
        errors.extend([
            GatewayError::QueueFull {
                provider: "p".to_owned(),
                retry_after: wait,
            },
            GatewayError::NoHealthyProvider {
                model: "m".to_owned(),
                retry_after: wait,
            },
            GatewayError::ShuttingDown,
            GatewayError::Internal("x".to_owned()),
            GatewayError::AuthUnavailable,
        ]);
        let given: HashSet<&str> = errors.iter().map(error_class).collect();
        assert_eq!(given, ERROR_CLASSES.into_iter().collect::<HashSet<_>>());
    }
}
