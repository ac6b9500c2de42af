//! JWT validation against one JWKS key: the header `alg` must be in the allow-list *and* one the
//! key may verify (so HMAC-with-a-public-key and `none` never get near a verifier), then the
//! signature, `iss` (exact), `aud`, `exp` and `nbf` (with leeway), and a `sub`.

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header, errors::ErrorKind};
use serde::Deserialize;

use crate::config::AuthConfig;

/// A JWKS key and the algorithms it may verify (from its `alg`, or from its type when it has
/// none, as Azure AD publishes them), already narrowed to the allow-list.
pub struct VerifyKey {
    /// `kid`, when the JWKS gives one.
    pub kid: Option<String>,
    /// The public key.
    pub key: DecodingKey,
    /// Algorithms this key may verify.
    pub algorithms: Vec<Algorithm>,
}

/// Why a token was refused. Each maps to a fixed client message; details go to logs only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Not a JWT (shape, base64, JSON, or an unknown `alg` such as `none`).
    Malformed,
    /// `alg` not accepted, or not one the key may verify.
    Algorithm,
    /// No key in the JWKS has this `kid` (after the rate-limited refresh).
    UnknownKey,
    /// The signature does not verify with the key.
    Signature,
    /// `exp` is in the past (beyond the leeway).
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    NotYetValid,
    /// `aud` does not contain a configured audience.
    Audience,
    /// `iss` is not the configured issuer.
    Issuer,
    /// `exp`, `iss`, `aud` or `sub` is missing or has the wrong type.
    Claims,
    /// The header's `crit` names extensions that must be understood (RFC 7515 §4.1.11);
    /// the gateway understands none.
    Critical,
}

impl Rejection {
    /// The sentence shown to the caller.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Malformed => "The bearer token is not a valid JWT.",
            Self::Algorithm => "The token's signing algorithm is not accepted.",
            Self::UnknownKey => "The token is signed with an unknown key.",
            Self::Signature => "The token's signature is invalid.",
            Self::Expired => "The token has expired.",
            Self::NotYetValid => "The token is not valid yet.",
            Self::Audience => "The token was not issued for this audience.",
            Self::Issuer => "The token was not issued by the configured issuer.",
            Self::Claims => "The token lacks a required claim (exp, iss, aud or sub).",
            Self::Critical => {
                "The token requires header extensions (`crit`) that are not supported."
            }
        }
    }

    /// The machine-readable `code`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Expired => "token_expired",
            Self::Malformed
            | Self::Algorithm
            | Self::UnknownKey
            | Self::Signature
            | Self::NotYetValid
            | Self::Audience
            | Self::Issuer
            | Self::Claims
            | Self::Critical => "invalid_token",
        }
    }

    fn from_kind(kind: &ErrorKind) -> Self {
        match kind {
            ErrorKind::InvalidSignature => Self::Signature,
            ErrorKind::ExpiredSignature => Self::Expired,
            ErrorKind::ImmatureSignature => Self::NotYetValid,
            ErrorKind::InvalidAudience => Self::Audience,
            ErrorKind::InvalidIssuer => Self::Issuer,
            ErrorKind::MissingRequiredClaim(_) | ErrorKind::InvalidClaimFormat(_) => Self::Claims,
            ErrorKind::InvalidAlgorithm
            | ErrorKind::InvalidAlgorithmName
            | ErrorKind::UnsupportedAlgorithm
            | ErrorKind::MissingAlgorithm => Self::Algorithm,
            // Key-format errors mean this key cannot check the token at all.
            ErrorKind::InvalidEcdsaKey
            | ErrorKind::InvalidEddsaKey
            | ErrorKind::InvalidRsaKey(_)
            | ErrorKind::InvalidKeyFormat => Self::Signature,
            // Shape, base64, JSON, UTF-8, and kinds added in later versions.
            _ => Self::Malformed,
        }
    }
}

/// The claims the gateway reads; the rest of the token is ignored. Defaults let a missing
/// claim reach `jsonwebtoken`'s required-claim check (a clearer reason than a JSON error).
#[derive(Deserialize, Default)]
#[serde(default)]
struct Claims {
    sub: String,
    iss: String,
    /// Every other claim (the quota claim is read from them).
    #[serde(flatten)]
    other: serde_json::Map<String, serde_json::Value>,
}

/// A verified token's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// `sub`.
    pub subject: String,
    /// `iss`.
    pub issuer: String,
    /// The value of `quotas.claim` (`sub` itself by default), when the token has it as a
    /// string or a number.
    pub quota_claim: Option<String>,
}

/// What a token must satisfy.
pub struct JwtPolicy {
    issuer: String,
    audience: Vec<String>,
    algorithms: Vec<Algorithm>,
    leeway_secs: u64,
    quota_claim: String,
}

impl JwtPolicy {
    /// The policy for `config` (issuer, audiences, allow-list, leeway); `quota_claim` names
    /// the claim caller quotas are keyed by.
    pub fn new(config: &AuthConfig, quota_claim: &str) -> Self {
        Self {
            quota_claim: quota_claim.to_owned(),
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            algorithms: config.algorithms.clone(),
            leeway_secs: config.leeway.as_secs(),
        }
    }

    /// Reads the unverified header: the `alg` (only if allowed) and the `kid`.
    pub fn header(&self, token: &str) -> Result<(Algorithm, Option<String>), Rejection> {
        let header = decode_header(token).map_err(|e| Rejection::from_kind(e.kind()))?;
        // RFC 7515 §4.1.11: a recipient that does not understand every extension `crit` lists
        // must reject the JWS. The gateway implements none (and an empty `crit` is invalid).
        if header.crit.is_some() {
            return Err(Rejection::Critical);
        }
        if !self.algorithms.contains(&header.alg) {
            return Err(Rejection::Algorithm);
        }
        Ok((header.alg, header.kid))
    }

    /// Verifies `token` (whose header said `alg`) with `key`.
    pub fn verify(
        &self,
        token: &str,
        alg: Algorithm,
        key: &VerifyKey,
    ) -> Result<Verified, Rejection> {
        // Both checks matter: the allow-list is global, the key's list is what its type allows.
        if !self.algorithms.contains(&alg) || !key.algorithms.contains(&alg) {
            return Err(Rejection::Algorithm);
        }
        let mut validation = Validation::new(alg);
        validation.algorithms = vec![alg];
        validation.leeway = self.leeway_secs;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_issuer(&[self.issuer.as_str()]);
        validation.set_audience(&self.audience);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data = decode::<Claims>(token, &key.key, &validation)
            .map_err(|e| Rejection::from_kind(e.kind()))?;
        if data.claims.sub.is_empty() {
            return Err(Rejection::Claims);
        }
        let claims = data.claims;
        let quota_claim = if self.quota_claim == "sub" {
            Some(claims.sub.clone())
        } else {
            match claims.other.get(&self.quota_claim) {
                Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s.clone()),
                Some(serde_json::Value::Number(n)) => Some(n.to_string()),
                _ => None,
            }
        };
        Ok(Verified {
            subject: claims.sub,
            issuer: claims.iss,
            quota_claim,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::json;

    use super::*;

    const SECRET: &[u8] = b"an hmac secret that must never verify anything";

    fn policy() -> JwtPolicy {
        JwtPolicy::new(
            &AuthConfig {
                enabled: true,
                issuer: "https://id.example.com".into(),
                audience: vec!["gw".into()],
                algorithms: crate::config::ASYMMETRIC_ALGORITHMS.to_vec(),
                leeway: Duration::from_secs(30),
                ..AuthConfig::default()
            },
            "sub",
        )
    }

    fn hs256(claims: &serde_json::Value) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap()
    }

    #[test]
    fn hmac_and_none_are_refused_before_any_key_is_used() {
        let claims =
            json!({"sub":"a","iss":"https://id.example.com","aud":"gw","exp":4_000_000_000_u64});
        assert_eq!(policy().header(&hs256(&claims)), Err(Rejection::Algorithm));
        // A key that claims to be HMAC-capable still cannot verify: the policy check comes first.
        let key = VerifyKey {
            kid: None,
            key: DecodingKey::from_secret(SECRET),
            algorithms: vec![Algorithm::HS256],
        };
        assert_eq!(
            policy().verify(&hs256(&claims), Algorithm::HS256, &key),
            Err(Rejection::Algorithm)
        );
        // `{"alg":"none","typ":"JWT"}` with the same claims and an empty signature.
        let payload = hs256(&claims).split('.').nth(1).unwrap().to_owned();
        let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
        assert_eq!(policy().header(&none), Err(Rejection::Malformed));
        assert_eq!(policy().header("not-a-jwt"), Err(Rejection::Malformed));
    }

    #[test]
    fn every_rejection_has_a_fixed_message() {
        for r in [
            Rejection::Malformed,
            Rejection::Algorithm,
            Rejection::UnknownKey,
            Rejection::Signature,
            Rejection::Expired,
            Rejection::NotYetValid,
            Rejection::Audience,
            Rejection::Issuer,
            Rejection::Claims,
        ] {
            assert!(r.reason().ends_with('.'));
            assert!(!r.code().is_empty());
        }
    }
}
