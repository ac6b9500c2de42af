//! The `quotas:` block: per-caller `rpm`, `tpm` and spending budgets, for static API keys (by
//! name) and JWT callers (by `sub`, or by another claim such as an organisation or team), with a
//! default for every caller without an entry of its own.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{ApiKeyConfig, ConfigError, invalid};

/// One caller's limits as written.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuotaLimits {
    /// Requests per minute.
    pub rpm: Option<u64>,
    /// Tokens (input + output) per minute.
    pub tpm: Option<u64>,
    /// Spend allowed per `budget_period`, in USD, from the price table.
    pub budget_usd: Option<f64>,
    /// `day` (default) or `month`, in UTC.
    pub budget_period: Option<String>,
}

/// `quotas:` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuotas {
    /// The JWT claim that names a caller for quotas (default `sub`).
    pub claim: Option<String>,
    /// Limits of every caller without an entry of its own (none by default).
    pub default: Option<RawQuotaLimits>,
    /// Limits per static API key name (`auth.api_keys[].name`).
    #[serde(default)]
    pub api_keys: BTreeMap<String, RawQuotaLimits>,
    /// Limits per value of the JWT claim.
    #[serde(default)]
    pub claims: BTreeMap<String, RawQuotaLimits>,
}

/// The window a budget is counted in (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BudgetPeriod {
    /// A calendar day.
    #[default]
    Day,
    /// A calendar month.
    Month,
}

impl BudgetPeriod {
    /// The name used in the config and in `/v1/usage`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Month => "month",
        }
    }
}

/// One caller's validated limits.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct QuotaLimits {
    /// Requests per minute.
    pub rpm: Option<u64>,
    /// Tokens per minute.
    pub tpm: Option<u64>,
    /// Budget in USD per period.
    pub budget_usd: Option<f64>,
    /// The budget's window.
    pub budget_period: BudgetPeriod,
}

impl QuotaLimits {
    /// Whether any limit is set.
    pub fn is_limited(&self) -> bool {
        self.rpm.is_some() || self.tpm.is_some() || self.budget_usd.is_some()
    }
}

/// Validated `quotas:`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QuotasConfig {
    /// The JWT claim naming a caller.
    pub claim: String,
    /// Limits of callers without their own entry.
    pub default: Option<QuotaLimits>,
    /// Per API key name.
    pub api_keys: BTreeMap<String, QuotaLimits>,
    /// Per JWT claim value.
    pub claims: BTreeMap<String, QuotaLimits>,
}

impl QuotasConfig {
    /// Whether any caller has a limit.
    pub fn is_enabled(&self) -> bool {
        self.default.is_some() || !self.api_keys.is_empty() || !self.claims.is_empty()
    }
}

/// Validates `quotas:` against the configured API keys.
pub fn validate_quotas(raw: RawQuotas, keys: &[ApiKeyConfig]) -> Result<QuotasConfig, ConfigError> {
    let claim = raw
        .claim
        .map_or_else(|| "sub".to_owned(), |c| c.trim().to_owned());
    if claim.is_empty() {
        return Err(invalid(
            "quotas.claim",
            "must name a JWT claim (default `sub`)",
        ));
    }
    let default = raw
        .default
        .map(|l| limits(l, "quotas.default"))
        .transpose()?;
    let mut api_keys = BTreeMap::new();
    for (name, raw_limits) in raw.api_keys {
        let path = format!("quotas.api_keys.{name}");
        if !keys.iter().any(|k| k.name == name) {
            return Err(invalid(path, "no such key in auth.api_keys"));
        }
        api_keys.insert(name, limits(raw_limits, &path)?);
    }
    let mut claims = BTreeMap::new();
    for (value, raw_limits) in raw.claims {
        let path = format!("quotas.claims.{value}");
        claims.insert(value, limits(raw_limits, &path)?);
    }
    Ok(QuotasConfig {
        claim,
        default,
        api_keys,
        claims,
    })
}

fn limits(raw: RawQuotaLimits, path: &str) -> Result<QuotaLimits, ConfigError> {
    for (name, value) in [("rpm", raw.rpm), ("tpm", raw.tpm)] {
        if value == Some(0) {
            return Err(invalid(format!("{path}.{name}"), "must be at least 1"));
        }
    }
    if let Some(budget) = raw.budget_usd
        && (!budget.is_finite() || budget <= 0.0)
    {
        return Err(invalid(
            format!("{path}.budget_usd"),
            "must be a positive amount of USD",
        ));
    }
    let budget_period = match raw.budget_period.as_deref().map(str::trim) {
        None | Some("day") => BudgetPeriod::Day,
        Some("month") => BudgetPeriod::Month,
        Some(other) => {
            return Err(invalid(
                format!("{path}.budget_period"),
                format!("`{other}` is not day or month"),
            ));
        }
    };
    let out = QuotaLimits {
        rpm: raw.rpm,
        tpm: raw.tpm,
        budget_usd: raw.budget_usd,
        budget_period,
    };
    if !out.is_limited() {
        return Err(invalid(path, "set at least one of rpm, tpm, budget_usd"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn keys() -> Vec<ApiKeyConfig> {
        vec![ApiKeyConfig {
            name: "ci".into(),
            key: Secret::new("0123456789abcdef"),
        }]
    }

    fn parse(json: &str) -> Result<QuotasConfig, ConfigError> {
        let raw: RawQuotas = serde_json::from_str(json).expect("test JSON");
        validate_quotas(raw, &keys())
    }

    #[test]
    fn accepts_keys_claims_and_a_default() {
        let q = parse(
            r#"{"claim":"org","default":{"rpm":60},
                "api_keys":{"ci":{"rpm":3,"budget_usd":1.5,"budget_period":"month"}},
                "claims":{"acme":{"tpm":1000}}}"#,
        )
        .expect("valid");
        assert_eq!(q.claim, "org");
        assert_eq!(q.default.and_then(|d| d.rpm), Some(60));
        let ci = q.api_keys.get("ci").copied().unwrap_or_default();
        assert_eq!((ci.rpm, ci.budget_usd), (Some(3), Some(1.5)));
        assert_eq!(ci.budget_period, BudgetPeriod::Month);
        assert_eq!(q.claims.get("acme").and_then(|l| l.tpm), Some(1000));
        assert!(q.is_enabled());
    }

    #[test]
    fn refuses_what_cannot_be_meant() {
        let cases = [
            (r#"{"api_keys":{"nope":{"rpm":1}}}"#, "quotas.api_keys.nope"),
            (r#"{"default":{"rpm":0}}"#, "quotas.default.rpm"),
            (
                r#"{"default":{"budget_usd":-1}}"#,
                "quotas.default.budget_usd",
            ),
            (
                r#"{"default":{"budget_usd":1,"budget_period":"week"}}"#,
                "quotas.default.budget_period",
            ),
            (r#"{"default":{}}"#, "quotas.default"),
            (r#"{"claim":" "}"#, "quotas.claim"),
        ];
        for (yaml, path) in cases {
            match parse(yaml) {
                Err(ConfigError::Invalid { path: got, .. }) => assert_eq!(got, path, "{yaml}"),
                other => panic!("{yaml}: expected an error at {path}, got {other:?}"),
            }
        }
    }
}
