//! `server.secret`: the key material for sealed reasoning envelopes, from the file or
//! `GATEWAY_SECRET`, else a random per-process key (envelopes then do not survive a restart and
//! are not understood by other replicas).

use super::{ConfigError, EnvLookup, invalid};
use crate::seal::Sealer;

/// The environment variable that fills `server.secret` when the file leaves it empty.
pub const SECRET_ENV: &str = "GATEWAY_SECRET";
/// Shortest accepted secret: a guessable one would let anyone forge reasoning state.
const MIN_SECRET_LEN: usize = 16;

/// The sealer for `raw` (the file's `server.secret`), and whether it is the random fallback.
pub fn reasoning_key(raw: Option<&str>, env: EnvLookup<'_>) -> Result<(Sealer, bool), ConfigError> {
    let configured = raw
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .or_else(|| {
            env(SECRET_ENV)
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        });
    match configured {
        Some(secret) if secret.len() < MIN_SECRET_LEN => Err(invalid(
            "server.secret",
            format!("must be at least {MIN_SECRET_LEN} characters (use a long random value)"),
        )),
        Some(secret) => Ok((Sealer::from_secret(&secret), false)),
        None => Sealer::process_random().map(|s| (s, true)).ok_or_else(|| {
            invalid(
                "server.secret",
                "unset, and no random key could be generated: set server.secret or GATEWAY_SECRET",
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ProviderKind;

    #[test]
    fn file_wins_over_environment_and_short_secrets_are_refused() {
        let env =
            |name: &str| (name == SECRET_ENV).then(|| "from the environment, long".to_owned());
        let (from_file, random) = reasoning_key(Some("written in the file, long"), &env).unwrap();
        assert!(!random);
        let sealed = from_file.seal(ProviderKind::Gemini, "m", b"x").unwrap();
        let same = Sealer::from_secret("written in the file, long");
        assert!(
            same.open(ProviderKind::Gemini, "m", &sealed)
                .is_ok_and(|u| u != crate::seal::Unsealed::Elsewhere)
        );
        let (from_env, random) = reasoning_key(None, &env).unwrap();
        assert!(!random);
        assert_eq!(
            from_env.open(ProviderKind::Gemini, "m", &sealed),
            Ok(crate::seal::Unsealed::Elsewhere)
        );
        let err = reasoning_key(Some("short"), &env).unwrap_err().to_string();
        assert!(err.contains("server.secret"), "{err}");
        let none = |_: &str| None;
        assert!(reasoning_key(Some("  "), &none).unwrap().1);
    }
}
