//! `RawConfig`: the YAML as written (serde, unknown keys rejected), before validation.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::{ConfigError, EnvLookup, expand::expand_value};

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// `server:` block.
    #[serde(default)]
    pub server: RawServer,
    /// `providers:` block: instance name → settings.
    #[serde(default)]
    pub providers: BTreeMap<String, RawProvider>,
    /// `auth:` block.
    #[serde(default)]
    pub auth: RawAuth,
    /// `conversations:` block.
    #[serde(default)]
    pub conversations: RawConversations,
    /// `routing:` block.
    #[serde(default)]
    pub routing: RawRouting,
    /// `models:` block: public model name → model group.
    #[serde(default)]
    pub models: BTreeMap<String, super::routing::RawModelGroup>,
    /// `log:` block.
    #[serde(default)]
    pub log: RawLog,
    /// `metrics:` block.
    #[serde(default)]
    pub metrics: super::observability::RawMetrics,
    /// `usage:` block.
    #[serde(default)]
    pub usage: super::observability::RawUsage,
    /// `prices:` block: model → USD per million tokens.
    #[serde(default)]
    pub prices: BTreeMap<String, super::observability::RawPrice>,
    /// `tracing:` block (OpenTelemetry export).
    #[serde(default)]
    pub tracing: super::telemetry::RawTracing,
    /// `background:` block (bounds on background responses).
    #[serde(default)]
    pub background: super::background::RawBackground,
    /// `tools:` block (tool types an upstream cannot serve).
    #[serde(default)]
    pub tools: super::ToolsConfig,
    /// `redis:` block (shared by conversations, usage and the fleet).
    pub redis: Option<super::redis::RawRedis>,
    /// `fleet:` block (fleet-wide limits, cooling and breakers).
    #[serde(default)]
    pub fleet: super::redis::RawFleet,
    /// `quotas:` block (per-caller limits and budgets).
    #[serde(default)]
    pub quotas: super::quotas::RawQuotas,
}

/// `server:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    /// `":8080"` (all interfaces) or `"127.0.0.1:8080"`.
    pub address: Option<String>,
    /// Largest request body in bytes (default 32 MiB).
    pub max_body_bytes: Option<usize>,
    /// Worker threads (default: one per core).
    pub workers: Option<usize>,
    /// Grace period for open streams on shutdown (default "30s").
    pub shutdown_timeout: Option<String>,
    /// SSE keep-alive comment after this long without an event (default "15s"; "0s" = off).
    pub keepalive: Option<String>,
    /// Longest time to receive a whole request body (default "30s"; then 408).
    pub body_timeout: Option<String>,
    /// Bytes held by request bodies still being read, across all connections (default 256 MiB;
    /// beyond it 503).
    pub max_pending_body_bytes: Option<usize>,
    /// How long model requests are still served after SIGTERM, while `/readyz` already answers
    /// 503 (default "5s").
    pub shutdown_delay: Option<String>,
    /// Reload when the config file changes, as on SIGHUP (default false).
    pub watch_config: Option<bool>,
    /// Key material for sealed reasoning envelopes (`GATEWAY_SECRET` fills it when empty).
    pub secret: Option<String>,
}

/// One provider block.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProvider {
    /// Family when the instance name is not one (`openai|azureopenai|anthropic|google`).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// API key (`${VAR}` allowed).
    pub api_key: Option<String>,
    /// Base URL (OpenAI, Anthropic, Google).
    pub base_url: Option<String>,
    /// Azure resource endpoint.
    pub endpoint: Option<String>,
    /// Azure default deployment.
    pub deployment_id: Option<String>,
    /// Azure model → deployment.
    #[serde(default)]
    pub deployments: BTreeMap<String, String>,
    /// Azure `api-version` / Anthropic `anthropic-version`.
    pub api_version: Option<String>,
    /// Models served (for `/v1/models`).
    pub models: Option<Vec<String>>,
    /// Concurrent upstream requests (default 256).
    pub max_concurrency: Option<usize>,
    /// Waiting requests beyond the limit (default 1024).
    pub max_queue: Option<usize>,
    /// Longest wait for a slot (default "30s").
    pub queue_timeout: Option<String>,
    /// Connect timeout (default "10s").
    pub connect_timeout: Option<String>,
    /// Time to first upstream byte (default "10m").
    pub request_timeout: Option<String>,
    /// Longest gap between stream chunks (default "300s").
    pub stream_idle_timeout: Option<String>,
    /// Consecutive failures that open the breaker (default 5).
    pub failure_threshold: Option<u32>,
    /// Breaker cooldown (default "30s").
    pub cooldown: Option<String>,
    /// Default max tokens where the provider requires it (default 4096).
    pub default_max_tokens: Option<u32>,
    /// Local requests-per-minute limit (default none).
    pub rpm: Option<u64>,
    /// Local tokens-per-minute limit (default none).
    pub tpm: Option<u64>,
    /// Largest non-streamed upstream body, and largest single stream event (default 64 MiB).
    pub max_response_bytes: Option<usize>,
    /// Anthropic prompt caching on every request: `auto` or `off` (default; a request's
    /// `prompt_cache_key` still turns it on).
    pub prompt_cache: Option<String>,
}

/// `auth:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuth {
    /// Require authentication.
    #[serde(default)]
    pub enabled: bool,
    /// OIDC issuer URL.
    pub issuer: Option<String>,
    /// One audience or a list.
    pub audience: Option<Value>,
    /// JWKS URL; skips OIDC discovery when set.
    pub jwks_uri: Option<String>,
    /// Accepted JWT algorithms (default: every asymmetric one).
    pub algorithms: Option<Vec<String>>,
    /// Clock skew allowed on `exp`/`nbf` (default "30s").
    pub leeway: Option<String>,
    /// Background JWKS refresh period when the JWKS sends no `max-age` (default "10m").
    pub jwks_refresh: Option<String>,
    /// Static API keys for service callers.
    #[serde(default)]
    pub api_keys: Vec<RawApiKey>,
}

/// One `auth.api_keys` entry.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApiKey {
    /// Caller name (the owner is `key:<name>`).
    pub name: String,
    /// The key (`${VAR}` allowed).
    pub key: String,
}

/// `conversations:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConversations {
    /// Record lifetime (default "1h").
    pub ttl: Option<String>,
    /// Most records kept (default 100000).
    pub max_entries: Option<usize>,
    /// Most bytes kept (default 256 MiB).
    pub max_bytes: Option<usize>,
    /// `memory` or `redis` (default `redis` when a `redis:` block is set, else `memory`).
    pub store: Option<String>,
    /// Redis URL for `store: redis` (default the `redis:` block, else
    /// `redis://127.0.0.1:6379`).
    pub redis_url: Option<String>,
    /// Prefix of every Redis key (default the `redis:` block's, else `llm-gateway:`).
    pub key_prefix: Option<String>,
}

/// `routing:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRouting {
    /// Public name → `provider/model` or model.
    #[serde(default)]
    pub aliases: BTreeMap<String, String>,
    /// Model → extra candidates.
    #[serde(default)]
    pub fallbacks: BTreeMap<String, Vec<String>>,
    /// Retries of one target before the next (default 2).
    pub retries: Option<u32>,
    /// First retry backoff, doubled per retry, with jitter (default "250ms").
    pub retry_backoff: Option<String>,
    /// Longest single wait, `retry-after` included (default "5s").
    pub max_retry_wait: Option<String>,
    /// Overall deadline until the first byte (default "15m").
    pub deadline: Option<String>,
}

/// `log:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLog {
    /// `trace|debug|info|warn|error` (default info; `RUST_LOG` wins).
    pub level: Option<String>,
    /// `text` or `json` (default text).
    pub format: Option<String>,
}

impl RawConfig {
    /// Parses YAML, expands `${VAR}` in string values, and deserializes with path-aware errors.
    pub fn parse(text: &str, env: EnvLookup<'_>) -> Result<Self, ConfigError> {
        let mut value = if text.trim().is_empty() {
            Value::Object(serde_json::Map::new())
        } else {
            config::Config::builder()
                .add_source(config::File::from_str(text, config::FileFormat::Yaml))
                .build()
                .and_then(|c| c.try_deserialize::<Value>())
                .map_err(|e| ConfigError::Syntax(e.to_string()))?
        };
        expand_value(&mut value, env);
        serde_path_to_error::deserialize(value).map_err(|err| ConfigError::Invalid {
            path: err.path().to_string(),
            message: err.inner().to_string(),
        })
    }
}
