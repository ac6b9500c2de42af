//! Configuration reload (SIGHUP): a validated config is applied at once and atomically. Each
//! request takes the [`Engine`] current when it starts and keeps it to its end, so requests and
//! streams in flight finish on the configuration they started with. Provider instances whose
//! settings did not change keep their actor, gate, breaker and counters; the router actor builds
//! the new route table (it owns that swap, `gateway_actors::Replace`). What only a restart can
//! change is named in the outcome.

use std::sync::{Arc, PoisonError, RwLock};

use gateway_actors::Replace;

use super::{Clients, Engine, ProviderSlot};
use crate::{config::Config, error::GatewayError, routing::RoutingRules};

/// The gateway requests start on, swapped whole by a reload.
pub struct EngineHandle {
    current: RwLock<Arc<Engine>>,
    /// One reload at a time.
    reloading: tokio::sync::Mutex<()>,
}

/// What a reload applied.
#[derive(Debug, Default)]
pub struct ReloadOutcome {
    /// Provider instances added, changed (a new gate) and removed.
    pub added: Vec<String>,
    /// Instances whose settings changed.
    pub changed: Vec<String>,
    /// Instances no longer configured.
    pub removed: Vec<String>,
    /// Settings that changed in the file but need a restart to apply.
    pub needs_restart: Vec<&'static str>,
}

impl EngineHandle {
    /// A handle serving `gateway`.
    pub fn new(engine: Engine) -> Self {
        Self {
            current: RwLock::new(Arc::new(engine)),
            reloading: tokio::sync::Mutex::new(()),
        }
    }

    /// The gateway a request starting now runs on.
    pub fn current(&self) -> Arc<Engine> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Applies `config` (already validated): new requests use it as soon as this returns Ok.
    pub async fn reload(&self, config: Config) -> Result<ReloadOutcome, GatewayError> {
        let _one_at_a_time = self.reloading.lock().await;
        let old = self.current();
        let (next, outcome) = old.reconfigured(config).await?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(next);
        Ok(outcome)
    }
}

/// Everything that identifies a provider instance's behaviour, key included (compared, never
/// shown).
fn provider_fingerprint(config: &crate::config::ProviderConfig) -> String {
    format!("{config:?}\u{0}{}", config.api_key.expose())
}

/// Everything that identifies the authentication setup, keys included (compared, never shown).
fn auth_fingerprint(config: &crate::config::AuthConfig) -> String {
    let keys: Vec<String> = config
        .api_keys
        .iter()
        .map(|k| format!("{}\u{0}{}", k.name, k.key.expose()))
        .collect();
    format!("{config:?}\u{0}{keys:?}")
}

/// Settings read once at start (the listener, the body limits, the stores, the exporters).
fn needs_restart(old: &Config, new: &Config) -> Vec<&'static str> {
    let mut changed = Vec::new();
    let (a, b) = (&old.server, &new.server);
    let checks: [(&'static str, bool); 13] = [
        ("server.address", a.address != b.address),
        ("server.workers", a.workers != b.workers),
        ("server.watch_config", a.watch_config != b.watch_config),
        (
            "server.max_body_bytes",
            a.max_body_bytes != b.max_body_bytes,
        ),
        ("server.body_timeout", a.body_timeout != b.body_timeout),
        (
            "server.max_pending_body_bytes",
            a.max_pending_body_bytes != b.max_pending_body_bytes,
        ),
        (
            "server.shutdown_timeout/shutdown_delay",
            a.shutdown_timeout != b.shutdown_timeout || a.shutdown_delay != b.shutdown_delay,
        ),
        (
            "conversations",
            format!("{:?}", old.conversations) != format!("{:?}", new.conversations),
        ),
        (
            "tracing",
            format!("{:?}", old.tracing) != format!("{:?}", new.tracing),
        ),
        (
            "redis",
            format!("{:?}", old.redis) != format!("{:?}", new.redis),
        ),
        (
            "fleet",
            format!("{:?}", old.fleet) != format!("{:?}", new.fleet),
        ),
        (
            "metrics.enabled",
            old.metrics.enabled != new.metrics.enabled,
        ),
        ("log.format", old.log.json != new.log.json),
    ];
    for (name, differs) in checks {
        if differs {
            changed.push(name);
        }
    }
    changed
}

impl Engine {
    /// The gateway for `config`, sharing this one's stores, drain, background work and the
    /// provider instances whose settings did not change.
    async fn reconfigured(&self, config: Config) -> Result<(Self, ReloadOutcome), GatewayError> {
        let mut outcome = ReloadOutcome {
            needs_restart: needs_restart(&self.config, &config),
            ..ReloadOutcome::default()
        };
        let fleet_limits = self.config.redis.is_some() && self.config.fleet.enabled;
        let mut clients = Clients::default();
        let mut providers = std::collections::HashMap::new();
        for provider_config in &config.providers {
            let kept = self.providers.get(&provider_config.name).filter(|slot| {
                provider_fingerprint(&slot.provider.config) == provider_fingerprint(provider_config)
            });
            let slot = match kept {
                Some(slot) => slot.clone(),
                None => {
                    if self.providers.contains_key(&provider_config.name) {
                        outcome.changed.push(provider_config.name.clone());
                    } else {
                        outcome.added.push(provider_config.name.clone());
                    }
                    // Local limits: the fleet actor leases for the instances it started with.
                    ProviderSlot::start(provider_config, &self.router, &mut clients, None)?
                }
            };
            providers.insert(provider_config.name.clone(), slot);
        }
        outcome.removed = self
            .providers
            .keys()
            .filter(|name| !providers.contains_key(*name))
            .cloned()
            .collect();
        outcome.removed.sort();
        if fleet_limits
            && outcome
                .added
                .iter()
                .chain(&outcome.changed)
                .filter_map(|name| config.provider(name))
                .any(|p| p.rpm.is_some() || p.tpm.is_some())
        {
            outcome
                .needs_restart
                .push("fleet-wide rpm/tpm of added or changed providers (local until then)");
        }
        let gates = providers
            .iter()
            .map(|(name, slot)| (name.clone(), slot.gate.clone()))
            .collect();
        let routes = self
            .router
            .send(Replace {
                rules: RoutingRules::new(&config),
                gates,
            })
            .await
            .map_err(|e| GatewayError::Internal(format!("router actor: {e}")))?;
        let same_auth = auth_fingerprint(&self.config.auth) == auth_fingerprint(&config.auth)
            && self.config.quotas.claim == config.quotas.claim;
        let auth = if same_auth {
            self.auth.clone()
        } else {
            crate::auth::Authenticator::start(&config.auth, &config.quotas.claim)?
        };
        let next = Self {
            observability: self.observability.reconfigure(&config),
            quotas: self.quotas.reconfigure(&config),
            config: Arc::new(config),
            router: self.router.clone(),
            routes,
            providers: Arc::new(providers),
            conversations: self.conversations.clone(),
            drain: self.drain.clone(),
            background: self.background.clone(),
            auth,
        };
        Ok((next, outcome))
    }
}

/// Applies a reloaded `log.level` (the binary's log filter lives outside the library).
pub type SetLogLevel = Box<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

/// Metric: reloads by `result` (`applied`, `invalid`, `failed`).
pub const RELOADS: &str = "gateway_config_reloads_total";
/// Metric: 1 for the `hash` of the configuration in use.
pub const CONFIG_INFO: &str = "gateway_config_info";

/// Marks `hash` as the configuration in use (and `previous`, if any, as no longer).
pub fn publish_config_hash(previous: Option<&str>, hash: &str) {
    if let Some(previous) = previous.filter(|p| *p != hash) {
        metrics::gauge!(CONFIG_INFO, "hash" => previous.to_owned()).set(0.0);
    }
    metrics::gauge!(CONFIG_INFO, "hash" => hash.to_owned()).set(1.0);
}

/// A short, stable hash of a configuration file's bytes (for `gateway_config_info`).
pub fn config_hash(bytes: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    digest.as_ref()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Applies one reload request: `loaded` is the re-read, validated file (or why it is not valid,
/// naming the path) with its hash; `set_log_level` applies the new `log.level`. An invalid file
/// leaves the running configuration in place. Returns the hash in use afterwards.
pub async fn apply(
    handle: &EngineHandle,
    loaded: Result<(Config, String), String>,
    current_hash: &str,
    set_log_level: &(dyn Fn(&str) -> Result<(), String> + Send + Sync),
) -> String {
    let (config, hash) = match loaded {
        Ok(loaded) => loaded,
        Err(why) => {
            metrics::counter!(RELOADS, "result" => "invalid").increment(1);
            tracing::error!(error = %why, "Config reload refused: the running configuration stays.");
            return current_hash.to_owned();
        }
    };
    let level = config.log.level.clone();
    match handle.reload(config).await {
        Ok(outcome) => {
            if let Err(why) = set_log_level(&level) {
                tracing::warn!(error = %why, "The new log level was not applied.");
            }
            for setting in &outcome.needs_restart {
                tracing::warn!(
                    setting,
                    "Config reload: this setting changed but applies only after a restart."
                );
            }
            metrics::counter!(RELOADS, "result" => "applied").increment(1);
            publish_config_hash(Some(current_hash), &hash);
            tracing::info!(
                hash = %hash,
                added = ?outcome.added,
                changed = ?outcome.changed,
                removed = ?outcome.removed,
                "Config reloaded; new requests use it, requests in flight finish on the one they started with."
            );
            hash
        }
        Err(err) => {
            metrics::counter!(RELOADS, "result" => "failed").increment(1);
            tracing::error!(error = %err, "Config reload failed: the running configuration stays.");
            current_hash.to_owned()
        }
    }
}

/// How often a watched config file is read (`server.watch_config`).
const WATCH_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// The [`config_hash`] of the file at `path` now (`None` when it cannot be read). Content, not
/// the modification time: two saves within one timestamp tick still differ, and a `touch` that
/// changes nothing does not reload.
fn file_hash(path: &std::path::Path) -> Option<String> {
    std::fs::read(path).ok().map(|bytes| config_hash(&bytes))
}

/// Reloads on every SIGHUP and, with `watch` (`server.watch_config` and a config file), when
/// that file's content differs from the one `hash` was taken of; `load` re-reads the
/// configuration. The SIGHUP handler is installed when this is called, not when the returned
/// future first runs: once the caller says it is listening, a SIGHUP reloads rather than
/// ending the process, and an edit saved right after that is seen.
#[cfg(unix)]
pub fn on_sighup(
    handle: Arc<EngineHandle>,
    load: impl Fn() -> Result<(Config, String), String>,
    mut hash: String,
    set_log_level: SetLogLevel,
    watch: Option<std::path::PathBuf>,
) -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let hangups = signal(SignalKind::hangup());
    async move {
        let mut hangups = match hangups {
            Ok(hangups) => hangups,
            Err(err) => {
                tracing::error!(error = %err, "Cannot listen for SIGHUP; configuration reload is off.");
                return;
            }
        };
        // The file as last seen: the one the running configuration was read from.
        let mut seen = hash.clone();
        let mut tick = tokio::time::interval(WATCH_EVERY);
        loop {
            tokio::select! {
                signal = hangups.recv() => {
                    if signal.is_none() {
                        return;
                    }
                    tracing::info!("SIGHUP: reloading the configuration.");
                }
                _ = tick.tick(), if watch.is_some() => {
                    match watch.as_deref().and_then(file_hash) {
                        Some(now) if now != seen => seen = now,
                        _ => continue,
                    }
                    tracing::info!("The config file changed: reloading the configuration.");
                }
            }
            let applied = apply(&handle, load(), &hash, set_log_level.as_ref()).await;
            if applied != hash {
                // Read from the file just now (a SIGHUP's reload included): nothing new to watch.
                seen = applied.clone();
            }
            hash = applied;
        }
    }
}
