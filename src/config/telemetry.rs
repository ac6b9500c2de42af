//! The `tracing:` block: OpenTelemetry spans exported over OTLP/HTTP (protobuf). Off unless an
//! endpoint is configured here or in the standard `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` /
//! `OTEL_EXPORTER_OTLP_ENDPOINT` variables; `OTEL_SDK_DISABLED=true` turns it off.

use super::invalid;
use serde::Deserialize;

use super::{ConfigError, EnvLookup};

/// The service name spans carry when neither `tracing.service_name` nor `OTEL_SERVICE_NAME` set one.
pub const DEFAULT_SERVICE_NAME: &str = "llm-gateway";

/// The OTLP/HTTP path of the traces signal, appended to a base endpoint.
const TRACES_PATH: &str = "/v1/traces";

/// `tracing:` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTracing {
    /// OTLP/HTTP base URL (`http://collector:4318`; `/v1/traces` is appended unless present).
    pub otlp_endpoint: Option<String>,
    /// `service.name` of the exported spans (default `OTEL_SERVICE_NAME`, else `llm-gateway`).
    pub service_name: Option<String>,
    /// Share of new traces recorded, 0 to 1 (default 1). A caller's sampled flag always wins.
    pub sample_ratio: Option<f64>,
}

/// Validated tracing settings.
#[derive(Debug, Clone, PartialEq)]
pub struct TracingConfig {
    /// The full OTLP/HTTP traces URL; `None`: tracing is off (no layer, no spans exported).
    pub otlp_endpoint: Option<String>,
    /// `service.name` resource attribute.
    pub service_name: String,
    /// Share of new root traces sampled (parent-based: a caller's decision is kept).
    pub sample_ratio: f64,
}

impl Default for TracingConfig {
    fn default() -> Self {
        Self {
            otlp_endpoint: None,
            service_name: DEFAULT_SERVICE_NAME.to_owned(),
            sample_ratio: 1.0,
        }
    }
}

/// A base endpoint (`http://host:4318`) as the traces URL (`http://host:4318/v1/traces`).
fn traces_url(base: &str, path: &str) -> Result<String, ConfigError> {
    let url = reqwest::Url::parse(base.trim())
        .map_err(|e| invalid(path, format!("`{base}` is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid(path, format!("`{base}` is not an http(s) URL")));
    }
    let text = url.as_str().trim_end_matches('/');
    if text.ends_with(TRACES_PATH) {
        Ok(text.to_owned())
    } else {
        Ok(format!("{text}{TRACES_PATH}"))
    }
}

/// Validates the `tracing:` block, falling back to the standard OpenTelemetry variables.
pub fn validate_tracing(raw: RawTracing, env: EnvLookup<'_>) -> Result<TracingConfig, ConfigError> {
    let set = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let disabled = env("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    let otlp_endpoint = match set(raw.otlp_endpoint) {
        Some(base) => Some(traces_url(&base, "tracing.otlp_endpoint")?),
        None => match set(env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) {
            // The per-signal variable is the full URL (OpenTelemetry's rule).
            Some(full) => {
                traces_url(&full, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")?;
                Some(full.trim().to_owned())
            }
            None => set(env("OTEL_EXPORTER_OTLP_ENDPOINT"))
                .map(|base| traces_url(&base, "OTEL_EXPORTER_OTLP_ENDPOINT"))
                .transpose()?,
        },
    }
    .filter(|_| !disabled);
    let service_name = set(raw.service_name)
        .or_else(|| set(env("OTEL_SERVICE_NAME")))
        .unwrap_or_else(|| DEFAULT_SERVICE_NAME.to_owned())
        .trim()
        .to_owned();
    let sample_ratio = raw.sample_ratio.unwrap_or(1.0);
    if !(0.0..=1.0).contains(&sample_ratio) {
        return Err(invalid(
            "tracing.sample_ratio",
            format!("`{sample_ratio}` is not between 0 and 1"),
        ));
    }
    Ok(TracingConfig {
        otlp_endpoint,
        service_name,
        sample_ratio,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn off_by_default_and_endpoints_become_traces_urls() {
        let config = Config::from_yaml("", &|_| None).unwrap();
        assert_eq!(config.tracing, TracingConfig::default());

        let yaml = "tracing:\n  otlp_endpoint: http://collector:4318/\n  service_name: gw-eu\n  sample_ratio: 0.25\n";
        let config = Config::from_yaml(yaml, &|_| None).unwrap();
        assert_eq!(
            config.tracing.otlp_endpoint.as_deref(),
            Some("http://collector:4318/v1/traces")
        );
        assert_eq!(config.tracing.service_name, "gw-eu");
        assert!((config.tracing.sample_ratio - 0.25).abs() < f64::EPSILON);

        let full = "tracing:\n  otlp_endpoint: https://otel.example.com/v1/traces\n";
        let config = Config::from_yaml(full, &|_| None).unwrap();
        assert_eq!(
            config.tracing.otlp_endpoint.as_deref(),
            Some("https://otel.example.com/v1/traces")
        );
    }

    #[test]
    fn standard_variables_are_honoured_and_the_file_wins() {
        let env = env_of(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318"),
            ("OTEL_SERVICE_NAME", "from-env"),
        ]);
        let config = Config::from_yaml("", &env).unwrap();
        assert_eq!(
            config.tracing.otlp_endpoint.as_deref(),
            Some("http://env:4318/v1/traces")
        );
        assert_eq!(config.tracing.service_name, "from-env");
        let file = "tracing:\n  otlp_endpoint: http://file:4318\n";
        let config = Config::from_yaml(file, &env).unwrap();
        assert_eq!(
            config.tracing.otlp_endpoint.as_deref(),
            Some("http://file:4318/v1/traces")
        );

        let signal = env_of(&[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://t:4318/custom")]);
        let config = Config::from_yaml("", &signal).unwrap();
        assert_eq!(
            config.tracing.otlp_endpoint.as_deref(),
            Some("http://t:4318/custom")
        );

        let off = env_of(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318"),
            ("OTEL_SDK_DISABLED", "true"),
        ]);
        assert_eq!(
            Config::from_yaml("", &off).unwrap().tracing.otlp_endpoint,
            None
        );
    }

    #[test]
    fn bad_values_name_their_path() {
        for (yaml, path) in [
            (
                "tracing:\n  otlp_endpoint: not a url\n",
                "tracing.otlp_endpoint",
            ),
            (
                "tracing:\n  otlp_endpoint: ftp://x\n",
                "tracing.otlp_endpoint",
            ),
            ("tracing:\n  sample_ratio: 1.5\n", "tracing.sample_ratio"),
            ("tracing:\n  sample_ratio: -0.1\n", "tracing.sample_ratio"),
            ("tracing:\n  endpoint: http://x\n", "tracing"),
        ] {
            let err = Config::from_yaml(yaml, &|_| None).unwrap_err().to_string();
            assert!(err.contains(path), "{yaml}: {err}");
        }
    }
}
