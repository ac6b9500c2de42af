//! The observability blocks of the config: `metrics:` (the `/metrics` route), `usage:` (who sees
//! every caller's totals on `GET /v1/usage`) and `prices:` (USD per million tokens, merged over
//! the built-in defaults in `observability::prices`).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::ConfigError;

/// `metrics:` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetrics {
    /// Serve `GET /metrics` and record metrics (default true).
    pub enabled: Option<bool>,
    /// With `auth.enabled`, `/metrics` needs credentials too (default false: scrapers usually
    /// reach it on an internal network without a token).
    pub require_auth: Option<bool>,
}

/// `usage:` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUsage {
    /// Callers (`key:<name>` or `sub@iss`) whose `GET /v1/usage` lists every caller; everyone
    /// else sees only their own totals.
    #[serde(default)]
    pub admins: Vec<String>,
}

/// One `prices.<model>` entry as written: USD per million tokens.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrice {
    /// Uncached input tokens.
    pub input: f64,
    /// Input tokens read from a prompt cache (default: `input`).
    pub cached_input: Option<f64>,
    /// Output tokens (reasoning included).
    pub output: f64,
}

/// `/metrics` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsConfig {
    /// Whether metrics are recorded and `GET /metrics` is served.
    pub enabled: bool,
    /// Whether `/metrics` needs credentials when authentication is enabled.
    pub require_auth: bool,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            require_auth: false,
        }
    }
}

/// `GET /v1/usage` settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsageConfig {
    /// Callers who see every caller's totals.
    pub admins: Vec<String>,
}

/// A model's list price in USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelPrice {
    /// Uncached input tokens.
    pub input: f64,
    /// Cached input tokens.
    pub cached_input: f64,
    /// Output tokens (reasoning included).
    pub output: f64,
}

/// Validates the `metrics:` block.
pub fn validate_metrics(raw: RawMetrics) -> MetricsConfig {
    let defaults = MetricsConfig::default();
    MetricsConfig {
        enabled: raw.enabled.unwrap_or(defaults.enabled),
        require_auth: raw.require_auth.unwrap_or(defaults.require_auth),
    }
}

/// Validates the `usage:` block.
pub fn validate_usage(raw: RawUsage) -> Result<UsageConfig, ConfigError> {
    if let Some(i) = raw.admins.iter().position(|a| a.trim().is_empty()) {
        return Err(ConfigError::Invalid {
            path: format!("usage.admins[{i}]"),
            message: "empty caller".to_owned(),
        });
    }
    Ok(UsageConfig {
        admins: raw
            .admins
            .into_iter()
            .map(|a| a.trim().to_owned())
            .collect(),
    })
}

/// Validates the `prices:` block: every price finite and not negative.
pub fn validate_prices(
    raw: BTreeMap<String, RawPrice>,
) -> Result<BTreeMap<String, ModelPrice>, ConfigError> {
    let mut prices = BTreeMap::new();
    for (model, price) in raw {
        let cached_input = price.cached_input.unwrap_or(price.input);
        for (field, value) in [
            ("input", price.input),
            ("cached_input", cached_input),
            ("output", price.output),
        ] {
            if !value.is_finite() || value < 0.0 {
                return Err(ConfigError::Invalid {
                    path: format!("prices.{model}.{field}"),
                    message: format!(
                        "`{value}` is not a price (USD per million tokens, 0 or more)"
                    ),
                });
            }
        }
        if model.trim().is_empty() {
            return Err(ConfigError::Invalid {
                path: "prices".to_owned(),
                message: "empty model name".to_owned(),
            });
        }
        prices.insert(
            model.trim().to_owned(),
            ModelPrice {
                input: price.input,
                cached_input,
                output: price.output,
            },
        );
    }
    Ok(prices)
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn observability_blocks_parse_and_validate() {
        let yaml = "metrics:\n  enabled: false\n  require_auth: true\nusage:\n  admins: [\"key:ops\"]\nprices:\n  my-model: { input: 1.5, output: 6 }\n";
        let config = Config::from_yaml(yaml, &|_| None).unwrap();
        assert!(!config.metrics.enabled);
        assert!(config.metrics.require_auth);
        assert_eq!(config.usage.admins, ["key:ops"]);
        let price = config.prices["my-model"];
        assert!((price.cached_input - 1.5).abs() < f64::EPSILON);
        assert!((price.output - 6.0).abs() < f64::EPSILON);

        let defaults = Config::from_yaml("", &|_| None).unwrap();
        assert!(defaults.metrics.enabled);
        assert!(!defaults.metrics.require_auth);
        assert!(defaults.prices.is_empty());
    }

    #[test]
    fn bad_prices_name_their_path() {
        let err = Config::from_yaml("prices:\n  m: { input: -1, output: 2 }\n", &|_| None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("prices.m.input"), "{err}");
        let err = Config::from_yaml("prices:\n  m: { input: 1, outptu: 2 }\n", &|_| None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("prices.m"), "{err}");
    }
}
