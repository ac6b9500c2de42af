//! The `redis:` block (one connection setting for conversations, usage totals and fleet state)
//! and the `fleet:` block (fleet-wide provider limits, shared cooling and breakers).

use std::time::Duration;

use redis::IntoConnectionInfo;
use serde::Deserialize;

use super::{ConfigError, EnvLookup, RedisStoreConfig, Secret, duration, invalid};

/// Default prefix of every Redis key.
pub(crate) const DEFAULT_KEY_PREFIX: &str = "llm-gateway:";
/// Default URL for `conversations.store: redis` without any URL.
pub(crate) const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";
/// A TCP (and TLS) connection to Redis that takes longer is treated as down.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Longest wait for one command: also the longest a request may wait for a fleet lease.
const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_millis(500);
/// The old `conversations.redis_url` waited this long per command; kept for those configs.
const LEGACY_COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// Share of a limit leased per batch (5 %: 25 of `rpm: 500`).
const DEFAULT_LEASE_FRACTION: f64 = 0.05;
/// How often a replica says it is alive (and checks Redis is back when degraded).
const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(2);
/// Unused leased capacity is given back after this long without demand.
const DEFAULT_LEASE_IDLE: Duration = Duration::from_secs(5);

/// `redis:` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRedis {
    /// `redis://host:port[/db]` or `rediss://` for TLS (default `redis://127.0.0.1:6379`).
    pub url: Option<String>,
    /// Prefix of every key (default `llm-gateway:`).
    pub key_prefix: Option<String>,
    /// TCP/TLS connect timeout (default "1s").
    pub connect_timeout: Option<String>,
    /// Longest wait for one command (default "500ms"); a request never waits on Redis longer.
    pub command_timeout: Option<String>,
    /// ACL user (`${VAR}` allowed; default the `REDIS_USERNAME` environment variable).
    pub username: Option<String>,
    /// Password (`${VAR}` allowed; default the `REDIS_PASSWORD` environment variable).
    pub password: Option<String>,
}

/// `fleet:` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFleet {
    /// Fleet mode (default: on when `redis:` is set).
    pub enabled: Option<bool>,
    /// Publish opened breakers to the other replicas (default true).
    pub share_breakers: Option<bool>,
    /// Share of a provider's `rpm`/`tpm` leased per batch (default 0.05; at least 1 unit).
    pub lease_fraction: Option<f64>,
    /// How often a replica refreshes its heartbeat (default "2s").
    pub heartbeat_interval: Option<String>,
    /// Unused leases go back to Redis after this long without demand (default "5s").
    pub lease_idle: Option<String>,
}

/// Validated `fleet:` settings.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetConfig {
    /// Whether provider limits, cooling and breakers are shared through Redis.
    pub enabled: bool,
    /// Whether opened breakers are published.
    pub share_breakers: bool,
    /// Share of a limit leased per batch.
    pub lease_fraction: f64,
    /// Heartbeat period; a replica silent for three periods no longer counts as live.
    pub heartbeat_interval: Duration,
    /// Idle time after which unused leases are returned.
    pub lease_idle: Duration,
}

impl Default for FleetConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            share_breakers: true,
            lease_fraction: DEFAULT_LEASE_FRACTION,
            heartbeat_interval: DEFAULT_HEARTBEAT_INTERVAL,
            lease_idle: DEFAULT_LEASE_IDLE,
        }
    }
}

impl RedisStoreConfig {
    /// A client for these settings (credentials from the URL, overridden by `username` and
    /// `password`); it connects lazily.
    pub fn client(&self) -> Result<redis::Client, redis::RedisError> {
        let info = self.url.expose().into_connection_info()?;
        let mut settings = info.redis_settings().clone();
        if let Some(user) = &self.username {
            settings = settings.set_username(user.expose());
        }
        if let Some(password) = &self.password {
            settings = settings.set_password(password.expose());
        }
        redis::Client::open(info.set_redis_settings(settings))
    }

    /// Connection-manager settings with these timeouts and one retry: no caller waits on Redis
    /// longer than `command_timeout` per attempt.
    pub fn manager_config(&self) -> redis::aio::ConnectionManagerConfig {
        redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.connect_timeout))
            .set_response_timeout(Some(self.command_timeout))
            .set_number_of_retries(1)
    }

    /// A connection manager for `purpose` (named in errors) with [`Self::manager_config`].
    /// Connects on first use (inside a tokio runtime).
    pub fn manager(
        &self,
        purpose: &str,
    ) -> Result<redis::aio::ConnectionManager, crate::error::GatewayError> {
        let client = self.client().map_err(|e| {
            crate::error::GatewayError::Internal(format!("{purpose} Redis URL: {e}"))
        })?;
        self.manager_with(client, purpose)
    }

    /// [`Self::manager`] over a client the caller already has.
    pub fn manager_with(
        &self,
        client: redis::Client,
        purpose: &str,
    ) -> Result<redis::aio::ConnectionManager, crate::error::GatewayError> {
        redis::aio::ConnectionManager::new_lazy_with_config(client, self.manager_config()).map_err(
            |e| {
                crate::error::GatewayError::Internal(format!(
                    "cannot set up Redis for {purpose}: {e}"
                ))
            },
        )
    }
}

/// Validates the `redis:` block (`None` when absent).
pub fn validate_redis(
    raw: Option<RawRedis>,
    env: EnvLookup<'_>,
) -> Result<Option<RedisStoreConfig>, ConfigError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let url = raw
        .url
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| DEFAULT_REDIS_URL.to_owned());
    let secret = |value: Option<String>, var: &str| {
        value
            .or_else(|| env(var))
            .filter(|v| !v.is_empty())
            .map(Secret::new)
    };
    let config = RedisStoreConfig {
        url: Secret::new(url),
        key_prefix: raw
            .key_prefix
            .unwrap_or_else(|| DEFAULT_KEY_PREFIX.to_owned()),
        connect_timeout: duration(
            raw.connect_timeout.as_ref(),
            DEFAULT_CONNECT_TIMEOUT,
            "redis.connect_timeout",
        )?,
        command_timeout: duration(
            raw.command_timeout.as_ref(),
            DEFAULT_COMMAND_TIMEOUT,
            "redis.command_timeout",
        )?,
        username: secret(raw.username, "REDIS_USERNAME"),
        password: secret(raw.password, "REDIS_PASSWORD"),
    };
    // Parses only (`rediss://` included); the gateway connects lazily so it starts while
    // Redis is down.
    config
        .client()
        .map_err(|e| invalid("redis.url", format!("not a usable Redis URL: {e}")))?;
    for (path, value) in [
        ("redis.connect_timeout", config.connect_timeout),
        ("redis.command_timeout", config.command_timeout),
    ] {
        if value.is_zero() {
            return Err(invalid(path, "must be longer than 0s"));
        }
    }
    Ok(Some(config))
}

/// A store config from the old `conversations.redis_url`/`key_prefix` (default timeouts).
pub fn legacy_redis(url: String, key_prefix: Option<String>) -> RedisStoreConfig {
    RedisStoreConfig {
        url: Secret::new(url),
        key_prefix: key_prefix.unwrap_or_else(|| DEFAULT_KEY_PREFIX.to_owned()),
        connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        command_timeout: LEGACY_COMMAND_TIMEOUT,
        username: None,
        password: None,
    }
}

/// Validates the `fleet:` block: on by default when a `redis:` block is written (`explicit`);
/// it may also be turned on over the old `conversations.store: redis` (`any`).
pub fn validate_fleet(
    raw: RawFleet,
    explicit: bool,
    any: bool,
) -> Result<FleetConfig, ConfigError> {
    let enabled = raw.enabled.unwrap_or(explicit);
    if enabled && !any {
        return Err(invalid(
            "fleet.enabled",
            "fleet mode needs a `redis:` block (or `conversations.store: redis`)",
        ));
    }
    let lease_fraction = raw.lease_fraction.unwrap_or(DEFAULT_LEASE_FRACTION);
    if !(lease_fraction > 0.0 && lease_fraction <= 1.0) {
        return Err(invalid(
            "fleet.lease_fraction",
            format!("{lease_fraction} is not in (0, 1]"),
        ));
    }
    let config = FleetConfig {
        enabled,
        share_breakers: raw.share_breakers.unwrap_or(true),
        lease_fraction,
        heartbeat_interval: duration(
            raw.heartbeat_interval.as_ref(),
            DEFAULT_HEARTBEAT_INTERVAL,
            "fleet.heartbeat_interval",
        )?,
        lease_idle: duration(
            raw.lease_idle.as_ref(),
            DEFAULT_LEASE_IDLE,
            "fleet.lease_idle",
        )?,
    };
    if config.heartbeat_interval.is_zero() {
        return Err(invalid(
            "fleet.heartbeat_interval",
            "must be longer than 0s",
        ));
    }
    Ok(config)
}
