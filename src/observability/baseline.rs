//! Registers every per-provider series at zero when the gateway starts, so a new dashboard
//! shows 0 rather than "no data" before the first request, error or failover. The label sets
//! are the ones the request path records (same names, order and bounded values), so these are
//! the very series that later move.

use std::collections::BTreeSet;

use super::metrics::{
    CLIENT_DISCONNECTS, COST, ERROR_CLASSES, FAILOVERS, ModelLabels, OTHER, PROVIDER_BREAKER,
    PROVIDER_IN_FLIGHT, PROVIDER_QUEUED, REQUEST_DURATION, REQUESTS, RETRIES, TIME_TO_FIRST_BYTE,
    TOKENS, USAGE_FLUSH_FAILURES,
};
use crate::config::{Config, ProviderConfig};

/// The `kind` values of `gateway_tokens_total` (as `RequestObserver` records them).
const TOKEN_KINDS: [&str; 4] = ["input", "output", "cached", "reasoning"];

/// The `status` registered for `gateway_requests_total`: the one every working provider
/// reaches first; error statuses appear with their first occurrence.
const OK_STATUS: &str = "200";

/// Registers the zero series for every configured provider and its models.
pub fn register(config: &Config, labels: &ModelLabels) {
    for provider in &config.providers {
        let name = provider.name.clone();
        for class in ERROR_CLASSES {
            metrics::counter!(super::metrics::UPSTREAM_ERRORS, "provider" => name.clone(), "class" => class)
                .increment(0);
        }
        metrics::counter!(FAILOVERS, "provider" => name.clone()).increment(0);
        metrics::counter!(RETRIES, "provider" => name.clone()).increment(0);
        for gauge in [PROVIDER_IN_FLIGHT, PROVIDER_QUEUED, PROVIDER_BREAKER] {
            metrics::gauge!(gauge, "provider" => name.clone()).increment(0.0);
        }
        for model in model_labels(config, provider, labels) {
            register_model(&name, &model);
        }
    }
    if config.redis.is_some() {
        metrics::counter!(USAGE_FLUSH_FAILURES).increment(0);
    }
}

/// The `model` labels requests served by `provider` may carry: the models it lists and the
/// model groups with a target on it (unknown names share `other`, which is not registered).
fn model_labels(
    config: &Config,
    provider: &ProviderConfig,
    labels: &ModelLabels,
) -> BTreeSet<String> {
    let groups = config
        .routing
        .models
        .iter()
        .filter(|(_, group)| group.targets.iter().any(|t| t.provider == provider.name))
        .map(|(name, _)| name);
    provider
        .models
        .iter()
        .chain(groups)
        .map(|model| labels.label(model))
        .filter(|label| label != OTHER)
        .collect()
}

fn register_model(provider: &str, model: &str) {
    let (p, m) = (provider.to_owned(), model.to_owned());
    metrics::counter!(REQUESTS, "provider" => p.clone(), "model" => m.clone(), "status" => OK_STATUS)
        .increment(0);
    // Registering a histogram is using it: it renders with empty buckets and `_count 0`.
    drop(metrics::histogram!(REQUEST_DURATION, "provider" => p.clone(), "model" => m.clone()));
    drop(metrics::histogram!(TIME_TO_FIRST_BYTE, "provider" => p.clone(), "model" => m.clone()));
    for kind in TOKEN_KINDS {
        metrics::counter!(TOKENS, "provider" => p.clone(), "model" => m.clone(), "kind" => kind)
            .increment(0);
    }
    metrics::gauge!(COST, "provider" => p.clone(), "model" => m.clone()).increment(0.0);
    metrics::counter!(CLIENT_DISCONNECTS, "provider" => p, "model" => m).increment(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_gets_its_models_and_the_groups_it_serves() {
        let yaml = r#"
providers:
  openai: { api_key: k, models: [gpt-4o] }
  anthropic: { api_key: k, models: [claude-x] }
models:
  smart:
    targets: [{ provider: anthropic, model: claude-x }]
"#;
        let config = Config::from_yaml(yaml, &|_| None).unwrap();
        let labels = ModelLabels::new(&config, std::iter::empty());
        let anthropic = config.provider("anthropic").unwrap();
        let openai = config.provider("openai").unwrap();
        assert_eq!(
            model_labels(&config, anthropic, &labels),
            BTreeSet::from(["claude-x".to_owned(), "smart".to_owned()])
        );
        assert_eq!(
            model_labels(&config, openai, &labels),
            BTreeSet::from(["gpt-4o".to_owned()])
        );
    }
}
