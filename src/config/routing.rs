//! The routing parts of the config: `models:` (model groups: a public name served by ordered
//! targets with a strategy) and the retry settings under `routing:`, raw and validated.

use super::{duration, invalid};
use std::collections::BTreeMap;

use gateway_actors::{Price, Strategy};
use serde::Deserialize;

use super::RetryPolicy;
use super::{ConfigError, raw::RawRouting};

/// One `models:` entry as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawModelGroup {
    /// `priority` (default), `weighted`, `least_busy`, `latency` or `cost`.
    pub strategy: Option<String>,
    /// Retries per target for this model (default `routing.retries`).
    pub retries: Option<u32>,
    /// Where the model is served, in priority order.
    #[serde(default)]
    pub targets: Vec<RawTarget>,
}

/// One target as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    /// Provider instance name (a `providers:` block).
    pub provider: String,
    /// Upstream model or Azure deployment (default: the public name).
    pub model: Option<String>,
    /// Share under `weighted` (default 1; 0 = fallback only).
    pub weight: Option<u32>,
    /// USD per million tokens, overriding the default table (for `cost`).
    pub price: Option<RawPrice>,
}

/// A price as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrice {
    /// Per million input tokens.
    pub input: f64,
    /// Per million output tokens.
    pub output: f64,
}

/// A validated model group.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelGroup {
    /// How targets are ordered.
    pub strategy: Strategy,
    /// Retries per target (overrides `routing.retries`).
    pub retries: Option<u32>,
    /// Targets in declared order.
    pub targets: Vec<ModelTarget>,
}

/// A validated target.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelTarget {
    /// Provider instance name.
    pub provider: String,
    /// Upstream model or deployment.
    pub model: String,
    /// Share under `weighted`.
    pub weight: u32,
    /// Configured price (else the default table).
    pub price: Option<Price>,
}

/// `routing.retries`, `routing.retry_backoff`, `routing.max_retry_wait`, `routing.deadline`.
pub fn retry_policy(raw: &RawRouting) -> Result<RetryPolicy, ConfigError> {
    let defaults = RetryPolicy::default();
    let policy = RetryPolicy {
        retries: raw.retries.unwrap_or(defaults.retries),
        backoff: duration(
            raw.retry_backoff.as_ref(),
            defaults.backoff,
            "routing.retry_backoff",
        )?,
        max_wait: duration(
            raw.max_retry_wait.as_ref(),
            defaults.max_wait,
            "routing.max_retry_wait",
        )?,
        deadline: duration(raw.deadline.as_ref(), defaults.deadline, "routing.deadline")?,
    };
    if policy.deadline.is_zero() {
        return Err(invalid("routing.deadline", "must be longer than 0s"));
    }
    Ok(policy)
}

/// Refuses `routing.aliases` targets and `routing.fallbacks` entries whose `provider/` prefix
/// names no provider (neither a provider type nor a declared block): such a name would route
/// nowhere, and every request for it would get a 404 naming neither.
pub fn check_route_names(raw: &RawRouting, declared: &[String]) -> Result<(), ConfigError> {
    let known = |provider: &str| {
        crate::api::ProviderKind::parse(provider).is_some()
            || declared.iter().any(|d| d == provider)
    };
    let check = |path: String, target: &str| match target.split_once('/') {
        Some((provider, model)) if !known(provider) || model.is_empty() || model.contains('/') => {
            Err(invalid(
                path,
                format!(
                    "`{target}` does not name a provider: use `provider/model` with a provider type (openai, azureopenai, anthropic, google) or a declared block ({})",
                    if declared.is_empty() {
                        "none".to_owned()
                    } else {
                        declared.join(", ")
                    }
                ),
            ))
        }
        _ => Ok(()),
    };
    for (alias, target) in &raw.aliases {
        check(format!("routing.aliases.{alias}"), target.trim())?;
    }
    for (model, targets) in &raw.fallbacks {
        for (i, target) in targets.iter().enumerate() {
            check(format!("routing.fallbacks.{model}[{i}]"), target.trim())?;
        }
    }
    Ok(())
}

/// Validates `models:` against the provider blocks the file (and environment) declare.
/// Targets on a declared provider without a key are kept here and skipped when routing.
pub fn model_groups(
    raw: BTreeMap<String, RawModelGroup>,
    declared: &[String],
) -> Result<BTreeMap<String, ModelGroup>, ConfigError> {
    let mut groups = BTreeMap::new();
    for (name, group) in raw {
        let at = |key: &str| format!("models.{name}.{key}");
        let strategy = strategy(&name, group.strategy.as_deref())?;
        if group.targets.is_empty() {
            return Err(invalid(
                at("targets"),
                "a model group needs at least one target",
            ));
        }
        let targets = group
            .targets
            .into_iter()
            .enumerate()
            .map(|(i, target)| model_target(&name, i, target, declared))
            .collect::<Result<Vec<_>, _>>()?;
        if strategy == Strategy::Weighted && targets.iter().all(|t| t.weight == 0) {
            return Err(invalid(
                at("targets"),
                "`weighted` needs a target with a weight above 0",
            ));
        }
        groups.insert(
            name,
            ModelGroup {
                strategy,
                retries: group.retries,
                targets,
            },
        );
    }
    Ok(groups)
}

/// `models.<name>.strategy`: `priority` when absent.
fn strategy(name: &str, text: Option<&str>) -> Result<Strategy, ConfigError> {
    match text.map(str::trim) {
        None => Ok(Strategy::Priority),
        Some(text) => Strategy::parse(text).ok_or_else(|| {
            let names: Vec<&str> = Strategy::ALL.iter().map(|(n, _)| *n).collect();
            invalid(
                format!("models.{name}.strategy"),
                format!("`{text}` is not one of {}", names.join(", ")),
            )
        }),
    }
}

/// `models.<name>.targets[i]`: a declared provider, the upstream model (the public name by
/// default), its weight and price.
fn model_target(
    name: &str,
    i: usize,
    target: RawTarget,
    declared: &[String],
) -> Result<ModelTarget, ConfigError> {
    let path = |key: &str| format!("models.{name}.targets[{i}].{key}");
    let provider = target.provider.trim().to_owned();
    if !declared.contains(&provider) {
        return Err(invalid(
            path("provider"),
            format!(
                "`{provider}` is not a provider block; declared: {}",
                if declared.is_empty() {
                    "none".to_owned()
                } else {
                    declared.join(", ")
                }
            ),
        ));
    }
    let price = match target.price {
        None => None,
        Some(p)
            if p.input.is_finite() && p.output.is_finite() && p.input >= 0.0 && p.output >= 0.0 =>
        {
            Some(Price {
                input: p.input,
                output: p.output,
            })
        }
        Some(_) => {
            return Err(invalid(
                path("price"),
                "prices must be numbers ≥ 0 (USD per million tokens)",
            ));
        }
    };
    Ok(ModelTarget {
        provider,
        model: target
            .model
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| name.to_owned()),
        weight: target.weight.unwrap_or(1),
        price,
    })
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, ConfigError};

    fn env(name: &str) -> Option<String> {
        (name == "OPENAI_API_KEY").then(|| "k".to_owned())
    }

    fn error_path(yaml: &str) -> String {
        match Config::from_yaml(yaml, &env).unwrap_err() {
            ConfigError::Invalid { path, .. } => path,
            other => panic!("{other}"),
        }
    }

    #[test]
    fn a_complete_models_section_validates() {
        let yaml = r#"
providers:
  azure-eu: { type: azureopenai, api_key: k, endpoint: "https://eu.example", deployment_id: d }
models:
  gpt-4o:
    strategy: weighted
    retries: 1
    targets:
      - { provider: azure-eu, weight: 90, price: { input: 2.0, output: 8.0 } }
      - { provider: openai, model: gpt-4o-2024-08-06, weight: 10 }
routing:
  retries: 3
  retry_backoff: "100ms"
  max_retry_wait: "2s"
  deadline: "1m"
"#;
        let config = Config::from_yaml(yaml, &env).unwrap();
        let group = &config.routing.models["gpt-4o"];
        assert_eq!(group.strategy, gateway_actors::Strategy::Weighted);
        assert_eq!(group.retries, Some(1));
        assert_eq!(
            group.targets[0].model, "gpt-4o",
            "defaults to the public name"
        );
        assert_eq!(group.targets[1].model, "gpt-4o-2024-08-06");
        assert_eq!(group.targets[0].price.unwrap().input, 2.0);
        assert_eq!(config.routing.retry.retries, 3);
        assert_eq!(
            config.routing.retry.deadline,
            std::time::Duration::from_secs(60)
        );
    }

    #[test]
    fn mistakes_name_their_path() {
        let cases = [
            (
                "models:\n  m:\n    strategy: fastest\n    targets: [{provider: openai}]\n",
                "models.m.strategy",
            ),
            ("models:\n  m:\n    targets: []\n", "models.m.targets"),
            (
                "models:\n  m:\n    targets: [{provider: nope}]\n",
                "models.m.targets[0].provider",
            ),
            (
                "models:\n  m:\n    strategy: weighted\n    targets: [{provider: openai, weight: 0}]\n",
                "models.m.targets",
            ),
            (
                "models:\n  m:\n    targets: [{provider: openai, price: {input: -1, output: 1}}]\n",
                "models.m.targets[0].price",
            ),
            (
                "models:\n  m:\n    targets: [{provider: openai, colour: red}]\n",
                "models.m.targets[0]",
            ),
            ("routing:\n  deadline: \"soon\"\n", "routing.deadline"),
        ];
        for (yaml, path) in cases {
            assert!(
                error_path(yaml).starts_with(path),
                "{yaml}: {}",
                error_path(yaml)
            );
        }
    }
}
