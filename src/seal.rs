//! Sealed reasoning envelopes: provider state that must survive `store: false` (Anthropic
//! thinking signatures, Gemini thought signatures) travels in a reasoning item's
//! `encrypted_content`, sealed with AES-256-GCM under a key derived from `server.secret`.
//!
//! An envelope is `gw1.` + base64url (no padding) of
//! `key id (4) ‖ target (4) ‖ nonce (12) ‖ ciphertext ‖ tag (16)`. The key id is a fingerprint
//! of the sealing key and the target one of the provider kind and upstream model; both are in the
//! clear so an envelope from another key (another replica, a restart without a fixed secret) or
//! for another provider or model is recognised and left out rather than refused. The full kind and
//! model are bound again in the associated data, so a matching envelope that fails to open was
//! forged or damaged: that is a 400 naming the item. Anything without the `gw1.` prefix (OpenAI's
//! own `encrypted_content`) is not the gateway's.

use std::sync::{Arc, OnceLock};

use aws_lc_rs::{
    aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey},
    digest::{SHA256, digest},
    hkdf::{HKDF_SHA256, Salt},
    rand,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use crate::{api::ProviderKind, error::GatewayError};

/// Marks a gateway envelope (`.` is outside the base64url alphabet, so the prefix is unambiguous).
const PREFIX: &str = "gw1.";
/// HKDF salt and info: changing either retires every envelope sealed before.
const KDF_SALT: &[u8] = b"llm-gateway reasoning envelope";
const KDF_INFO: &[u8] = b"aes-256-gcm v1";
const ID_LEN: usize = 4;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 2 * ID_LEN + NONCE_LEN;

/// The process's random key, used when `server.secret` is unset: shared by every configuration
/// this process loads (a reload keeps it), lost on restart.
static PROCESS_KEY: OnceLock<Option<[u8; 32]>> = OnceLock::new();

/// Seals and opens envelopes with one key.
#[derive(Clone)]
pub struct Sealer {
    key: Arc<RandomizedNonceKey>,
    key_id: [u8; ID_LEN],
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("key_id", &hex(&self.key_id))
            .finish()
    }
}

/// What an `encrypted_content` value is to one provider and model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unsealed {
    /// Not a gateway envelope (e.g. OpenAI's own encrypted reasoning).
    Foreign,
    /// A gateway envelope sealed by another key, or for another provider or model.
    Elsewhere,
    /// The state sealed for this provider and model.
    Payload(Vec<u8>),
}

/// An envelope that names this key and target but does not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forged;

impl Sealer {
    /// The key derived from `secret` (HKDF-SHA256): every process with the same secret shares it.
    pub fn from_secret(secret: &str) -> Self {
        let prk = Salt::new(HKDF_SHA256, KDF_SALT).extract(secret.as_bytes());
        let mut bytes = [0u8; 32];
        // HKDF-SHA256 can always produce one 32-byte block; the digest is a fallback that cannot
        // be reached but keeps this infallible without a panic.
        let expanded = prk
            .expand(&[KDF_INFO], HKDF_SHA256)
            .and_then(|okm| okm.fill(&mut bytes));
        if expanded.is_err() {
            bytes.copy_from_slice(digest(&SHA256, secret.as_bytes()).as_ref());
        }
        Self::from_key(&bytes)
    }

    /// The per-process random key (when no secret is configured); `None` if the system random
    /// source fails.
    pub fn process_random() -> Option<Self> {
        let key = PROCESS_KEY.get_or_init(|| {
            let mut bytes = [0u8; 32];
            // From the OS directly: aws-lc's generator seeds itself on first use, which took
            // ~35 ms here and held up every start without a secret (BENCHMARKS.md).
            getrandom::fill(&mut bytes).ok().map(|()| bytes)
        });
        key.as_ref().map(Self::from_key)
    }

    /// Seeds aws-lc's random generator on a thread of its own, so that neither the start nor
    /// the first sealed envelope (nor the first TLS handshake) waits for it.
    pub fn warm_up() {
        let spawned = std::thread::Builder::new()
            .name("rng-warm-up".to_owned())
            .spawn(|| {
                let mut byte = [0u8; 1];
                let _ = rand::fill(&mut byte);
            });
        if let Err(err) = spawned {
            tracing::debug!(error = %err, "No thread to seed the random generator early.");
        }
    }

    fn from_key(bytes: &[u8; 32]) -> Self {
        let fingerprint = digest(&SHA256, &[b"key id:".as_slice(), bytes].concat());
        let mut key_id = [0u8; ID_LEN];
        key_id.copy_from_slice(&fingerprint.as_ref()[..ID_LEN]);
        // A 32-byte key is always valid for AES-256-GCM.
        #[expect(clippy::expect_used, reason = "32 bytes is AES-256-GCM's key length")]
        let key = RandomizedNonceKey::new(&AES_256_GCM, bytes).expect("AES-256 key length");
        Self {
            key: Arc::new(key),
            key_id,
        }
    }

    /// Seals `payload` for `kind` and `model`; `None` only if the random source fails.
    pub fn seal(&self, kind: ProviderKind, model: &str, payload: &[u8]) -> Option<String> {
        let mut in_out = payload.to_vec();
        let nonce = self
            .key
            .seal_in_place_append_tag(Aad::from(aad(kind, model)), &mut in_out)
            .ok()?;
        let mut bytes = Vec::with_capacity(HEADER_LEN + in_out.len());
        bytes.extend_from_slice(&self.key_id);
        bytes.extend_from_slice(&target(kind, model));
        bytes.extend_from_slice(nonce.as_ref());
        bytes.extend_from_slice(&in_out);
        Some(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// What `value` holds for `kind` and `model`.
    pub fn open(&self, kind: ProviderKind, model: &str, value: &str) -> Result<Unsealed, Forged> {
        let Some(body) = value.strip_prefix(PREFIX) else {
            return Ok(Unsealed::Foreign);
        };
        let mut bytes = URL_SAFE_NO_PAD.decode(body).map_err(|_| Forged)?;
        if bytes.len() < HEADER_LEN + TAG_LEN {
            return Err(Forged);
        }
        let (header, sealed) = bytes.split_at_mut(HEADER_LEN);
        if header[..ID_LEN] != self.key_id || header[ID_LEN..2 * ID_LEN] != target(kind, model) {
            return Ok(Unsealed::Elsewhere);
        }
        let nonce = Nonce::try_assume_unique_for_key(&header[2 * ID_LEN..]).map_err(|_| Forged)?;
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(aad(kind, model)), sealed)
            .map_err(|_| Forged)?;
        Ok(Unsealed::Payload(plain.to_vec()))
    }

    /// [`Self::open`] for the input item the caller names `item` (`input[3]`), a forged
    /// envelope becoming the caller's 400.
    pub fn open_item(
        &self,
        kind: ProviderKind,
        model: &str,
        value: &str,
        item: &str,
    ) -> Result<Unsealed, GatewayError> {
        self.open(kind, model, value)
            .map_err(|Forged| forged_error(item))
    }
}

/// Whether `value` is a gateway envelope (for any key, provider or model).
pub fn is_envelope(value: &str) -> bool {
    value.starts_with(PREFIX)
}

/// The 400 for an envelope that does not open.
pub fn forged_error(item: &str) -> GatewayError {
    GatewayError::invalid(
        "encrypted_content is not a valid reasoning envelope from this gateway (it was altered or damaged); resend the item exactly as it was returned",
        Some(&format!("{item}.encrypted_content")),
    )
}

fn aad(kind: ProviderKind, model: &str) -> Vec<u8> {
    [
        b"llm-gateway reasoning v1\0",
        kind.as_str().as_bytes(),
        b"\0",
        model.as_bytes(),
    ]
    .concat()
}

fn target(kind: ProviderKind, model: &str) -> [u8; ID_LEN] {
    let hash = digest(&SHA256, &aad(kind, model));
    let mut out = [0u8; ID_LEN];
    out.copy_from_slice(&hash.as_ref()[..ID_LEN]);
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLAUDE: ProviderKind = ProviderKind::Anthropic;

    #[test]
    fn round_trips_for_the_same_provider_and_model() {
        let sealer = Sealer::from_secret("correct horse battery staple");
        let sealed = sealer.seal(CLAUDE, "claude-sonnet-4-5", b"state").unwrap();
        assert!(sealed.starts_with("gw1.") && is_envelope(&sealed));
        assert_eq!(
            sealer.open(CLAUDE, "claude-sonnet-4-5", &sealed),
            Ok(Unsealed::Payload(b"state".to_vec()))
        );
        // Another process with the same secret opens it too.
        let again = Sealer::from_secret("correct horse battery staple");
        assert_eq!(
            again.open(CLAUDE, "claude-sonnet-4-5", &sealed),
            Ok(Unsealed::Payload(b"state".to_vec()))
        );
    }

    #[test]
    fn other_targets_and_keys_are_elsewhere_and_foreign_values_are_not_ours() {
        let sealer = Sealer::from_secret("one secret for this test");
        let sealed = sealer.seal(CLAUDE, "claude-sonnet-4-5", b"state").unwrap();
        assert_eq!(
            sealer.open(CLAUDE, "claude-opus-4-1", &sealed),
            Ok(Unsealed::Elsewhere)
        );
        assert_eq!(
            sealer.open(ProviderKind::Gemini, "claude-sonnet-4-5", &sealed),
            Ok(Unsealed::Elsewhere)
        );
        let other = Sealer::from_secret("another secret entirely");
        assert_eq!(
            other.open(CLAUDE, "claude-sonnet-4-5", &sealed),
            Ok(Unsealed::Elsewhere)
        );
        assert_eq!(
            sealer.open(CLAUDE, "claude-sonnet-4-5", "gAAAAABopenai"),
            Ok(Unsealed::Foreign)
        );
    }

    #[test]
    fn tampered_or_truncated_envelopes_are_forged() {
        let sealer = Sealer::from_secret("one secret for this test");
        let sealed = sealer.seal(CLAUDE, "m", b"state").unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(&sealed[PREFIX.len()..]).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let tampered = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(&bytes));
        assert_eq!(sealer.open(CLAUDE, "m", &tampered), Err(Forged));
        assert_eq!(sealer.open(CLAUDE, "m", &sealed[..20]), Err(Forged));
        assert_eq!(sealer.open(CLAUDE, "m", "gw1.!!not base64"), Err(Forged));
        let error = sealer
            .open_item(CLAUDE, "m", &tampered, "input[3]")
            .unwrap_err();
        assert_eq!(error.param().as_deref(), Some("input[3].encrypted_content"));
    }

    #[test]
    fn the_process_key_is_stable_within_the_process() {
        let one = Sealer::process_random().unwrap();
        let two = Sealer::process_random().unwrap();
        let sealed = one.seal(CLAUDE, "m", b"x").unwrap();
        assert_eq!(
            two.open(CLAUDE, "m", &sealed),
            Ok(Unsealed::Payload(b"x".to_vec()))
        );
    }
}
