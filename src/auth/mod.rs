//! Caller authentication: static API keys and OIDC bearer JWTs checked against the issuer's
//! JWKS, producing the `Caller` whose `owner` scopes stored responses. Tokens are never logged;
//! rejections log their reason only.

mod api_keys;
mod jwks;
mod validate;

use std::sync::Arc;

use actix_web::{HttpMessage, HttpRequest};
use jsonwebtoken::Algorithm;

pub use self::jwks::KID_REFRESH_WINDOW;
use self::{
    api_keys::ApiKeys,
    jwks::{KeySet, KeyStore},
    validate::{JwtPolicy, Rejection, Verified},
};
use crate::{config::AuthConfig, error::GatewayError};

/// Who is calling: the owner of every response they create.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Caller {
    /// `sub@iss` for a JWT, `key:<name>` for an API key, `anonymous` when auth is disabled.
    pub owner: String,
    /// A JWT caller's value of `quotas.claim` (its quota subject), if the token has it.
    pub quota_claim: Option<String>,
}

impl Caller {
    /// The owner used for everything when authentication is disabled.
    pub const ANONYMOUS: &'static str = "anonymous";

    /// The single caller of a gateway without authentication.
    pub fn anonymous() -> Self {
        Self {
            owner: Self::ANONYMOUS.to_owned(),
            quota_claim: None,
        }
    }

    /// The caller the middleware attached to `req`. Missing means the middleware did not run:
    /// that is a bug, answered 500 rather than served as anyone (fail closed).
    pub fn of(req: &HttpRequest) -> Result<Self, GatewayError> {
        req.extensions()
            .get::<Self>()
            .cloned()
            .ok_or_else(|| GatewayError::Internal("no authenticated caller on the request".into()))
    }
}

/// JWT checking: what tokens must satisfy, and the issuer's keys.
struct Jwt {
    policy: JwtPolicy,
    store: Arc<KeyStore>,
}

/// Checks credentials; cheap to clone into each worker.
#[derive(Clone)]
pub struct Authenticator {
    /// `None` when authentication is disabled.
    inner: Option<Arc<Inner>>,
}

struct Inner {
    api_keys: ApiKeys,
    jwt: Option<Jwt>,
}

fn unauthorized(code: &'static str, reason: &'static str) -> GatewayError {
    GatewayError::Unauthorized { code, reason }
}

impl Authenticator {
    /// Builds the authenticator for `config` and, with an issuer, starts loading its keys in the
    /// background (must run inside an actix System). An unreachable issuer does not fail this.
    pub fn start(config: &AuthConfig, quota_claim: &str) -> Result<Self, GatewayError> {
        if !config.enabled {
            return Ok(Self { inner: None });
        }
        let jwt = if config.issuer.is_empty() {
            None
        } else {
            let store = Arc::new(KeyStore::new(config).map_err(GatewayError::Internal)?);
            store.spawn_refresher();
            Some(Jwt {
                policy: JwtPolicy::new(config, quota_claim),
                store,
            })
        };
        Ok(Self {
            inner: Some(Arc::new(Inner {
                api_keys: ApiKeys::new(&config.api_keys),
                jwt,
            })),
        })
    }

    /// Whether requests must authenticate.
    pub fn is_enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// Whether JWTs can be checked now: false while the issuer's keys have not loaded yet
    /// (`/readyz` reports it, so a load balancer waits instead of collecting 503s).
    pub fn is_ready(&self) -> bool {
        self.inner
            .as_ref()
            .and_then(|inner| inner.jwt.as_ref())
            .is_none_or(|jwt| jwt.store.current().is_some())
    }

    /// The caller for a request carrying `bearer` (the `Authorization: Bearer` value, if any).
    pub async fn authenticate(&self, bearer: Option<&str>) -> Result<Caller, GatewayError> {
        let Some(inner) = &self.inner else {
            return Ok(Caller::anonymous());
        };
        let Some(token) = bearer.map(str::trim).filter(|t| !t.is_empty()) else {
            return Err(unauthorized(
                "missing_credentials",
                "This gateway requires `Authorization: Bearer <token or API key>`.",
            ));
        };
        if let Some(name) = inner.api_keys.find(token) {
            return Ok(Caller {
                owner: format!("key:{name}"),
                quota_claim: None,
            });
        }
        match &inner.jwt {
            Some(jwt) if looks_like_jwt(token) => jwt.authenticate(token).await,
            Some(_) => Err(unauthorized(
                "invalid_token",
                "The bearer token is neither a valid API key nor a JWT.",
            )),
            None => Err(unauthorized("invalid_api_key", "The API key is not valid.")),
        }
    }
}

/// Three dot-separated parts: worth decoding as a JWT.
fn looks_like_jwt(token: &str) -> bool {
    token.bytes().filter(|b| *b == b'.').count() == 2
}

impl Jwt {
    async fn authenticate(&self, token: &str) -> Result<Caller, GatewayError> {
        let reject = |r: Rejection| {
            tracing::debug!(reason = ?r, "Bearer token rejected.");
            unauthorized(r.code(), r.reason())
        };
        let (alg, kid) = self.policy.header(token).map_err(reject)?;
        let keys = self.store.current().ok_or(GatewayError::AuthUnavailable)?;
        let verified = match kid {
            Some(kid) => {
                let keys = match keys.by_kid(&kid) {
                    Some(_) => keys,
                    None => self.store.refresh_for_kid(&kid).await.unwrap_or(keys),
                };
                let key = keys
                    .by_kid(&kid)
                    .ok_or(Rejection::UnknownKey)
                    .map_err(reject)?;
                self.policy.verify(token, alg, key).map_err(reject)?
            }
            None => self.verify_without_kid(&keys, token, alg).map_err(reject)?,
        };
        Ok(Caller {
            owner: format!("{}@{}", verified.subject, verified.issuer),
            quota_claim: verified.quota_claim,
        })
    }

    /// Tries every key that may verify `alg`; the first whose signature matches decides.
    fn verify_without_kid(
        &self,
        keys: &KeySet,
        token: &str,
        alg: Algorithm,
    ) -> Result<Verified, Rejection> {
        let mut outcome = Err(Rejection::UnknownKey);
        for key in keys.for_alg(alg) {
            match self.policy.verify(token, alg, key) {
                Err(Rejection::Signature) => outcome = Err(Rejection::Signature),
                decided => return decided,
            }
        }
        outcome
    }
}
