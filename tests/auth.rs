//! Authentication end to end: bearer JWTs (RSA and EC keys from a loopback OIDC provider) and
//! static API keys in front of a mock upstream; every rejection is a 401 with
//! `WWW-Authenticate: Bearer` that never reaches the upstream; key rotation, refresh rate
//! limiting, an issuer that is down at start, and open probes. Ownership: `auth_ownership.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod auth_idp;
mod common;

use std::time::{Duration, Instant};

use auth_idp::{
    Idp, TestKey, claims,
    http::{API_KEY, assert_unauthorized, call, create, gateway, hello, wait_for_keys},
    now,
};
use common::{mock_upstream::MockUpstream, spec::assert_valid_error_body};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

#[actix_web::test]
async fn valid_rsa_ec_and_alg_less_tokens_pass_and_the_caller_header_stays_here() {
    let rsa = TestKey::rsa("rsa-1", Algorithm::RS256);
    let ec = TestKey::ec("ec-1");
    let azure = TestKey::rsa("azure-1", Algorithm::PS256).without_alg();
    let idp = Idp::start(&[&rsa, &ec, &azure]);
    let mock = MockUpstream::start();
    let gw = gateway(&mock, Some(&idp.issuer), false);
    wait_for_keys(&gw, &rsa.sign(&claims(&idp.issuer))).await;

    let mut in_leeway = claims(&idp.issuer);
    in_leeway["exp"] = json!(now() - 10);
    for (case, token) in [
        ("RS256", rsa.sign(&claims(&idp.issuer))),
        ("ES256", ec.sign(&claims(&idp.issuer))),
        ("PS256, key without alg", azure.sign(&claims(&idp.issuer))),
        (
            "expired 10 s ago, inside the 30 s leeway",
            rsa.sign(&in_leeway),
        ),
    ] {
        mock.clear_requests();
        let reply = create(&gw, &token, &hello()).await;
        assert_eq!(reply.status, 200, "{case}: {}", reply.text);
        let upstream = mock.last_request().unwrap();
        // The upstream sees the gateway's own key, never the caller's token.
        assert_eq!(
            upstream.header("authorization"),
            Some("Bearer test-openai-key"),
            "{case}"
        );
        assert!(
            upstream.headers.values().all(|v| !v.contains(&token)),
            "{case}: token forwarded"
        );
    }
    assert_eq!(idp.discovery_hits(), 1);
    assert_eq!(
        idp.jwks_hits(),
        1,
        "keys are cached, not fetched per request"
    );
}

#[actix_web::test]
async fn every_bad_credential_is_401_and_never_reaches_the_upstream() {
    let rsa = TestKey::rsa("rsa-1", Algorithm::RS256);
    let ec = TestKey::ec("ec-1");
    let stranger = TestKey::rsa("rsa-1", Algorithm::RS256);
    let idp = Idp::start(&[&rsa, &ec]);
    let mock = MockUpstream::start();
    let gw = gateway(&mock, Some(&idp.issuer), false);
    wait_for_keys(&gw, &rsa.sign(&claims(&idp.issuer))).await;
    mock.clear_requests();

    let iss = idp.issuer.as_str();
    let with = |key: &str, value: Value| {
        let mut c = claims(iss);
        c[key] = value;
        c
    };
    let payload = rsa.sign(&claims(iss)).split('.').nth(1).unwrap().to_owned();
    let hmac = |kid: &str, secret: &[u8]| {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(kid.to_owned());
        encode(&header, &claims(iss), &EncodingKey::from_secret(secret)).unwrap()
    };
    let mut no_sub = claims(iss);
    no_sub.as_object_mut().unwrap().remove("sub");
    let bearer = |token: String| Some(format!("Bearer {token}"));
    // (case, Authorization, error.code, a word the message must contain)
    let cases: Vec<(&str, Option<String>, &str, &str)> = vec![
        (
            "no Authorization header",
            None,
            "missing_credentials",
            "requires",
        ),
        (
            "Basic scheme",
            Some("Basic YWxpY2U6cHc=".into()),
            "missing_credentials",
            "requires",
        ),
        (
            "empty bearer",
            Some("Bearer ".into()),
            "missing_credentials",
            "requires",
        ),
        (
            "not a JWT",
            bearer("not-a-token".into()),
            "invalid_token",
            "neither",
        ),
        (
            "crit names an extension the gateway does not understand",
            bearer(rsa.sign_with(&claims(iss), |h| h.crit = Some(vec!["exp".into()]))),
            "invalid_token",
            "extensions",
        ),
        (
            "bearer scheme in lower case with a bad token",
            Some("bearer not-a-token".into()),
            "invalid_token",
            "neither",
        ),
        (
            "malformed JWT",
            bearer("aaa.bbb.ccc".into()),
            "invalid_token",
            "not a valid JWT",
        ),
        (
            "alg none",
            bearer(format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.")),
            "invalid_token",
            "not a valid JWT",
        ),
        (
            "HS256 with the RSA public key PEM",
            bearer(hmac("rsa-1", &rsa.public_bytes)),
            "invalid_token",
            "algorithm",
        ),
        (
            "HS256 with the EC public point",
            bearer(hmac("ec-1", &ec.public_bytes)),
            "invalid_token",
            "algorithm",
        ),
        (
            "HS256 with the JWKS's oct key",
            bearer(hmac("hmac-bait", b"secret")),
            "invalid_token",
            "algorithm",
        ),
        (
            "another key's signature",
            bearer(stranger.sign(&claims(iss))),
            "invalid_token",
            "signature",
        ),
        (
            "RS256 token under the EC key's kid",
            bearer(rsa.sign_as(&claims(iss), "ec-1")),
            "invalid_token",
            "algorithm",
        ),
        (
            "expired beyond the leeway",
            bearer(rsa.sign(&with("exp", json!(now() - 120)))),
            "token_expired",
            "expired",
        ),
        (
            "not yet valid",
            bearer(rsa.sign(&with("nbf", json!(now() + 120)))),
            "invalid_token",
            "not valid yet",
        ),
        (
            "wrong audience",
            bearer(rsa.sign(&with("aud", json!("someone-else")))),
            "invalid_token",
            "audience",
        ),
        (
            "wrong issuer",
            bearer(rsa.sign(&with("iss", json!("https://evil.example.com")))),
            "invalid_token",
            "issuer",
        ),
        (
            "no sub",
            bearer(rsa.sign(&no_sub)),
            "invalid_token",
            "claim",
        ),
    ];
    for (case, authorization, code, word) in &cases {
        let started = Instant::now();
        let reply = call(
            &gw,
            "POST",
            "/v1/responses",
            authorization.as_deref(),
            Some(&hello()),
        )
        .await;
        assert_unauthorized(&reply, case);
        let error = &reply.json()["error"];
        assert_eq!(error["code"], *code, "{case}");
        assert!(
            error["message"].as_str().unwrap().contains(word),
            "{case}: {error}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{case}: no network call per request"
        );
    }
    assert_eq!(idp.jwks_hits(), 1, "no rejection above needed a refresh");
    let missing = call(&gw, "GET", "/v1/models", None, None).await;
    assert_eq!(
        missing.header("www-authenticate"),
        Some("Bearer realm=\"llm-gateway\"")
    );
    assert!(
        mock.requests().is_empty(),
        "a rejected request reached the upstream"
    );
}

#[actix_web::test]
async fn a_rotated_key_passes_after_one_refresh() {
    let old = TestKey::rsa("2026-01", Algorithm::RS256);
    let new = TestKey::ec("2026-02");
    let idp = Idp::start(&[&old]);
    let mock = MockUpstream::start();
    let gw = gateway(&mock, Some(&idp.issuer), false);
    wait_for_keys(&gw, &old.sign(&claims(&idp.issuer))).await;
    assert_eq!(idp.jwks_hits(), 1);

    idp.publish(&new);
    let reply = create(&gw, &new.sign(&claims(&idp.issuer)), &hello()).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        idp.jwks_hits(),
        2,
        "the unknown kid triggered exactly one refresh"
    );
    let reply = create(&gw, &old.sign(&claims(&idp.issuer)), &hello()).await;
    assert_eq!(reply.status, 200, "the old key still works");
    assert_eq!(idp.jwks_hits(), 2);
}

#[actix_web::test]
async fn a_flood_of_unknown_kids_refreshes_at_most_once_per_window() {
    let key = TestKey::rsa("real", Algorithm::RS256);
    let idp = Idp::start(&[&key]);
    let mock = MockUpstream::start();
    let gw = gateway(&mock, Some(&idp.issuer), false);
    wait_for_keys(&gw, &key.sign(&claims(&idp.issuer))).await;
    assert_eq!(idp.jwks_hits(), 1);

    let flood = (0..40).map(|i| {
        let token = key.sign_as(&claims(&idp.issuer), &format!("forged-{i}"));
        let gw = &gw;
        async move {
            call(
                gw,
                "GET",
                "/v1/models",
                Some(&format!("Bearer {token}")),
                None,
            )
            .await
        }
    });
    for reply in futures::future::join_all(flood).await {
        assert_unauthorized(&reply, "forged kid");
    }
    assert_eq!(
        idp.jwks_hits(),
        2,
        "40 forged kids caused one refresh, not a storm"
    );
    let reply = call(
        &gw,
        "GET",
        "/v1/models",
        Some(&format!("Bearer {}", key.sign(&claims(&idp.issuer)))),
        None,
    )
    .await;
    assert_eq!(reply.status, 200);
}

#[actix_web::test]
async fn issuer_down_at_start_is_503_until_the_keys_load() {
    let reserved = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = reserved.local_addr().unwrap();
    drop(reserved);
    let issuer = format!("http://{addr}");
    let key = TestKey::rsa("k1", Algorithm::RS256);
    let token = key.sign(&claims(&issuer));
    let mock = MockUpstream::start();
    let gw = gateway(&mock, Some(&issuer), true);

    let reply = create(&gw, &token, &hello()).await;
    assert_eq!(reply.status, 503, "{}", reply.text);
    assert_valid_error_body(&reply.json());
    assert_eq!(reply.json()["error"]["code"], "authentication_unavailable");
    assert!(reply.header("retry-after").is_some());
    assert!(reply.header("www-authenticate").is_none());
    assert_unauthorized(
        &call(&gw, "POST", "/v1/responses", None, Some(&hello())).await,
        "missing while down",
    );
    // Static keys do not depend on the issuer.
    assert_eq!(create(&gw, API_KEY, &hello()).await.status, 200);
    assert!(mock.requests().len() == 1);

    assert_eq!(
        call(&gw, "GET", "/readyz", None, None).await.status,
        503,
        "not ready while the issuer's keys are missing"
    );

    let idp = Idp::start_on(addr, &[&key]);
    wait_for_keys(&gw, &token).await;
    assert_eq!(create(&gw, &token, &hello()).await.status, 200);
    assert_eq!(call(&gw, "GET", "/readyz", None, None).await.status, 200);
    assert!(idp.jwks_hits() >= 1);
}

#[actix_web::test]
async fn static_api_keys_alone_and_together_with_jwts() {
    let mock = MockUpstream::start();
    let keys_only = gateway(&mock, None, true);
    assert_eq!(create(&keys_only, API_KEY, &hello()).await.status, 200);
    // The scheme is case-insensitive (RFC 9110 §11.1).
    for scheme in ["bearer", "BEARER", "bEaReR"] {
        let reply = call(
            &keys_only,
            "POST",
            "/v1/responses",
            Some(&format!("{scheme} {API_KEY}")),
            Some(&hello()),
        )
        .await;
        assert_eq!(reply.status, 200, "{scheme}: {}", reply.text);
    }
    let wrong = create(&keys_only, "sk-gw-ci-0123456789abcdeX", &hello()).await;
    assert_unauthorized(&wrong, "wrong key");
    assert_eq!(wrong.json()["error"]["code"], "invalid_api_key");
    assert_unauthorized(
        &create(&keys_only, "a.b.c", &hello()).await,
        "JWT with JWT disabled",
    );

    let key = TestKey::rsa("k1", Algorithm::RS256);
    let idp = Idp::start(&[&key]);
    let both = gateway(&mock, Some(&idp.issuer), true);
    let token = key.sign(&claims(&idp.issuer));
    wait_for_keys(&both, &token).await;
    assert_eq!(create(&both, API_KEY, &hello()).await.status, 200);
    assert_eq!(create(&both, &token, &hello()).await.status, 200);
    assert_unauthorized(
        &create(&both, "sk-gw-not-a-key-000000", &hello()).await,
        "wrong key",
    );
    // Three scheme spellings above, then the two callers here.
    assert_eq!(mock.requests().len(), 6);
}

#[actix_web::test]
async fn probes_stay_open_and_everything_else_needs_credentials() {
    let mock = MockUpstream::start();
    let gw = gateway(&mock, None, true);
    for path in ["/healthz", "/readyz"] {
        assert_eq!(
            call(&gw, "GET", path, None, None).await.status,
            200,
            "{path}"
        );
    }
    for (method, path) in [
        ("GET", "/v1/models"),
        ("POST", "/v1/responses"),
        ("GET", "/v1/responses/resp_123"),
        ("DELETE", "/v1/responses/resp_123"),
        ("GET", "/v1/responses/resp_123/input_items"),
        ("GET", "/v1/unknown-route"),
    ] {
        assert_unauthorized(&call(&gw, method, path, None, None).await, path);
    }
    let auth = Some(format!("Bearer {API_KEY}"));
    assert_eq!(
        call(&gw, "GET", "/v1/models", auth.as_deref(), None)
            .await
            .status,
        200
    );
}
