//! WebSocket mode on `/v1/responses` through the real server: turns, continuation (stored and
//! `store: false`), not-found, eviction after a failed continuation, in-order processing of
//! back-to-back creates, frame validation, ping/pong, close and the frame-size bound.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod ws_client;

use std::time::Instant;

use awc::ws::{CloseCode, CloseReason, Frame, Message};
use common::{
    gateway::{get, post_responses, providers_yaml, start_gateway},
    mock_upstream::MockUpstream,
};
use serde_json::{Value, json};
use ws_client::{assert_valid_error_frame, connect, try_connect};

fn create(model: &str, input: Value) -> Value {
    json!({"type": "response.create", "model": model, "input": input})
}

fn continue_from(model: &str, previous: &str, input: Value, store: bool) -> Value {
    json!({"type": "response.create", "model": model, "previous_response_id": previous,
           "input": input, "store": store})
}

#[actix_web::test]
async fn sequential_turns_continue_over_one_connection() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["openai"], ""));
    let mut ws = connect(&gw).await;
    let first = ws.turn(create("gpt-4o-mini", json!("Hello"))).await;
    assert_eq!(first.events[0]["type"], "response.created");
    assert_eq!(first.response()["status"], "completed");
    let second = ws
        .turn(continue_from(
            "gpt-4o-mini",
            &first.id(),
            json!("And again?"),
            true,
        ))
        .await;
    assert_eq!(second.response()["previous_response_id"], first.id());
    let input = mock.last_request().unwrap().body["input"].clone();
    assert_eq!(
        input.as_array().unwrap().len(),
        3,
        "user, assistant, user: {input}"
    );
    // Stored turns are ordinary stored responses: HTTP continues them too.
    let http = post_responses(
        &gw,
        &json!({"model": "gpt-4o-mini", "previous_response_id": second.id(), "input": "Third"}),
    )
    .await;
    assert_eq!(http.status, 200, "{}", http.text);
}

#[actix_web::test]
async fn store_false_chain_stays_on_its_connection() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["anthropic"], ""));
    let model = "claude-sonnet-4-5";
    let mut ws = connect(&gw).await;
    let mut frame = create(model, json!("One"));
    frame["store"] = json!(false);
    let first = ws.turn(frame).await;
    assert_eq!(first.response()["store"], false);
    let second = ws
        .turn(continue_from(model, &first.id(), json!("Two"), false))
        .await;
    for event in &second.events {
        if let Some(response) = event.get("response") {
            assert_eq!(response["previous_response_id"], first.id(), "{event}");
        }
    }
    let third = ws
        .turn(continue_from(model, &second.id(), json!("Three"), false))
        .await;
    assert_eq!(third.response()["previous_response_id"], second.id());
    let messages = mock.last_request().unwrap().body["messages"].clone();
    let roles: Vec<&str> = messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant", "user", "assistant", "user"]);

    // Not stored: HTTP and other connections cannot continue it.
    let http = post_responses(
        &gw,
        &json!({"model": model, "previous_response_id": first.id(), "input": "x"}),
    )
    .await;
    assert_eq!(http.status, 404);
    let mut other = connect(&gw).await;
    let turn = other
        .turn(continue_from(model, &second.id(), json!("x"), false))
        .await;
    assert_eq!(turn.error()["status"], 404);
    assert_eq!(turn.error()["error"]["code"], "previous_response_not_found");
    assert_eq!(turn.error()["error"]["param"], "previous_response_id");
}

#[actix_web::test]
async fn unknown_previous_id_is_not_found_and_the_connection_goes_on() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["openai"], ""));
    let mut ws = connect(&gw).await;
    let missing = ws
        .turn(continue_from("gpt-4o", "resp_nope", json!("Hi"), true))
        .await;
    assert!(missing.events.is_empty());
    assert_eq!(
        missing.error()["error"]["code"],
        "previous_response_not_found"
    );
    assert_eq!(mock.requests().len(), 0, "nothing reached the upstream");
    let next = ws.turn(create("gpt-4o", json!("Hi"))).await;
    assert_eq!(next.response()["status"], "completed");
}

#[actix_web::test]
async fn failed_continuation_evicts_the_previous_id() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["openai"], ""));
    let mut ws = connect(&gw).await;
    // Stored chain, failing before the first byte (upstream 400): exactly one error frame.
    let stored = ws.turn(create("gpt-4o", json!("One"))).await;
    let failed = ws
        .turn(continue_from(
            "gpt-4o-fail-400",
            &stored.id(),
            json!("Two"),
            true,
        ))
        .await;
    assert!(failed.events.is_empty());
    assert_eq!(failed.error()["status"], 400);
    let evicted = ws
        .turn(continue_from("gpt-4o", &stored.id(), json!("Again"), true))
        .await;
    assert_eq!(
        evicted.error()["error"]["code"],
        "previous_response_not_found"
    );
    // Eviction is this connection's: the stored response itself is untouched.
    let http = post_responses(
        &gw,
        &json!({"model": "gpt-4o", "previous_response_id": stored.id(), "input": "x"}),
    )
    .await;
    assert_eq!(http.status, 200, "{}", http.text);

    // store:false chain, failing mid-stream: the events so far, then one error frame only.
    let mut frame = create("gpt-4o", json!("One"));
    frame["store"] = json!(false);
    let local = ws.turn(frame).await;
    let broken = ws
        .turn(continue_from(
            "gpt-4o-stream-error",
            &local.id(),
            json!("Two"),
            false,
        ))
        .await;
    assert!(!broken.events.is_empty(), "the stream had started");
    assert!(broken.error()["status"].as_u64().unwrap() >= 400);
    let evicted = ws
        .turn(continue_from("gpt-4o", &local.id(), json!("Again"), false))
        .await;
    assert_eq!(
        evicted.error()["error"]["code"],
        "previous_response_not_found"
    );
}

#[actix_web::test]
async fn back_to_back_creates_run_one_at_a_time_in_order() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["openai"], ""));
    let mut ws = connect(&gw).await;
    let started = Instant::now();
    for text in ["one", "two", "three"] {
        ws.send_json(&create("gpt-4o-slow", json!(text))).await;
    }
    let mut ids = Vec::new();
    for _ in 0..3 {
        // read_turn checks sequence numbers 0.. per turn: interleaved turns would fail it.
        let turn = ws.read_turn().await;
        ids.push(turn.id());
    }
    assert!(
        started.elapsed().as_millis() >= 900,
        "three slow (300 ms) upstream calls ran one after another"
    );
    ids.dedup();
    assert_eq!(ids.len(), 3);
    let inputs: Vec<Value> = mock
        .requests()
        .iter()
        .map(|r| r.body["input"][0]["content"].clone())
        .collect();
    let texts: Vec<String> = inputs.iter().map(Value::to_string).collect();
    assert_eq!(texts.len(), 3);
    for (text, expected) in texts.iter().zip(["one", "two", "three"]) {
        assert!(text.contains(expected), "{texts:?}");
    }
}

#[actix_web::test]
async fn invalid_frames_get_one_error_each() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["openai"], ""));
    let mut ws = connect(&gw).await;
    let base = create("gpt-4o", json!("hi"));
    let with = |key: &str, value: Value| {
        let mut frame = base.clone();
        frame[key] = value;
        frame
    };
    let cases = [
        (
            with("stream_options", json!({"include_usage": true})),
            400,
            Some("stream_options"),
        ),
        (with("background", json!(false)), 400, Some("background")),
        (with("type", json!("response.cancel")), 400, Some("type")),
        (with("temperature", json!("hot")), 400, Some("temperature")),
        (
            json!({"type": "response.create", "input": "hi"}),
            400,
            Some("model"),
        ),
        (with("model", json!("unknown-model")), 404, Some("model")),
    ];
    for (frame, status, param) in cases {
        let turn = ws.turn(frame.clone()).await;
        assert_eq!(turn.error()["status"], status, "{frame}");
        assert_eq!(turn.error()["error"]["param"].as_str(), param, "{frame}");
    }
    ws.send(Message::Text("{nope".into())).await;
    let error = ws.recv_json().await;
    assert_valid_error_frame(&error);
    assert_eq!(error["error"]["code"], "invalid_json");
    ws.send(Message::Binary(b"{}".to_vec().into())).await;
    assert_eq!(ws.recv_json().await["status"], 400);
    assert_eq!(mock.requests().len(), 0);
    assert_eq!(ws.turn(base).await.response()["status"], "completed");
}

#[actix_web::test]
async fn ping_pong_and_client_close() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["openai"], ""));
    let mut ws = connect(&gw).await;
    ws.send(Message::Ping(b"are you there".to_vec().into()))
        .await;
    match ws.recv().await {
        Frame::Pong(payload) => assert_eq!(&payload[..], b"are you there"),
        other => panic!("expected a pong, got {other:?}"),
    }
    ws.send(Message::Close(Some(CloseCode::Normal.into())))
        .await;
    assert!(matches!(ws.recv().await, Frame::Close(_)));
}

#[actix_web::test]
async fn oversized_frames_are_refused_and_close_the_socket() {
    let mock = MockUpstream::start();
    let yaml = format!(
        "  max_body_bytes: 4096\n{}",
        providers_yaml(&mock, &["openai"], "")
    );
    let gw = start_gateway(&yaml);
    let mut ws = connect(&gw).await;
    ws.send_json(&create("gpt-4o", json!("x".repeat(8192))))
        .await;
    let error = ws.recv_json().await;
    assert_valid_error_frame(&error);
    assert_eq!(error["status"], 413);
    assert_eq!(error["error"]["code"], "payload_too_large");
    match ws.recv().await {
        Frame::Close(Some(CloseReason { code, .. })) => assert_eq!(code, CloseCode::Size),
        other => panic!("expected a close frame, got {other:?}"),
    }
}

#[actix_web::test]
async fn plain_get_keeps_the_post_only_answer() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["openai"], ""));
    let reply = get(&gw, "/v1/responses").await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.json()["error"]["code"], "method_not_allowed");
}

#[actix_web::test]
async fn the_upgrade_needs_the_same_credentials_as_http() {
    let mock = MockUpstream::start();
    let key = "sk-gw-ws-0123456789abcdef";
    let yaml = format!(
        "{}auth:\n  enabled: true\n  api_keys:\n    - name: ws\n      key: \"{key}\"\n",
        providers_yaml(&mock, &["openai"], "")
    );
    let gw = start_gateway(&yaml);
    for bearer in [None, Some("sk-wrong-0123456789abcdef")] {
        let refused = try_connect(&gw, bearer)
            .await
            .err()
            .expect("the handshake is refused");
        assert!(refused.contains("401"), "{refused}");
    }
    let mut ws = try_connect(&gw, Some(key)).await.unwrap();
    let turn = ws.turn(create("gpt-4o", json!("Hi"))).await;
    assert_eq!(turn.response()["status"], "completed");
}

#[actix_web::test]
async fn a_stored_http_response_starts_a_websocket_chain() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&providers_yaml(&mock, &["anthropic"], ""));
    let model = "claude-sonnet-4-5";
    let http = post_responses(&gw, &json!({"model": model, "input": "One"}))
        .await
        .json();
    let id = http["id"].as_str().unwrap();
    let mut ws = connect(&gw).await;
    let second = ws.turn(continue_from(model, id, json!("Two"), false)).await;
    // store:false after a response this connection never saw: the rest of the chain is local.
    let third = ws
        .turn(continue_from(model, &second.id(), json!("Three"), false))
        .await;
    assert_eq!(third.response()["previous_response_id"], second.id());
    let messages = mock.last_request().unwrap().body["messages"].clone();
    let texts: Vec<String> = messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].to_string())
        .collect();
    assert_eq!(texts.len(), 5, "{texts:?}");
    for (text, expected) in texts.iter().step_by(2).zip(["One", "Two", "Three"]) {
        assert!(text.contains(expected), "{texts:?}");
    }
}
