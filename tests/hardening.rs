//! Regressions for the holes found by attacking the gateway (hostile callers, broken upstreams,
//! careless operators): each test pins one fix.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{
    gateway::{post_responses, providers_yaml, start_gateway},
    mock_upstream::MockUpstream,
    spec::assert_valid_error_body,
};
use serde_json::json;

/// A model name can never reshape the upstream URL: traversal, queries and fragments are refused
/// before any upstream is called.
#[actix_web::test]
async fn model_names_never_reach_an_upstream_url_unencoded() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["google", "azureopenai"], ""));
    for model in [
        "google/gemini-2.5-flash/../../../some/path?",
        "google/gemini-2.5-flash:generateContent?key=evil#",
        "azureopenai/x/../../../openai/deployments/other-dep/chat/completions?api-version=2024-10-21&",
        "google/gemini%2F..%2Fx",
        "google/gemini\u{7f}",
    ] {
        let reply = post_responses(&gw, &json!({"model": model, "input": "hi"})).await;
        assert_eq!(reply.status, 400, "{model}: {}", reply.text);
        assert_valid_error_body(&reply.json());
        assert_eq!(reply.json()["error"]["param"], "model", "{model}");
        assert_eq!(reply.json()["error"]["type"], "invalid_request_error");
    }
    assert!(mock.requests().is_empty(), "{:?}", mock.requests());
    // A pinned name with a character that is only odd (not structural) stays one path segment.
    post_responses(&gw, &json!({"model": "google/gemini 2.5:x", "input": "hi"})).await;
    let upstream = mock.last_request().unwrap();
    assert_eq!(
        upstream.path,
        "/v1beta/models/gemini%202.5%3Ax:generateContent"
    );
    assert!(upstream.query.is_empty(), "{}", upstream.query);
}

/// With no default deployment, the `deployments` map is an allow-list.
#[actix_web::test]
async fn azure_deployments_map_is_an_allow_list() {
    let mock = MockUpstream::start();
    let base = mock.base_url();
    let gw = start_gateway(&format!(
        "providers:\n  azureopenai:\n    api_key: k\n    endpoint: {base}\n    deployments: {{ gpt-4o: gpt-4o-dep }}\n"
    ));
    let reply = post_responses(
        &gw,
        &json!({"model": "azureopenai/other-dep", "input": "hi"}),
    )
    .await;
    assert_eq!(reply.status, 404, "{}", reply.text);
    assert_valid_error_body(&reply.json());
    assert_eq!(reply.json()["error"]["code"], "model_not_found");
    assert_eq!(reply.json()["error"]["param"], "model");
    assert!(mock.requests().is_empty());
    let listed = post_responses(&gw, &json!({"model": "gpt-4o", "input": "hi"})).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(
        mock.last_request().unwrap().path,
        "/openai/deployments/gpt-4o-dep/chat/completions"
    );
}
