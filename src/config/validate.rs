//! `RawConfig` → `Config`: environment key overrides, defaults, and checks that name the path.

mod provider;

use super::{duration, invalid};
use std::{
    collections::BTreeMap,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    time::Duration,
};

use self::provider::provider;
use super::{
    Config, ConfigError, ConversationBackend, ConversationsConfig, EnvLookup, LogConfig,
    RedisStoreConfig, RoutingConfig, ServerConfig,
    raw::{RawConfig, RawConversations, RawLog, RawProvider, RawServer},
    redis::{DEFAULT_REDIS_URL, legacy_redis, validate_fleet, validate_redis},
};

const DEFAULT_ADDRESS: &str = ":8080";
const DEFAULT_MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
const DEFAULT_TTL: Duration = Duration::from_secs(3600);
const DEFAULT_MAX_ENTRIES: usize = 100_000;
const DEFAULT_MAX_STORE_BYTES: usize = 256 * 1024 * 1024;
/// SSE comment sent after this long without an event, so proxies keep long-thinking streams.
const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(15);
/// A client slower than this to send its whole body is holding a connection and memory.
const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// Eight default-sized bodies in flight at once; beyond that new body bytes get 503.
const DEFAULT_MAX_PENDING_BODY_BYTES: usize = 256 * 1024 * 1024;
/// Long enough for a load balancer's readiness probe (typically every 1–5 s) to notice.
const DEFAULT_SHUTDOWN_DELAY: Duration = Duration::from_secs(5);

fn parse_address(text: &str) -> Result<SocketAddr, ConfigError> {
    let text = text.trim();
    let path = "server.address";
    if let Some(port) = text.strip_prefix(':') {
        let port: u16 = port
            .parse()
            .map_err(|_| invalid(path, format!("`{text}` has no valid port")))?;
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port));
    }
    if let Some(port) = text.strip_prefix("localhost:") {
        let port: u16 = port
            .parse()
            .map_err(|_| invalid(path, format!("`{text}` has no valid port")))?;
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    text.parse()
        .map_err(|_| invalid(path, format!("`{text}` is not \":PORT\" or \"IP:PORT\"")))
}

/// Selects one field of a provider block.
type FieldOf = fn(&mut RawProvider) -> &mut Option<String>;

/// Fills the four named provider blocks from the documented environment variables. A value
/// written in the file wins: the environment only fills what the file leaves empty, so a shell's
/// `OPENAI_API_KEY` is never sent to a `base_url` the file points elsewhere. Returns the keys
/// filled this way (provider name → variable), for the start-up log.
fn apply_env_overrides(raw: &mut RawConfig, env: EnvLookup<'_>) -> BTreeMap<String, &'static str> {
    let mut from_env = BTreeMap::new();
    let overrides: [(&str, &'static str, FieldOf); 6] = [
        ("openai", "OPENAI_API_KEY", |p| &mut p.api_key),
        ("azureopenai", "AZURE_OPENAI_API_KEY", |p| &mut p.api_key),
        ("azureopenai", "AZURE_OPENAI_ENDPOINT", |p| &mut p.endpoint),
        ("azureopenai", "AZURE_OPENAI_DEPLOYMENT_ID", |p| {
            &mut p.deployment_id
        }),
        ("anthropic", "ANTHROPIC_API_KEY", |p| &mut p.api_key),
        ("google", "GOOGLE_API_KEY", |p| &mut p.api_key),
    ];
    for (name, var, field) in overrides {
        let Some(value) = env(var).filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        let slot = field(raw.providers.entry(name.to_owned()).or_default());
        if slot.as_deref().is_none_or(|v| v.trim().is_empty()) {
            *slot = Some(value);
            if var.ends_with("_API_KEY") {
                from_env.insert(name.to_owned(), var);
            }
        }
    }
    from_env
}

/// A log filter the gateway will actually log with: comma-separated levels (`info`) or
/// `target=level` directives. A bare word that is not a level parses as a target name, which
/// silently turns every other line off, so it is refused here.
pub fn check_log_filter(filter: &str) -> Result<(), String> {
    const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];
    let is_level = |word: &str| LEVELS.iter().any(|l| l.eq_ignore_ascii_case(word.trim()));
    let directives: Vec<&str> = filter
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .collect();
    if directives.is_empty() {
        return Err("is empty; use trace, debug, info, warn or error".to_owned());
    }
    for directive in directives {
        let level = directive
            .rsplit_once('=')
            .map_or(directive, |(_, level)| level);
        if !is_level(level) {
            return Err(format!(
                "`{directive}` is not a level (trace, debug, info, warn, error, off) or a `target=level` directive"
            ));
        }
    }
    tracing_subscriber::EnvFilter::builder()
        .parse(filter)
        .map(|_| ())
        .map_err(|e| format!("`{filter}` is not a log filter: {e}"))
}

/// Validates `raw` into a `Config`.
pub fn validate(mut raw: RawConfig, env: EnvLookup<'_>) -> Result<Config, ConfigError> {
    let keys_from_env = apply_env_overrides(&mut raw, env);
    let server = validate_server(&raw.server, env)?;
    let declared: Vec<String> = raw.providers.keys().cloned().collect();
    let models = super::routing::model_groups(std::mem::take(&mut raw.models), &declared)?;
    let retry = super::routing::retry_policy(&raw.routing)?;
    let mut providers = Vec::new();
    for (name, block) in std::mem::take(&mut raw.providers) {
        let source = keys_from_env.get(&name).copied().unwrap_or("config");
        if let Some(p) = provider(&name, block, source)? {
            providers.push(p);
        }
    }
    let auth = super::auth::validate_auth(raw.auth)?;
    let quotas = super::quotas::validate_quotas(std::mem::take(&mut raw.quotas), &auth.api_keys)?;
    let explicit_redis = raw.redis.is_some();
    let redis = validate_redis(raw.redis.take(), env)?;
    let conversations = validate_conversations(raw.conversations, redis.as_ref())?;
    // The old `conversations.redis_url` keeps sharing usage totals, as before the `redis:` block.
    let redis = redis.or_else(|| match &conversations.backend {
        ConversationBackend::Redis(store) => Some(store.clone()),
        ConversationBackend::Memory => None,
    });
    let fleet = validate_fleet(
        std::mem::take(&mut raw.fleet),
        explicit_redis,
        redis.is_some(),
    )?;
    check_fallbacks(&raw.routing.fallbacks)?;
    super::routing::check_route_names(&raw.routing, &declared)?;
    let log = validate_log(raw.log)?;
    Ok(Config {
        server,
        providers,
        auth,
        conversations,
        routing: RoutingConfig {
            aliases: raw.routing.aliases,
            fallbacks: raw.routing.fallbacks,
            models,
            retry,
        },
        log,
        metrics: super::observability::validate_metrics(raw.metrics),
        usage: super::observability::validate_usage(raw.usage)?,
        prices: super::observability::validate_prices(raw.prices)?,
        tracing: super::telemetry::validate_tracing(raw.tracing, env)?,
        background: super::background::validate_background(raw.background)?,
        tools: raw.tools,
        redis,
        fleet,
        quotas,
    })
}

/// The `server:` block, with the reasoning key from `server.secret` or the environment.
fn validate_server(raw: &RawServer, env: EnvLookup<'_>) -> Result<ServerConfig, ConfigError> {
    let (reasoning_key, reasoning_key_random) =
        super::secret::reasoning_key(raw.secret.as_deref(), env)?;
    let server = ServerConfig {
        address: parse_address(raw.address.as_deref().unwrap_or(DEFAULT_ADDRESS))?,
        max_body_bytes: raw.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES),
        workers: raw.workers.filter(|w| *w > 0),
        shutdown_timeout: duration(
            raw.shutdown_timeout.as_ref(),
            Duration::from_secs(30),
            "server.shutdown_timeout",
        )?,
        keepalive: Some(duration(
            raw.keepalive.as_ref(),
            DEFAULT_KEEPALIVE,
            "server.keepalive",
        )?)
        .filter(|d| !d.is_zero()),
        body_timeout: duration(
            raw.body_timeout.as_ref(),
            DEFAULT_BODY_TIMEOUT,
            "server.body_timeout",
        )?,
        max_pending_body_bytes: raw
            .max_pending_body_bytes
            .unwrap_or(DEFAULT_MAX_PENDING_BODY_BYTES),
        shutdown_delay: duration(
            raw.shutdown_delay.as_ref(),
            DEFAULT_SHUTDOWN_DELAY,
            "server.shutdown_delay",
        )?,
        watch_config: raw.watch_config.unwrap_or(false),
        reasoning_key,
        reasoning_key_random,
    };
    if server.body_timeout.is_zero() {
        return Err(invalid("server.body_timeout", "must be longer than 0s"));
    }
    if server.max_pending_body_bytes < server.max_body_bytes {
        return Err(invalid(
            "server.max_pending_body_bytes",
            format!(
                "must be at least server.max_body_bytes ({}), or no body of the largest size could be read",
                server.max_body_bytes
            ),
        ));
    }
    Ok(server)
}

/// Every `routing.fallbacks` target names something.
fn check_fallbacks(fallbacks: &BTreeMap<String, Vec<String>>) -> Result<(), ConfigError> {
    for (model, targets) in fallbacks {
        if let Some(i) = targets.iter().position(|t| t.trim().is_empty()) {
            return Err(invalid(
                format!("routing.fallbacks.{model}[{i}]"),
                "empty target",
            ));
        }
    }
    Ok(())
}

/// The `log:` block: a filter the gateway will log with, and `text` or `json`.
fn validate_log(raw: RawLog) -> Result<LogConfig, ConfigError> {
    let level = raw.level.unwrap_or_else(|| "info".to_owned());
    check_log_filter(&level).map_err(|why| invalid("log.level", why))?;
    let json = match raw.format.as_deref() {
        None | Some("text") => false,
        Some("json") => true,
        Some(other) => {
            return Err(invalid(
                "log.format",
                format!("`{other}` is not text or json"),
            ));
        }
    };
    Ok(LogConfig { level, json })
}

/// The `conversations:` block: TTL, memory bounds, and the store backend (Redis: the
/// `redis:` block unless the old `redis_url`/`key_prefix` say otherwise).
fn validate_conversations(
    raw: RawConversations,
    shared: Option<&RedisStoreConfig>,
) -> Result<ConversationsConfig, ConfigError> {
    let store = raw
        .store
        .as_deref()
        .map(str::trim)
        .unwrap_or(if shared.is_some() { "redis" } else { "memory" });
    let backend = match store {
        "memory" => ConversationBackend::Memory,
        "redis" => {
            let url = raw.redis_url.filter(|u| !u.trim().is_empty());
            let store = match (shared, url) {
                (Some(shared), None) => {
                    let mut store = shared.clone();
                    if let Some(prefix) = raw.key_prefix {
                        store.key_prefix = prefix;
                    }
                    store
                }
                (_, url) => {
                    let url = url.unwrap_or_else(|| DEFAULT_REDIS_URL.to_owned());
                    // Parses only; the gateway connects lazily so it starts while Redis is down.
                    redis::Client::open(url.trim()).map_err(|e| {
                        invalid(
                            "conversations.redis_url",
                            format!("not a usable Redis URL: {e}"),
                        )
                    })?;
                    legacy_redis(url.trim().to_owned(), raw.key_prefix)
                }
            };
            ConversationBackend::Redis(store)
        }
        other => {
            return Err(invalid(
                "conversations.store",
                format!("`{other}` is not memory or redis"),
            ));
        }
    };
    Ok(ConversationsConfig {
        ttl: duration(raw.ttl.as_ref(), DEFAULT_TTL, "conversations.ttl")?,
        max_entries: raw.max_entries.unwrap_or(DEFAULT_MAX_ENTRIES).max(1),
        max_bytes: raw.max_bytes.unwrap_or(DEFAULT_MAX_STORE_BYTES).max(1),
        backend,
    })
}

#[cfg(test)]
mod tests;
