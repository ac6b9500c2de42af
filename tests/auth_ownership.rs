//! Per-caller ownership of stored responses: another caller (API key or JWT subject) gets the
//! same 404 as for an unknown id on `previous_response_id` (HTTP, compaction and WebSocket),
//! `GET`, `DELETE` and `input_items`, and the owner keeps full access.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod auth_idp;
mod common;
mod ws_client;

use auth_idp::{
    Idp, TestKey, claims,
    http::{API_KEY, OTHER_KEY, call, create, hello, two_keys_yaml, wait_for_keys},
};
use common::{gateway::start_gateway, mock_upstream::MockUpstream, spec::assert_valid_error_body};
use jsonwebtoken::Algorithm;
use serde_json::json;

#[actix_web::test]
async fn another_callers_response_is_404_everywhere_as_if_it_did_not_exist() {
    let key = TestKey::rsa("k1", Algorithm::RS256);
    let idp = Idp::start(&[&key]);
    let mock = MockUpstream::start();
    let gw = start_gateway(&two_keys_yaml(&mock, Some(&idp.issuer)));
    let alice = key.sign(&claims(&idp.issuer));
    let mut bob_claims = claims(&idp.issuer);
    bob_claims["sub"] = json!("bob");
    let bob = key.sign(&bob_claims);
    wait_for_keys(&gw, &alice).await;

    for (owner, intruder) in [(API_KEY, OTHER_KEY), (alice.as_str(), bob.as_str())] {
        let first = create(&gw, owner, &hello()).await;
        assert_eq!(first.status, 200, "{}", first.text);
        let id = first.json()["id"].as_str().unwrap().to_owned();
        let as_owner = |method: &'static str, path: String| {
            let gw = &gw;
            async move { call(gw, method, &path, Some(&format!("Bearer {owner}")), None).await }
        };
        let as_intruder = |method: &'static str, path: String| {
            let gw = &gw;
            async move { call(gw, method, &path, Some(&format!("Bearer {intruder}")), None).await }
        };

        // The intruder gets exactly what an unknown id gets.
        let continued =
            json!({"model": "gpt-4o-mini", "input": "More", "previous_response_id": id});
        let stolen = create(&gw, intruder, &continued).await;
        let unknown_id =
            json!({"model": "gpt-4o-mini", "input": "More", "previous_response_id": "resp_nope"});
        let unknown = create(&gw, intruder, &unknown_id).await;
        assert_eq!(stolen.status, 404, "{}", stolen.text);
        assert_eq!(stolen.text.replace(&id, "resp_nope"), unknown.text);
        let compact = call(
            &gw,
            "POST",
            "/v1/responses/compact",
            Some(&format!("Bearer {intruder}")),
            Some(&json!({"model": "gpt-4o-mini", "previous_response_id": id})),
        )
        .await;
        assert_eq!(compact.status, 404, "{}", compact.text);
        assert_eq!(
            compact.json()["error"]["code"],
            "previous_response_not_found"
        );
        for (method, path) in [
            ("GET", format!("/v1/responses/{id}")),
            ("GET", format!("/v1/responses/{id}/input_items")),
            ("DELETE", format!("/v1/responses/{id}")),
        ] {
            let stolen = as_intruder(method, path.clone()).await;
            let unknown = as_intruder(method, path.replace(&id, "resp_nope")).await;
            assert_eq!(stolen.status, 404, "{method} {path}: {}", stolen.text);
            assert_valid_error_body(&stolen.json());
            assert_eq!(
                stolen.text.replace(&id, "resp_nope"),
                unknown.text,
                "{method} {path}"
            );
        }

        // The owner still has it (the intruder's DELETE deleted nothing), can continue and delete.
        assert_eq!(
            as_owner("GET", format!("/v1/responses/{id}")).await.status,
            200
        );
        assert_eq!(
            as_owner("GET", format!("/v1/responses/{id}/input_items"))
                .await
                .status,
            200
        );
        assert_eq!(create(&gw, owner, &continued).await.status, 200);
        assert_eq!(
            as_owner("DELETE", format!("/v1/responses/{id}"))
                .await
                .status,
            200
        );
        assert_eq!(
            as_owner("GET", format!("/v1/responses/{id}")).await.status,
            404
        );
    }
}

#[actix_web::test]
async fn a_websocket_caller_cannot_continue_another_callers_response() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&two_keys_yaml(&mock, None));
    let first = create(&gw, API_KEY, &hello()).await;
    let id = first.json()["id"].as_str().unwrap().to_owned();
    let continued = json!({"type": "response.create", "model": "gpt-4o-mini",
                           "previous_response_id": id, "input": "More"});

    let mut intruder = ws_client::try_connect(&gw, Some(OTHER_KEY)).await.unwrap();
    let turn = intruder.turn(continued.clone()).await;
    assert_eq!(turn.error()["error"]["code"], "previous_response_not_found");

    let mut owner = ws_client::try_connect(&gw, Some(API_KEY)).await.unwrap();
    let turn = owner.turn(continued).await;
    assert_eq!(turn.response()["previous_response_id"], id.as_str());
}
