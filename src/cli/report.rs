//! What `gateway check` prints about a valid config: server, providers (key source, never the
//! key), the routing table (`routes`), auth mode, conversation store, log, metrics, tracing.
//! Secrets never appear: keys are not read at all, and URL passwords are masked.

use std::{
    io::{self, Write},
    time::Duration,
};

use super::routes;
use crate::config::{AuthConfig, Config, ConversationBackend, ProviderConfig};

/// What replaces a password in a printed URL.
const MASK: &str = "*****";

/// Writes the report. `source` says where the config came from; `rust_log` is the `RUST_LOG`
/// in effect, if any (it overrides `log.level`).
pub fn write(
    out: &mut impl Write,
    config: &Config,
    source: &str,
    rust_log: Option<&str>,
) -> io::Result<()> {
    writeln!(out, "config: {source}: valid")?;
    write_server(out, config)?;
    write_providers(out, &config.providers)?;
    routes::write(out, config)?;
    write_auth(out, &config.auth)?;
    write_store(out, config)?;
    write_observability(out, config, rust_log)
}

fn human(duration: Duration) -> humantime::FormattedDuration {
    humantime::format_duration(duration)
}

fn or_none<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "none".to_owned(), |v| v.to_string())
}

fn write_server(out: &mut impl Write, config: &Config) -> io::Result<()> {
    let s = &config.server;
    writeln!(
        out,
        "server: address={} workers={} max_body_bytes={} max_pending_body_bytes={} body_timeout={}",
        s.address,
        s.workers
            .map_or_else(|| "one per core".to_owned(), |w| w.to_string()),
        s.max_body_bytes,
        s.max_pending_body_bytes,
        human(s.body_timeout),
    )?;
    writeln!(
        out,
        "  shutdown_delay={} shutdown_timeout={} keepalive={} secret={}",
        human(s.shutdown_delay),
        human(s.shutdown_timeout),
        s.keepalive
            .map_or_else(|| "off".to_owned(), |k| human(k).to_string()),
        // Whether one is set, never the value (nor anything derived from it).
        if s.reasoning_key_random {
            "unset (random per process)"
        } else {
            "set"
        },
    )
}

fn write_providers(out: &mut impl Write, providers: &[ProviderConfig]) -> io::Result<()> {
    if providers.is_empty() {
        return writeln!(
            out,
            "providers: none configured (no API key): set OPENAI_API_KEY, AZURE_OPENAI_API_KEY (+ endpoint, deployment), ANTHROPIC_API_KEY or GOOGLE_API_KEY, or keys in the config"
        );
    }
    writeln!(out, "providers ({}):", providers.len())?;
    for p in providers {
        // `key_source` is `config` or the variable's name; the key itself is never read here.
        let key = match p.key_source.as_str() {
            "config" => "config".to_owned(),
            var => format!("env {var}"),
        };
        writeln!(
            out,
            "  {}: kind={} base_url={} key_source={key}",
            p.name,
            p.kind.as_str(),
            mask_url(&p.base_url),
        )?;
        writeln!(out, "    models: {}", p.models.join(", "))?;
        if let Some(deployment) = &p.deployment_id {
            writeln!(out, "    deployment_id: {deployment}")?;
        }
        if !p.deployments.is_empty() {
            let mapped: Vec<String> = p
                .deployments
                .iter()
                .map(|(model, deployment)| format!("{model} → {deployment}"))
                .collect();
            writeln!(out, "    deployments: {}", mapped.join(", "))?;
        }
        if let Some(version) = &p.api_version {
            writeln!(out, "    api_version: {version}")?;
        }
        writeln!(
            out,
            "    limits: max_concurrency={} max_queue={} rpm={} tpm={} max_response_bytes={} default_max_tokens={}",
            p.max_concurrency,
            p.max_queue,
            or_none(p.rpm),
            or_none(p.tpm),
            p.max_response_bytes,
            p.default_max_tokens,
        )?;
        writeln!(
            out,
            "    timeouts: queue_timeout={} connect_timeout={} request_timeout={} stream_idle_timeout={}",
            human(p.queue_timeout),
            human(p.connect_timeout),
            human(p.request_timeout),
            human(p.stream_idle_timeout),
        )?;
        writeln!(
            out,
            "    breaker: failure_threshold={} cooldown={}",
            p.failure_threshold,
            human(p.cooldown),
        )?;
    }
    Ok(())
}

fn write_auth(out: &mut impl Write, auth: &AuthConfig) -> io::Result<()> {
    if !auth.enabled {
        return writeln!(out, "auth: off (every request is the anonymous caller)");
    }
    writeln!(out, "auth: on")?;
    if !auth.issuer.is_empty() {
        let algorithms: Vec<String> = auth.algorithms.iter().map(|a| format!("{a:?}")).collect();
        let jwks = auth.jwks_uri.clone().unwrap_or_else(|| {
            format!(
                "discovery at {}/.well-known/openid-configuration",
                auth.issuer.trim_end_matches('/')
            )
        });
        writeln!(
            out,
            "  oidc: issuer={} audience={} jwks={} algorithms={} leeway={} jwks_refresh={}",
            auth.issuer,
            auth.audience.join(","),
            jwks,
            algorithms.join(","),
            human(auth.leeway),
            human(auth.jwks_refresh),
        )?;
    }
    // Names only: they are the callers' identities (`key:<name>`), not secrets.
    let names: Vec<&str> = auth.api_keys.iter().map(|k| k.name.as_str()).collect();
    writeln!(
        out,
        "  api_keys: {} static key(s){}",
        names.len(),
        if names.is_empty() {
            String::new()
        } else {
            format!(" ({})", names.join(", "))
        }
    )
}

fn write_store(out: &mut impl Write, config: &Config) -> io::Result<()> {
    let c = &config.conversations;
    match &c.backend {
        ConversationBackend::Memory => writeln!(
            out,
            "conversations: memory ttl={} max_entries={} max_bytes={}",
            human(c.ttl),
            c.max_entries,
            c.max_bytes,
        ),
        ConversationBackend::Redis(redis) => writeln!(
            out,
            "conversations: redis url={} key_prefix={:?} ttl={}",
            mask_url(redis.url.expose()),
            redis.key_prefix,
            human(c.ttl),
        ),
    }
}

fn write_observability(
    out: &mut impl Write,
    config: &Config,
    rust_log: Option<&str>,
) -> io::Result<()> {
    let overridden = rust_log
        .filter(|v| !v.trim().is_empty())
        .map(|v| format!(" (overridden by RUST_LOG={v})"))
        .unwrap_or_default();
    writeln!(
        out,
        "log: level={}{overridden} format={}",
        config.log.level,
        if config.log.json { "json" } else { "text" },
    )?;
    writeln!(
        out,
        "metrics: enabled={} require_auth={} usage_admins={} price_overrides={}",
        config.metrics.enabled,
        config.metrics.require_auth,
        config.usage.admins.len(),
        config.prices.len(),
    )?;
    let t = &config.tracing;
    match &t.otlp_endpoint {
        None => writeln!(out, "tracing: off"),
        Some(endpoint) => writeln!(
            out,
            "tracing: otlp_endpoint={} service_name={} sample_ratio={}",
            mask_url(endpoint),
            t.service_name,
            t.sample_ratio,
        ),
    }
}

/// `url` with any password replaced by `*****` (`redis://user:*****@host`); a URL that does not
/// parse is hidden whole, since where its password sits is unknown.
pub fn mask_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => match parsed.set_password(Some(MASK)) {
            Ok(()) => parsed.to_string(),
            Err(()) => MASK.to_owned(),
        },
        Ok(_) => url.to_owned(),
        Err(_) => MASK.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(yaml: &str, env: &dyn Fn(&str) -> Option<String>) -> String {
        let config = Config::from_yaml(yaml, env).unwrap();
        let mut out = Vec::new();
        write(&mut out, &config, "test.yaml", Some("debug")).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn passwords_in_urls_are_masked() {
        assert_eq!(
            mask_url("redis://user:hunter2@cache:6379/1"),
            "redis://user:*****@cache:6379/1"
        );
        assert_eq!(
            mask_url("redis://:hunter2@cache:6379"),
            "redis://:*****@cache:6379"
        );
        assert_eq!(mask_url("redis://cache:6379"), "redis://cache:6379");
        assert_eq!(mask_url("not a url hunter2"), MASK);
    }

    #[test]
    fn keys_never_print_and_sources_do() {
        let yaml = r#"
providers:
  openai: { api_key: "sk-in-the-file-0001", rpm: 60 }
  anthropic: {}
auth:
  enabled: true
  api_keys: [{ name: ci, key: "sk-gw-ci-0123456789abcdef" }]
conversations:
  store: redis
  redis_url: "redis://:hunter2@cache:6379"
"#;
        let env = |name: &str| match name {
            "ANTHROPIC_API_KEY" => Some("sk-ant-from-env-02".to_owned()),
            "GATEWAY_SECRET" => Some("sealing-secret-from-env-03".to_owned()),
            _ => None,
        };
        let text = report(yaml, &env);
        assert!(text.contains(" secret=set"), "{text}");
        for secret in [
            "sk-in-the-file-0001",
            "sk-ant-from-env-02",
            "sealing-secret-from-env-03",
            "sk-gw-ci-0123456789abcdef",
            "hunter2",
        ] {
            assert!(!text.contains(secret), "{secret} printed:\n{text}");
        }
        assert!(
            text.contains(
                "  openai: kind=openai base_url=https://api.openai.com/v1 key_source=config"
            ),
            "{text}"
        );
        assert!(text.contains("key_source=env ANTHROPIC_API_KEY"), "{text}");
        assert!(text.contains("rpm=60 tpm=none"), "{text}");
        assert!(text.contains("api_keys: 1 static key(s) (ci)"), "{text}");
        assert!(
            text.contains("conversations: redis url=redis://:*****@cache:6379"),
            "{text}"
        );
        assert!(
            text.contains("log: level=info (overridden by RUST_LOG=debug)"),
            "{text}"
        );
    }
}
