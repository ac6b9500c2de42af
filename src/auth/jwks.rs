//! The issuer's signing keys: OIDC discovery (or a configured `jwks_uri`), a cache swapped
//! whole behind a std `RwLock`, a background refresh (Cache-Control `max-age`, else the configured
//! period; backoff while failing), and one rate-limited refresh when a token names an unknown kid.

use std::{
    sync::{Arc, PoisonError, RwLock, Weak},
    time::{Duration, Instant},
};

use futures::StreamExt;
use jsonwebtoken::{
    Algorithm, AlgorithmFamily, DecodingKey,
    jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse},
};
use serde::Deserialize;

use super::validate::VerifyKey;
use crate::config::{AuthConfig, is_acceptable_key_url};

/// At most one unknown-kid refresh per this window, so forged kids cannot cause a storm.
pub const KID_REFRESH_WINDOW: Duration = Duration::from_secs(30);
/// First retry delay after a failed load; doubles up to `MAX_BACKOFF`.
const INITIAL_BACKOFF: Duration = Duration::from_secs(1);
/// Longest delay between retries while the issuer is unreachable.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Bounds applied to an issuer's `max-age`.
const MIN_MAX_AGE: Duration = Duration::from_secs(30);
const MAX_MAX_AGE: Duration = Duration::from_secs(24 * 3600);
/// Largest discovery document or JWKS accepted.
const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;
/// Most keys kept from one JWKS.
const MAX_KEYS: usize = 64;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// The loaded keys, replaced whole on every successful refresh.
pub struct KeySet {
    keys: Vec<VerifyKey>,
}

impl KeySet {
    /// The key with this `kid`.
    pub fn by_kid(&self, kid: &str) -> Option<&VerifyKey> {
        self.keys.iter().find(|k| k.kid.as_deref() == Some(kid))
    }

    /// Keys that may verify `alg` (for tokens without a `kid`).
    pub fn for_alg(&self, alg: Algorithm) -> impl Iterator<Item = &VerifyKey> {
        self.keys
            .iter()
            .filter(move |k| k.algorithms.contains(&alg))
    }
}

/// The OIDC discovery fields the gateway uses.
#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

/// A JWKS whose keys are parsed one by one, so one odd key does not hide the others.
#[derive(Deserialize)]
struct RawJwks {
    keys: Vec<serde_json::Value>,
}

/// The signing-key cache of one issuer.
pub struct KeyStore {
    issuer: String,
    jwks_uri: Option<String>,
    allowed: Vec<Algorithm>,
    default_refresh: Duration,
    http: reqwest::Client,
    keys: RwLock<Option<Arc<KeySet>>>,
    /// When the last unknown-kid refresh started; held while it runs.
    kid_gate: tokio::sync::Mutex<Option<Instant>>,
}

impl KeyStore {
    /// A store for `config` (nothing is fetched yet).
    pub fn new(config: &AuthConfig) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(FETCH_TIMEOUT)
            // A redirect could leave HTTPS or the issuer's host.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot build the JWKS client: {e}"))?;
        Ok(Self {
            issuer: config.issuer.clone(),
            jwks_uri: config.jwks_uri.clone(),
            allowed: config.algorithms.clone(),
            default_refresh: config.jwks_refresh,
            http,
            keys: RwLock::new(None),
            kid_gate: tokio::sync::Mutex::new(None),
        })
    }

    /// The current keys, or `None` until the first successful load.
    pub fn current(&self) -> Option<Arc<KeySet>> {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Starts the background refresh on the current actix System; it ends with the store.
    pub fn spawn_refresher(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        actix_web::rt::spawn(refresh_loop(weak));
    }

    /// Refreshes because a token named `kid`, unless one such refresh ran in the last
    /// `KID_REFRESH_WINDOW` or is running now. Returns the keys to look in afterwards. Only the
    /// request that starts a refresh waits for it: others (a flood of forged kids) never wait.
    pub async fn refresh_for_kid(&self, kid: &str) -> Option<Arc<KeySet>> {
        let Ok(mut last) = self.kid_gate.try_lock() else {
            return self.current();
        };
        let current = self.current();
        if current.as_ref().is_some_and(|k| k.by_kid(kid).is_some())
            || last.is_some_and(|t| t.elapsed() < KID_REFRESH_WINDOW)
        {
            return current;
        }
        *last = Some(Instant::now());
        tracing::info!("Unknown JWT key id; refreshing the JWKS.");
        if let Err(err) = self.refresh().await {
            tracing::warn!(error = %err, "JWKS refresh failed; keeping the previous keys.");
        }
        self.current()
    }

    /// Fetches the keys once and installs them; returns when to refresh next.
    pub async fn refresh(&self) -> Result<Duration, String> {
        let jwks_uri = match &self.jwks_uri {
            Some(uri) => uri.clone(),
            None => self.discover().await?,
        };
        let (body, max_age) = self.fetch(&jwks_uri).await?;
        let raw: RawJwks = serde_json::from_slice(&body)
            .map_err(|e| format!("the JWKS at {jwks_uri} is not a JWK set: {e}"))?;
        let keys: Vec<VerifyKey> = raw
            .keys
            .into_iter()
            .filter_map(|value| self.verify_key(value))
            .take(MAX_KEYS)
            .collect();
        if keys.is_empty() {
            return Err(format!("the JWKS at {jwks_uri} has no usable signing key"));
        }
        tracing::info!(keys = keys.len(), "JWKS loaded.");
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) =
            Some(Arc::new(KeySet { keys }));
        Ok(max_age.map_or(self.default_refresh, |age| {
            age.clamp(MIN_MAX_AGE, MAX_MAX_AGE)
        }))
    }

    /// `{issuer}/.well-known/openid-configuration` → `jwks_uri` (issuer must match, §4.3).
    async fn discover(&self) -> Result<String, String> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.issuer.trim_end_matches('/')
        );
        let (body, _) = self.fetch(&url).await?;
        let doc: Discovery = serde_json::from_slice(&body)
            .map_err(|e| format!("the discovery document at {url} is invalid: {e}"))?;
        if doc.issuer.trim_end_matches('/') != self.issuer.trim_end_matches('/') {
            return Err(format!(
                "the discovery document names issuer {}, not {}",
                doc.issuer, self.issuer
            ));
        }
        if !is_acceptable_key_url(&doc.jwks_uri) {
            return Err(format!(
                "the discovered jwks_uri {} is not https",
                doc.jwks_uri
            ));
        }
        Ok(doc.jwks_uri)
    }

    /// GETs `url`: a 200 body of at most `MAX_DOCUMENT_BYTES`, and its `max-age`.
    async fn fetch(&self, url: &str) -> Result<(Vec<u8>, Option<Duration>), String> {
        let response = self
            .http
            .get(url)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| format!("GET {url} failed: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("GET {url} answered {}", response.status()));
        }
        let max_age = response
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .and_then(max_age);
        let mut body = Vec::new();
        let mut chunks = response.bytes_stream();
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.map_err(|e| format!("reading {url} failed: {e}"))?;
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(format!("{url} is larger than {MAX_DOCUMENT_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((body, max_age))
    }

    /// A usable signing key from one JWKS entry, or `None` (logged at debug) to skip it.
    fn verify_key(&self, value: serde_json::Value) -> Option<VerifyKey> {
        let jwk: Jwk = match serde_json::from_value(value) {
            Ok(jwk) => jwk,
            Err(err) => {
                tracing::debug!(error = %err, "Skipping a JWKS entry that is not a JWK.");
                return None;
            }
        };
        if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
            return None;
        }
        let by_type = algorithms_for_key_type(&jwk.algorithm);
        let algorithms: Vec<Algorithm> = match jwk.common.key_algorithm {
            // Keys without `alg` (Azure AD): any allowed algorithm their type supports.
            None => by_type,
            Some(declared) => Algorithm::try_from(declared)
                .ok()
                .filter(|a| by_type.contains(a))
                .into_iter()
                .collect(),
        };
        let algorithms: Vec<Algorithm> = algorithms
            .into_iter()
            .filter(|a| self.allowed.contains(a))
            .collect();
        if algorithms.is_empty() {
            return None;
        }
        let key = DecodingKey::from_jwk(&jwk).ok()?;
        Some(VerifyKey {
            kid: jwk.common.key_id,
            key,
            algorithms,
        })
    }
}

/// Algorithms a key of this type and curve can verify; symmetric and unknown keys get none.
fn algorithms_for_key_type(params: &AlgorithmParameters) -> Vec<Algorithm> {
    match params {
        AlgorithmParameters::RSA(_) => AlgorithmFamily::Rsa.algorithms().to_vec(),
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => vec![Algorithm::ES256],
            EllipticCurve::P384 => vec![Algorithm::ES384],
            _ => Vec::new(),
        },
        AlgorithmParameters::OctetKeyPair(okp) => match okp.curve {
            EllipticCurve::Ed25519 => vec![Algorithm::EdDSA],
            _ => Vec::new(),
        },
        // Symmetric (`oct`) keys would turn a public JWKS into an HMAC secret: never.
        _ => Vec::new(),
    }
}

/// `max-age=N` from a Cache-Control value (`no-store`/`no-cache` → none).
fn max_age(value: &str) -> Option<Duration> {
    let directives: Vec<&str> = value.split(',').map(str::trim).collect();
    if directives
        .iter()
        .any(|d| d.eq_ignore_ascii_case("no-store") || d.eq_ignore_ascii_case("no-cache"))
    {
        return None;
    }
    directives.iter().find_map(|d| {
        let (name, secs) = d.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("max-age")
            .then(|| secs.trim().trim_matches('"').parse().ok())
            .flatten()
            .map(Duration::from_secs)
    })
}

/// Loads, then refreshes, until the store is dropped; failures back off and keep old keys.
async fn refresh_loop(store: Weak<KeyStore>) {
    let mut backoff = INITIAL_BACKOFF;
    loop {
        let Some(strong) = store.upgrade() else {
            return;
        };
        let wait = match strong.refresh().await {
            Ok(next) => {
                backoff = INITIAL_BACKOFF;
                next
            }
            Err(err) => {
                let loaded = strong.current().is_some();
                tracing::warn!(error = %err, retry_in = ?backoff, loaded, "JWKS load failed.");
                let wait = backoff;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                wait
            }
        };
        drop(strong);
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_max_age() {
        assert_eq!(
            max_age("public, max-age=21600, must-revalidate"),
            Some(Duration::from_secs(21600))
        );
        assert_eq!(max_age("Max-Age = 60"), Some(Duration::from_secs(60)));
        assert_eq!(max_age("no-store, max-age=60"), None);
        assert_eq!(max_age("public"), None);
        assert_eq!(max_age("max-age=soon"), None);
    }

    fn store(allowed: &[Algorithm]) -> KeyStore {
        KeyStore::new(&AuthConfig {
            issuer: "https://id.example.com".into(),
            algorithms: allowed.to_vec(),
            ..AuthConfig::default()
        })
        .unwrap()
    }

    #[test]
    fn keys_take_their_algorithms_from_alg_or_type() {
        let rsa = serde_json::json!({"kty":"RSA","kid":"r","n":"sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw","e":"AQAB"});
        let s = store(&crate::config::ASYMMETRIC_ALGORITHMS);
        let key = s.verify_key(rsa.clone()).unwrap();
        assert_eq!(key.algorithms.len(), 6, "no alg: every RSA algorithm");
        let mut with_alg = rsa.clone();
        with_alg["alg"] = "PS256".into();
        assert_eq!(
            s.verify_key(with_alg).unwrap().algorithms,
            [Algorithm::PS256]
        );
        let mut wrong = rsa.clone();
        wrong["alg"] = "ES256".into();
        assert!(s.verify_key(wrong).is_none(), "alg must fit the key type");
        let mut enc = rsa.clone();
        enc["use"] = "enc".into();
        assert!(s.verify_key(enc).is_none());
        assert!(store(&[Algorithm::ES256]).verify_key(rsa).is_none());
        let oct = serde_json::json!({"kty":"oct","kid":"h","k":"c2VjcmV0","alg":"HS256"});
        assert!(s.verify_key(oct).is_none(), "symmetric keys never load");
        assert!(s.verify_key(serde_json::json!({"kty":"weird"})).is_none());
    }
}
