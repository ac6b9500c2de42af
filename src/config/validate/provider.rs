//! One `providers.<name>` block → `ProviderConfig`: its family, URL, Azure deployment, models,
//! limits and timeouts, each error naming the key at fault.

use std::{collections::BTreeMap, time::Duration};

use crate::{
    api::ProviderKind,
    config::{ConfigError, ProviderConfig, Secret, duration, invalid, raw::RawProvider},
};

const DEFAULT_MAX_CONCURRENCY: usize = 256;
const DEFAULT_MAX_QUEUE: usize = 1024;
/// Until the first upstream byte: reasoning models can think for minutes before answering,
/// and a non-streamed answer arrives whole (the official OpenAI and Anthropic SDKs wait 10 min).
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(600);
/// A non-streamed answer or one stream event larger than this is not a real provider's.
const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// Default models listed per family when the config lists none.
fn default_models(kind: ProviderKind) -> Vec<String> {
    let names: &[&str] = match kind {
        ProviderKind::OpenAi => &[
            "gpt-4o",
            "gpt-4o-mini",
            "gpt-4.1",
            "gpt-4.1-mini",
            "o3",
            "o4-mini",
        ],
        ProviderKind::Azure => &["gpt-4o", "gpt-4o-mini"],
        ProviderKind::Anthropic => &[
            "claude-sonnet-4-5",
            "claude-opus-4-1",
            "claude-3-5-haiku-latest",
        ],
        ProviderKind::Gemini => &["gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.0-flash"],
    };
    names.iter().map(|s| (*s).to_owned()).collect()
}

fn check_url(url: &str, path: &str) -> Result<String, ConfigError> {
    let url = url.trim().trim_end_matches('/');
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(invalid(
            path,
            format!("`{url}` must start with http:// or https://"),
        ));
    }
    Ok(url.to_owned())
}

/// The config path of `key` in provider `name`'s block.
fn at(name: &str, key: &str) -> String {
    format!("providers.{name}.{key}")
}

/// `providers.<name>`; `None` when it has no API key, so the instance is left out.
pub(super) fn provider(
    name: &str,
    raw: RawProvider,
    key_source: &str,
) -> Result<Option<ProviderConfig>, ConfigError> {
    let kind = kind(name, raw.kind.as_deref())?;
    let api_key = raw.api_key.unwrap_or_default();
    if api_key.trim().is_empty() {
        return Ok(None);
    }
    let base_url = base_url(name, kind, raw.endpoint, raw.base_url)?;
    let deployment_id = raw.deployment_id.filter(|d| !d.trim().is_empty());
    if kind == ProviderKind::Azure && deployment_id.is_none() && raw.deployments.is_empty() {
        return Err(invalid(
            at(name, "deployment_id"),
            "Azure OpenAI needs a deployment_id (or AZURE_OPENAI_DEPLOYMENT_ID) or a deployments map",
        ));
    }
    let api_version = raw.api_version.or_else(|| default_api_version(kind));
    let max_concurrency = raw.max_concurrency.unwrap_or(DEFAULT_MAX_CONCURRENCY);
    if max_concurrency == 0 {
        return Err(invalid(at(name, "max_concurrency"), "must be at least 1"));
    }
    let models = models(kind, raw.models, &raw.deployments);
    let timeout = |value: Option<&String>, default, key| duration(value, default, &at(name, key));
    let queue_timeout = timeout(
        raw.queue_timeout.as_ref(),
        Duration::from_secs(30),
        "queue_timeout",
    )?;
    let connect_timeout = timeout(
        raw.connect_timeout.as_ref(),
        Duration::from_secs(10),
        "connect_timeout",
    )?;
    let request_timeout = timeout(
        raw.request_timeout.as_ref(),
        DEFAULT_REQUEST_TIMEOUT,
        "request_timeout",
    )?;
    let stream_idle_timeout = timeout(
        raw.stream_idle_timeout.as_ref(),
        Duration::from_secs(300),
        "stream_idle_timeout",
    )?;
    let cooldown = timeout(raw.cooldown.as_ref(), Duration::from_secs(30), "cooldown")?;
    let max_response_bytes = max_response_bytes(name, raw.max_response_bytes)?;
    let prompt_cache = prompt_cache(name, raw.prompt_cache.as_deref())?;
    Ok(Some(ProviderConfig {
        name: name.to_owned(),
        kind,
        api_key: Secret::new(api_key.trim()),
        base_url,
        deployment_id,
        deployments: raw.deployments,
        api_version,
        models,
        max_concurrency,
        max_queue: raw.max_queue.unwrap_or(DEFAULT_MAX_QUEUE),
        queue_timeout,
        connect_timeout,
        request_timeout,
        stream_idle_timeout,
        failure_threshold: raw.failure_threshold.unwrap_or(5).max(1),
        cooldown,
        default_max_tokens: raw.default_max_tokens.unwrap_or(4096),
        rpm: raw.rpm.filter(|n| *n > 0),
        tpm: raw.tpm.filter(|n| *n > 0),
        max_response_bytes,
        key_source: key_source.to_owned(),
        prompt_cache,
    }))
}

/// The family: `type:`, or the instance name when it is one.
fn kind(name: &str, kind: Option<&str>) -> Result<ProviderKind, ConfigError> {
    let kind_name = kind.unwrap_or(name);
    ProviderKind::parse(kind_name).ok_or_else(|| {
        invalid(
            if kind.is_some() { at(name, "type") } else { format!("providers.{name}") },
            format!("unknown provider type `{kind_name}`; use openai, azureopenai, anthropic or google (set `type:` for custom instance names)"),
        )
    })
}

/// The upstream URL: Azure's resource endpoint (required), else `base_url` or the family's
/// public API.
fn base_url(
    name: &str,
    kind: ProviderKind,
    endpoint: Option<String>,
    base_url: Option<String>,
) -> Result<String, ConfigError> {
    let public = match kind {
        ProviderKind::Azure => {
            let endpoint = endpoint
                .or(base_url)
                .filter(|e| !e.trim().is_empty())
                .ok_or_else(|| {
                    invalid(
                        at(name, "endpoint"),
                        "Azure OpenAI needs the resource endpoint (or AZURE_OPENAI_ENDPOINT)",
                    )
                })?;
            return check_url(&endpoint, &at(name, "endpoint"));
        }
        ProviderKind::OpenAi => "https://api.openai.com/v1",
        ProviderKind::Anthropic => "https://api.anthropic.com",
        ProviderKind::Gemini => "https://generativelanguage.googleapis.com",
    };
    check_url(base_url.as_deref().unwrap_or(public), &at(name, "base_url"))
}

/// The API version a family needs when the block sets none.
fn default_api_version(kind: ProviderKind) -> Option<String> {
    match kind {
        ProviderKind::Azure => Some("2024-10-21".to_owned()),
        ProviderKind::Anthropic => Some("2023-06-01".to_owned()),
        ProviderKind::OpenAi | ProviderKind::Gemini => None,
    }
}

/// The models served: as listed (or the family's defaults), plus every model an Azure
/// `deployments` map names.
fn models(
    kind: ProviderKind,
    listed: Option<Vec<String>>,
    deployments: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut models = listed.unwrap_or_else(|| default_models(kind));
    if kind == ProviderKind::Azure {
        for model in deployments.keys() {
            if !models.contains(model) {
                models.push(model.clone());
            }
        }
    }
    models
}

/// `max_response_bytes`: at least 1 when set.
fn max_response_bytes(name: &str, value: Option<usize>) -> Result<usize, ConfigError> {
    match value {
        Some(0) => Err(invalid(
            at(name, "max_response_bytes"),
            "must be at least 1",
        )),
        Some(n) => Ok(n),
        None => Ok(DEFAULT_MAX_RESPONSE_BYTES),
    }
}

/// `prompt_cache`: `auto` turns Anthropic prompt caching on for every request.
fn prompt_cache(name: &str, value: Option<&str>) -> Result<bool, ConfigError> {
    match value.map(str::trim) {
        None | Some("off") => Ok(false),
        Some("auto") => Ok(true),
        Some(other) => Err(invalid(
            at(name, "prompt_cache"),
            format!("`{other}` is not auto or off"),
        )),
    }
}
