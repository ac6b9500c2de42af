//! Gateway-side helpers for the auth tests: config blocks, requests with an `Authorization`
//! header, waiting for the issuer's keys, and the shape every 401 must have.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::AUDIENCE;
use crate::common::{
    gateway::{Reply, TestGateway, providers_yaml, start_gateway},
    mock_upstream::MockUpstream,
    spec::assert_valid_error_body,
};

/// The static key of `auth_yaml(_, true)` (owner `key:ci`).
pub const API_KEY: &str = "sk-gw-ci-0123456789abcdef";

/// An `auth:` block: OIDC with `issuer` (audiences `other-app` and `AUDIENCE`) and/or the `ci` key.
pub fn auth_yaml(issuer: Option<&str>, api_keys: bool) -> String {
    let mut yaml = String::from("auth:\n  enabled: true\n");
    if let Some(issuer) = issuer {
        yaml.push_str(&format!(
            "  issuer: \"{issuer}\"\n  audience: [\"other-app\", \"{AUDIENCE}\"]\n"
        ));
    }
    if api_keys {
        yaml.push_str(&format!(
            "  api_keys:\n    - name: ci\n      key: \"{API_KEY}\"\n"
        ));
    }
    yaml
}

/// A gateway with the openai provider at `mock` and `auth_yaml(issuer, api_keys)`.
pub fn gateway(mock: &MockUpstream, issuer: Option<&str>, api_keys: bool) -> TestGateway {
    let yaml = format!(
        "{}{}",
        providers_yaml(mock, &["openai"], ""),
        auth_yaml(issuer, api_keys)
    );
    start_gateway(&yaml)
}

/// Sends `method path` with an optional `Authorization` value and JSON body.
pub async fn call(
    gw: &TestGateway,
    method: &str,
    path: &str,
    authorization: Option<&str>,
    body: Option<&Value>,
) -> Reply {
    let client = reqwest::Client::new();
    let mut request = client.request(method.parse().unwrap(), format!("{}{path}", gw.url));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.expect("gateway answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    Reply {
        status,
        headers,
        text,
    }
}

/// `POST /v1/responses` with `Authorization: Bearer <token>`.
pub async fn create(gw: &TestGateway, token: &str, body: &Value) -> Reply {
    call(
        gw,
        "POST",
        "/v1/responses",
        Some(&format!("Bearer {token}")),
        Some(body),
    )
    .await
}

/// A minimal request body.
pub fn hello() -> Value {
    json!({"model": "gpt-4o-mini", "input": "Hello!"})
}

/// Polls until the gateway has loaded the issuer's keys (it answers 503 until then).
pub async fn wait_for_keys(gw: &TestGateway, token: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let reply = call(
            gw,
            "GET",
            "/v1/models",
            Some(&format!("Bearer {token}")),
            None,
        )
        .await;
        if reply.status != 503 {
            assert_eq!(reply.status, 200, "{}", reply.text);
            return;
        }
        assert!(
            Instant::now() < deadline,
            "keys never loaded: {}",
            reply.text
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Panics unless `reply` is a 401 with a Bearer challenge and an `authentication_error` body
/// that leaks no library detail.
pub fn assert_unauthorized(reply: &Reply, case: &str) {
    assert_eq!(reply.status, 401, "{case}: {}", reply.text);
    let challenge = reply
        .header("www-authenticate")
        .unwrap_or_else(|| panic!("{case}: no challenge"));
    assert!(
        challenge.starts_with("Bearer realm="),
        "{case}: {challenge}"
    );
    let body = reply.json();
    assert_valid_error_body(&body);
    assert_eq!(body["error"]["type"], "authentication_error", "{case}");
    let message = body["error"]["message"].as_str().unwrap();
    for leak in ["InvalidSignature", "ErrorKind", "Base64", "Json(", "eyJ"] {
        assert!(!message.contains(leak), "{case}: detail leaked: {message}");
    }
}

/// The second static key of `two_keys_yaml` (owner `key:batch`).
pub const OTHER_KEY: &str = "sk-gw-batch-0123456789abcdef";

/// Providers at `mock` plus auth with `issuer` and two API keys, `ci` and `batch`.
pub fn two_keys_yaml(mock: &MockUpstream, issuer: Option<&str>) -> String {
    format!(
        "{}{}    - name: batch\n      key: \"{OTHER_KEY}\"\n",
        providers_yaml(mock, &["openai"], ""),
        auth_yaml(issuer, true)
    )
}
