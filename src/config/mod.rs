//! Configuration: YAML (the predecessor's schema) with `${VAR}` expansion and key overrides from
//! the environment, parsed into `RawConfig` and validated into a typed `Config`.

mod auth;
mod background;
mod expand;
mod observability;
mod quotas;
mod raw;
mod redis;
mod retry;
mod routing;
mod secret;
mod telemetry;
mod validate;

use std::{collections::BTreeMap, net::SocketAddr, path::Path, time::Duration};

pub use auth::{ASYMMETRIC_ALGORITHMS, is_acceptable_key_url};
pub use background::BackgroundConfig;
pub use observability::{MetricsConfig, ModelPrice, UsageConfig};
pub use quotas::{BudgetPeriod, QuotaLimits, QuotasConfig};
pub use raw::RawConfig;
pub use redis::FleetConfig;
pub use retry::RetryPolicy;
pub use routing::{ModelGroup, ModelTarget, RawModelGroup, RawPrice, RawTarget};
pub use secret::SECRET_ENV;
pub use telemetry::TracingConfig;
pub use validate::check_log_filter;

use crate::api::ProviderKind;

/// A configuration error naming the offending path.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The YAML is malformed.
    #[error("config is not valid YAML: {0}")]
    Syntax(String),
    /// A value is wrong.
    #[error("config error at `{path}`: {message}")]
    Invalid {
        /// Dotted path of the offending key.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// HTTP server settings.
    pub server: ServerConfig,
    /// Configured providers (those with a key), in declaration order.
    pub providers: Vec<ProviderConfig>,
    /// Caller authentication.
    pub auth: AuthConfig,
    /// Conversation store settings.
    pub conversations: ConversationsConfig,
    /// Model aliases and fallbacks.
    pub routing: RoutingConfig,
    /// Logging.
    pub log: LogConfig,
    /// Prometheus `/metrics`.
    pub metrics: MetricsConfig,
    /// `GET /v1/usage` visibility.
    pub usage: UsageConfig,
    /// Price overrides (USD per million tokens) merged over the built-in defaults.
    pub prices: BTreeMap<String, ModelPrice>,
    /// OpenTelemetry span export (off unless an OTLP endpoint is configured).
    pub tracing: TracingConfig,
    /// Bounds on background responses.
    pub background: BackgroundConfig,
    /// What to do with tool types an upstream cannot serve.
    pub tools: ToolsConfig,
    /// The shared Redis (`redis:`, else the old `conversations.redis_url`): usage totals and
    /// fleet state live there; `None` keeps everything in this process.
    pub redis: Option<RedisStoreConfig>,
    /// Fleet-wide provider limits, cooling and breakers (needs `redis`).
    pub fleet: FleetConfig,
    /// Per-caller rate limits and budgets (fleet-wide with `redis` and `fleet`).
    pub quotas: QuotasConfig,
}

/// `tools:`: tool types (`web_search`, `tool_search`, …) a chosen upstream cannot serve.
#[derive(Debug, Clone, Copy, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolsConfig {
    /// `drop` (default): left out upstream and named in `x-gateway-dropped-tools`;
    /// `reject`: a 400 `unsupported_tool`.
    #[serde(default)]
    pub unsupported: UnsupportedTools,
}

/// The `tools.unsupported` policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnsupportedTools {
    /// Leave the tool out and say so in a response header.
    #[default]
    Drop,
    /// Refuse the request.
    Reject,
}

/// Logging settings.
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// Default filter (`RUST_LOG` wins).
    pub level: String,
    /// JSON lines instead of text.
    pub json: bool,
}

/// HTTP server settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Listen address.
    pub address: SocketAddr,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// actix-web worker threads (default: one per core).
    pub workers: Option<usize>,
    /// How long in-flight requests and open streams may finish on shutdown (the drain).
    pub shutdown_timeout: Duration,
    /// SSE keep-alive comment after this long without an event (`None`: off).
    pub keepalive: Option<Duration>,
    /// Longest time to receive a whole request body (408 after it, connection closed).
    pub body_timeout: Duration,
    /// Bytes held by request bodies still being read, across all connections (503 beyond).
    pub max_pending_body_bytes: usize,
    /// After SIGTERM: model requests are still served this long (`/readyz` is 503 at once, so
    /// load balancers can notice), then refused with 503 `server_shutting_down`.
    pub shutdown_delay: Duration,
    /// Reload when the config file changes (as on SIGHUP).
    pub watch_config: bool,
    /// Seals reasoning state in `encrypted_content` (from `server.secret`, else per process).
    pub reasoning_key: crate::seal::Sealer,
    /// Whether `reasoning_key` is the per-process random key (no `server.secret`).
    pub reasoning_key_random: bool,
}

/// One configured provider instance.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// Instance name (`openai`, `azureopenai`, `anthropic`, `google`).
    pub name: String,
    /// Wire family.
    pub kind: ProviderKind,
    /// Upstream API key.
    pub api_key: Secret,
    /// Base URL (for Azure: the resource endpoint).
    pub base_url: String,
    /// Azure deployment used when no per-model deployment is mapped.
    pub deployment_id: Option<String>,
    /// Azure per-model deployments.
    pub deployments: BTreeMap<String, String>,
    /// Azure `api-version`, Anthropic `anthropic-version`.
    pub api_version: Option<String>,
    /// Models this provider serves (for `/v1/models`).
    pub models: Vec<String>,
    /// Concurrent upstream requests allowed.
    pub max_concurrency: usize,
    /// Requests allowed to wait for a permit; beyond that → 429.
    pub max_queue: usize,
    /// Longest wait for a permit.
    pub queue_timeout: Duration,
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// Time allowed until the upstream answers (first byte).
    pub request_timeout: Duration,
    /// Longest silence allowed between stream chunks.
    pub stream_idle_timeout: Duration,
    /// Consecutive failures that open the breaker.
    pub failure_threshold: u32,
    /// How long an open breaker skips this provider.
    pub cooldown: Duration,
    /// Default `max_tokens` for providers that require one (Anthropic).
    pub default_max_tokens: u32,
    /// Local requests-per-minute limit.
    pub rpm: Option<u64>,
    /// Local tokens-per-minute limit (estimated before a call, corrected from its usage).
    pub tpm: Option<u64>,
    /// Largest non-streamed upstream body and largest single stream event (502 beyond).
    pub max_response_bytes: usize,
    /// Where the API key came from (`config` or the environment variable's name); never the key.
    pub key_source: String,
    /// Prompt caching on every request (Anthropic), not only those with a `prompt_cache_key`.
    pub prompt_cache: bool,
}

/// Caller authentication settings.
#[derive(Debug, Clone, Default)]
pub struct AuthConfig {
    /// Whether requests must authenticate.
    pub enabled: bool,
    /// OIDC issuer (exact `iss`); empty when only API keys are used.
    pub issuer: String,
    /// Accepted audiences (`aud` must contain one); non-empty when `issuer` is set.
    pub audience: Vec<String>,
    /// JWKS URL; `None` means OIDC discovery at `{issuer}/.well-known/openid-configuration`.
    pub jwks_uri: Option<String>,
    /// Accepted JWT algorithms (asymmetric only).
    pub algorithms: Vec<jsonwebtoken::Algorithm>,
    /// Clock skew allowed on `exp` and `nbf`.
    pub leeway: Duration,
    /// Background JWKS refresh period when the JWKS response sends no `max-age`.
    pub jwks_refresh: Duration,
    /// Static API keys.
    pub api_keys: Vec<ApiKeyConfig>,
}

/// One static API key.
#[derive(Debug, Clone)]
pub struct ApiKeyConfig {
    /// Caller name (the owner of its responses is `key:<name>`).
    pub name: String,
    /// The key itself.
    pub key: Secret,
}

/// Conversation store settings.
#[derive(Debug, Clone)]
pub struct ConversationsConfig {
    /// How long a stored response lives.
    pub ttl: Duration,
    /// Most records kept; the oldest are evicted first.
    pub max_entries: usize,
    /// Most bytes kept; the oldest are evicted first.
    pub max_bytes: usize,
    /// Where records live.
    pub backend: ConversationBackend,
}

/// Where stored responses live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConversationBackend {
    /// In this process (the conversation actor), bounded by `max_entries` and `max_bytes`.
    Memory,
    /// In Redis, shared by every gateway process with the same URL and key prefix.
    Redis(RedisStoreConfig),
}

/// Redis settings (the `redis:` block, or the old `conversations.redis_url`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisStoreConfig {
    /// `redis[s]://[user:password@]host:port[/db]`; a secret because it may carry a password.
    pub url: Secret,
    /// Prefix of every key (records are `<prefix>response:<id>`).
    pub key_prefix: String,
    /// TCP/TLS connect timeout.
    pub connect_timeout: Duration,
    /// Longest wait for one command (and for a fleet lease on the request path).
    pub command_timeout: Duration,
    /// ACL user, overriding the URL's.
    pub username: Option<Secret>,
    /// Password, overriding the URL's.
    pub password: Option<Secret>,
}

/// Routing rules from config.
#[derive(Debug, Clone, Default)]
pub struct RoutingConfig {
    /// Public name → `provider/model` or `model`.
    pub aliases: BTreeMap<String, String>,
    /// Model → extra candidates (`provider/model` or `provider`) tried after the primary ones.
    pub fallbacks: BTreeMap<String, Vec<String>>,
    /// Model groups by public name.
    pub models: BTreeMap<String, ModelGroup>,
    /// Retries, backoff and the overall deadline.
    pub retry: RetryPolicy,
}

/// A secret string that never prints.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("*****")
    }
}

/// Where the environment comes from (a closure, so tests need no `set_var`).
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

impl Config {
    /// Loads the file at `path` (or only defaults and the environment when `None`).
    pub fn load(path: Option<&Path>, env: EnvLookup<'_>) -> Result<Self, ConfigError> {
        let text = match path {
            Some(path) => std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.display().to_string(),
                source,
            })?,
            None => String::new(),
        };
        Self::from_yaml(&text, env)
    }

    /// Parses and validates YAML text.
    pub fn from_yaml(text: &str, env: EnvLookup<'_>) -> Result<Self, ConfigError> {
        let raw = RawConfig::parse(text, env)?;
        validate::validate(raw, env)
    }

    /// The provider instance called `name`.
    pub fn provider(&self, name: &str) -> Option<&ProviderConfig> {
        self.providers.iter().find(|p| p.name == name)
    }
}

/// A validation error at `path`.
pub(crate) fn invalid(path: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        path: path.into(),
        message: message.into(),
    }
}

/// Parses an optional humantime duration (`"250ms"`, `"30s"`, `"1h"`), or the default.
pub(crate) fn duration<S: AsRef<str>>(
    value: Option<S>,
    default: Duration,
    path: &str,
) -> Result<Duration, ConfigError> {
    match value {
        None => Ok(default),
        Some(text) => {
            let text = text.as_ref().trim();
            humantime::parse_duration(text).map_err(|e| {
                invalid(
                    path,
                    format!("`{text}` is not a duration like \"250ms\", \"30s\" or \"1h\": {e}"),
                )
            })
        }
    }
}
