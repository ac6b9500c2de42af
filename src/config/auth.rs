//! The `auth:` block → `AuthConfig`: issuer, audience, JWKS source, algorithm allow-list, leeway
//! and static API keys, with the checks a security review expects (no HMAC, no `none`, an
//! audience whenever an issuer is set, HTTPS except on loopback).

use super::{duration, invalid};
use std::{collections::BTreeSet, net::IpAddr, str::FromStr, time::Duration};

use jsonwebtoken::Algorithm;
use serde_json::Value;

use super::{
    ApiKeyConfig, AuthConfig, ConfigError, Secret,
    raw::{RawApiKey, RawAuth},
};

/// Default clock skew allowed on `exp` and `nbf`.
const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);
/// Largest accepted leeway: more would keep expired tokens alive.
const MAX_LEEWAY: Duration = Duration::from_secs(300);
/// Default background JWKS refresh period.
const DEFAULT_JWKS_REFRESH: Duration = Duration::from_secs(600);
/// Shortest accepted static API key, so a key cannot be guessed.
const MIN_API_KEY_LEN: usize = 16;

/// Every algorithm accepted by default: the asymmetric ones `jsonwebtoken` verifies.
pub const ASYMMETRIC_ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Validates the `auth:` block. A disabled block is not checked further (configs in the
/// predecessor's schema keep a placeholder issuer there), and yields the disabled default.
pub fn validate_auth(raw: RawAuth) -> Result<AuthConfig, ConfigError> {
    if !raw.enabled {
        return Ok(AuthConfig::default());
    }
    let issuer = raw.issuer.map(|s| s.trim().to_owned()).unwrap_or_default();
    let audience = audience(raw.audience)?;
    let api_keys = api_keys(raw.api_keys)?;
    if issuer.is_empty() && api_keys.is_empty() {
        return Err(invalid(
            "auth.issuer",
            "auth.enabled needs an issuer (OIDC) or auth.api_keys",
        ));
    }
    if !issuer.is_empty() {
        check_url(&issuer, "auth.issuer")?;
        if audience.is_empty() {
            // Without an audience any token the issuer minted for any other client would pass.
            return Err(invalid(
                "auth.audience",
                "required with auth.issuer (your client id or API identifier)",
            ));
        }
    }
    let jwks_uri = match raw.jwks_uri.map(|u| u.trim().to_owned()) {
        Some(uri) if !uri.is_empty() => Some(check_url(&uri, "auth.jwks_uri")?),
        _ => None,
    };
    let leeway = duration(raw.leeway.as_deref(), DEFAULT_LEEWAY, "auth.leeway")?;
    if leeway > MAX_LEEWAY {
        return Err(invalid("auth.leeway", "must be at most 5m"));
    }
    let jwks_refresh = duration(
        raw.jwks_refresh.as_deref(),
        DEFAULT_JWKS_REFRESH,
        "auth.jwks_refresh",
    )?
    .max(Duration::from_secs(1));
    Ok(AuthConfig {
        enabled: raw.enabled,
        issuer,
        audience,
        jwks_uri,
        algorithms: algorithms(raw.algorithms)?,
        leeway,
        jwks_refresh,
        api_keys,
    })
}

fn audience(raw: Option<Value>) -> Result<Vec<String>, ConfigError> {
    let shape = || invalid("auth.audience", "must be a string or a list of strings");
    let list = match raw {
        None => Vec::new(),
        Some(Value::String(s)) => vec![s],
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or_else(shape))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(shape()),
    };
    Ok(list
        .into_iter()
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.is_empty())
        .collect())
}

fn algorithms(raw: Option<Vec<String>>) -> Result<Vec<Algorithm>, ConfigError> {
    let Some(names) = raw else {
        return Ok(ASYMMETRIC_ALGORITHMS.to_vec());
    };
    let mut out = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let path = format!("auth.algorithms[{i}]");
        let alg = Algorithm::from_str(name.trim())
            .ok()
            .filter(|a| ASYMMETRIC_ALGORITHMS.contains(a))
            .ok_or_else(|| {
                invalid(
                    path,
                    format!(
                        "`{name}` is not accepted; use RS256, RS384, RS512, PS256, PS384, PS512, \
                         ES256, ES384 or EdDSA (HMAC and `none` are never accepted)"
                    ),
                )
            })?;
        if !out.contains(&alg) {
            out.push(alg);
        }
    }
    if out.is_empty() {
        return Err(invalid(
            "auth.algorithms",
            "must name at least one algorithm",
        ));
    }
    Ok(out)
}

fn api_keys(raw: Vec<RawApiKey>) -> Result<Vec<ApiKeyConfig>, ConfigError> {
    let mut names = BTreeSet::new();
    let mut out = Vec::with_capacity(raw.len());
    for (i, entry) in raw.into_iter().enumerate() {
        let name = entry.name.trim().to_owned();
        // Owners are `key:<name>` and `<sub>@<issuer>`: a plain name can never collide with a JWT.
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(invalid(
                format!("auth.api_keys[{i}].name"),
                "must be non-empty letters, digits, `-`, `_` or `.`",
            ));
        }
        if !names.insert(name.clone()) {
            return Err(invalid(
                format!("auth.api_keys[{i}].name"),
                format!("`{name}` is used twice"),
            ));
        }
        // A `${VAR}` that is not set expands to "": refuse rather than accept a short key.
        if entry.key.trim().chars().count() < MIN_API_KEY_LEN {
            return Err(invalid(
                format!("auth.api_keys[{i}].key"),
                format!("must be at least {MIN_API_KEY_LEN} characters (is its variable set?)"),
            ));
        }
        out.push(ApiKeyConfig {
            name,
            key: Secret::new(entry.key.trim()),
        });
    }
    Ok(out)
}

/// `https://…`, or `http://` to a loopback host (plain HTTP elsewhere would let anyone on the
/// path swap the signing keys).
fn check_url(url: &str, path: &str) -> Result<String, ConfigError> {
    if is_acceptable_key_url(url) {
        Ok(url.to_owned())
    } else {
        Err(invalid(
            path,
            format!("`{url}` must be https:// (http:// only for localhost/127.0.0.1/[::1])"),
        ))
    }
}

/// Whether `url` may serve discovery documents or keys: HTTPS, or HTTP on loopback.
pub fn is_acceptable_key_url(url: &str) -> bool {
    if url.starts_with("https://") {
        return true;
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn load(yaml: &str) -> Result<Config, ConfigError> {
        let env = |name: &str| (name == "GW_KEY").then(|| "k-0123456789abcdef".to_owned());
        Config::from_yaml(yaml, &env)
    }

    #[test]
    fn defaults_and_full_block() {
        let config = load("").unwrap();
        assert!(!config.auth.enabled);
        // A disabled block with only a placeholder issuer (the predecessor's example) loads.
        let placeholder = load("auth:\n  enabled: false\n  issuer: \"https://x\"\n").unwrap();
        assert!(!placeholder.auth.enabled);
        let yaml = "auth:\n  enabled: true\n  issuer: \"https://id.example.com/\"\n  audience: [a, b]\n  algorithms: [RS256, ES256]\n  leeway: \"10s\"\n  jwks_uri: \"http://127.0.0.1:9/jwks\"\n  api_keys:\n    - {name: ci, key: \"${GW_KEY}\"}\n";
        let auth = load(yaml).unwrap().auth;
        assert_eq!(auth.issuer, "https://id.example.com/");
        assert_eq!(auth.audience, ["a", "b"]);
        assert_eq!(auth.algorithms, [Algorithm::RS256, Algorithm::ES256]);
        assert_eq!(auth.leeway, Duration::from_secs(10));
        assert_eq!(auth.jwks_uri.as_deref(), Some("http://127.0.0.1:9/jwks"));
        assert_eq!(auth.api_keys[0].key.expose(), "k-0123456789abcdef");
        assert_eq!(format!("{:?}", auth.api_keys[0].key), "*****");
        let keys_only = "auth:\n  enabled: true\n  api_keys: [{name: ci, key: \"${GW_KEY}\"}]\n";
        let auth = load(keys_only).unwrap().auth;
        assert!(auth.issuer.is_empty());
        assert_eq!(auth.algorithms.len(), ASYMMETRIC_ALGORITHMS.len());
        assert_eq!(auth.leeway, DEFAULT_LEEWAY);
    }

    #[test]
    fn unsafe_settings_are_refused_with_their_path() {
        let iss = "auth:\n  enabled: true\n  issuer: \"https://id.example.com\"\n";
        let bad = [
            ("auth:\n  enabled: true\n".to_owned(), "auth.issuer"),
            (iss.to_owned(), "auth.audience"),
            (format!("{iss}  audience: a\n  algorithms: [HS256]\n"), "auth.algorithms[0]"),
            (format!("{iss}  audience: a\n  algorithms: [none]\n"), "auth.algorithms[0]"),
            (format!("{iss}  audience: a\n  algorithms: []\n"), "auth.algorithms"),
            (format!("{iss}  audience: a\n  leeway: \"1h\"\n"), "auth.leeway"),
            (
                format!("{iss}  audience: a\n  jwks_uri: \"http://keys.example.com/jwks\"\n"),
                "auth.jwks_uri",
            ),
            (
                "auth:\n  enabled: true\n  issuer: \"http://id.example.com\"\n  audience: a\n"
                    .to_owned(),
                "auth.issuer",
            ),
            (
                "auth:\n  enabled: true\n  api_keys: [{name: ci, key: \"${UNSET}\"}]\n".to_owned(),
                "auth.api_keys[0].key",
            ),
            (
                "auth:\n  enabled: true\n  api_keys: [{name: a, key: \"${GW_KEY}\"}, {name: a, key: \"${GW_KEY}\"}]\n"
                    .to_owned(),
                "auth.api_keys[1].name",
            ),
            ("auth:\n  enabled: true\n  api_keys: [{name: a, secret: x}]\n".to_owned(), "auth.api_keys[0]"),
            (
                "auth:\n  enabled: true\n  api_keys: [{name: \"a@https://id\", key: \"${GW_KEY}\"}]\n".to_owned(),
                "auth.api_keys[0].name",
            ),
        ];
        for (yaml, path) in bad {
            let err = load(&yaml).unwrap_err().to_string();
            assert!(err.contains(path), "{yaml} → {err}");
        }
    }

    #[test]
    fn key_urls_need_https_except_loopback() {
        assert!(is_acceptable_key_url("https://x.example.com/jwks"));
        assert!(is_acceptable_key_url("http://127.0.0.1:8080/jwks"));
        assert!(is_acceptable_key_url("http://localhost/jwks"));
        assert!(is_acceptable_key_url("http://[::1]:9/jwks"));
        assert!(!is_acceptable_key_url("http://localhost.evil.com/jwks"));
        assert!(!is_acceptable_key_url("http://127.evil.com/jwks"));
        assert!(!is_acceptable_key_url("http://127.0.0.1@evil.com/jwks"));
        assert!(!is_acceptable_key_url("http://10.0.0.1/jwks"));
        assert!(!is_acceptable_key_url("ftp://x/jwks"));
    }
}
