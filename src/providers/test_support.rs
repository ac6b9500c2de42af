//! Shared helpers for the provider unit tests: fixture files, raw `.http` error responses, sealed
//! envelopes and a started emitter.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

/// A fixture file from `tests/fixtures/<provider>/<name>`.
pub fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// Splits a raw HTTP response (a `.http` fixture) into status, headers and body.
pub fn parse_http(raw: &[u8]) -> (u16, HeaderMap, Vec<u8>) {
    let text = String::from_utf8(raw.to_vec()).unwrap();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .or_else(|| text.split_once("\n\n"))
        .unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let mut headers = HeaderMap::new();
    for line in lines {
        let (name, value) = line.split_once(':').unwrap();
        headers.append(
            HeaderName::from_bytes(name.trim().as_bytes()).unwrap(),
            HeaderValue::from_str(value.trim()).unwrap(),
        );
    }
    (status, headers, body.as_bytes().to_vec())
}

/// The sealer the provider unit tests seal and open reasoning envelopes with.
pub fn sealer() -> &'static crate::seal::Sealer {
    static SEALER: std::sync::LazyLock<crate::seal::Sealer> = std::sync::LazyLock::new(|| {
        crate::seal::Sealer::from_secret("provider unit tests' secret")
    });
    &SEALER
}

/// `payload` sealed for `kind` and `model` with [`sealer`], as a reasoning item carries it.
pub fn sealed(kind: crate::api::ProviderKind, model: &str, payload: &str) -> String {
    sealer().seal(kind, model, payload.as_bytes()).unwrap()
}

/// Replaces every gateway envelope in an `encrypted_content` under `value` by `sealed:<payload>`
/// (opened for `kind` and `model`), so golden expectations can name what was sealed. Panics on an
/// envelope that does not open for them.
pub fn reveal(value: &mut serde_json::Value, kind: crate::api::ProviderKind, model: &str) {
    use crate::seal::{Unsealed, is_envelope};
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                match child {
                    Value::String(s) if key == "encrypted_content" && is_envelope(s) => {
                        let Ok(Unsealed::Payload(bytes)) = sealer().open(kind, model, s) else {
                            panic!("{s} does not open for {kind:?} {model}");
                        };
                        *s = format!("sealed:{}", String::from_utf8(bytes).unwrap());
                    }
                    other => reveal(other, kind, model),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| reveal(v, kind, model)),
        _ => {}
    }
}

/// An emitter for `request` as the gateway starts one (response `resp_test`, created at 1),
/// naming `model`; `record` keeps the events (streams) or not (JSON answers).
pub fn emitter(
    request: &crate::api::CreateResponse,
    model: &str,
    record: bool,
) -> crate::stream::ResponseEmitter {
    let ctx = crate::stream::ResponseContext {
        response_id: "resp_test".into(),
        created_at: 1,
        now: || 2,
    };
    let skeleton = crate::api::ResponseResource::in_progress(request, &ctx.response_id, model, 1);
    crate::stream::ResponseEmitter::new(skeleton, &ctx, record)
}
