//! Static API keys: kept only as SHA-256 digests and matched in constant time, so neither the
//! position of the first differing byte nor the key's length shows in the response time.

use aws_lc_rs::digest::{SHA256, digest};
use subtle::{ConditionallySelectable, ConstantTimeEq};

use crate::config::ApiKeyConfig;

/// One configured key: its caller name and the digest of the key.
struct Entry {
    name: String,
    digest: [u8; 32],
}

/// The configured static API keys.
pub struct ApiKeys {
    entries: Vec<Entry>,
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0_u8; 32];
    out.copy_from_slice(digest(&SHA256, bytes).as_ref());
    out
}

impl ApiKeys {
    /// Digests every configured key (the raw keys are not kept here).
    pub fn new(keys: &[ApiKeyConfig]) -> Self {
        Self {
            entries: keys
                .iter()
                .map(|k| Entry {
                    name: k.name.clone(),
                    digest: sha256(k.key.expose().as_bytes()),
                })
                .collect(),
        }
    }

    /// The name of the key equal to `presented`, if any. Every entry is compared, with no early
    /// exit, so the time taken does not depend on which key (if any) matched.
    pub fn find(&self, presented: &str) -> Option<&str> {
        let wanted = sha256(presented.as_bytes());
        let mut found = u64::MAX;
        for (index, entry) in (0_u64..).zip(&self.entries) {
            let equal = entry.digest[..].ct_eq(&wanted[..]);
            found = u64::conditional_select(&found, &index, equal);
        }
        usize::try_from(found)
            .ok()
            .and_then(|i| self.entries.get(i))
            .map(|e| e.name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn keys() -> ApiKeys {
        ApiKeys::new(&[
            ApiKeyConfig {
                name: "ci".into(),
                key: Secret::new("k-ci-0123456789abcdef"),
            },
            ApiKeyConfig {
                name: "batch".into(),
                key: Secret::new("k-batch-0123456789abcdef"),
            },
        ])
    }

    #[test]
    fn finds_the_matching_key_only() {
        let keys = keys();
        assert_eq!(keys.find("k-ci-0123456789abcdef"), Some("ci"));
        assert_eq!(keys.find("k-batch-0123456789abcdef"), Some("batch"));
        assert_eq!(keys.find("k-ci-0123456789abcdeF"), None);
        assert_eq!(keys.find("k-ci-0123456789abcde"), None);
        assert_eq!(keys.find(""), None);
        assert!(ApiKeys::new(&[]).find("anything").is_none());
    }
}
