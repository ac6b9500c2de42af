//! The Redis conversation store against the real Redis at 127.0.0.1:6379: two gateway instances
//! sharing conversations, Redis down (503 only for requests that need history), and the
//! versioned record format. Every test uses its own random key prefix.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::{
    gateway::{Reply, TestGateway, get, post_responses, providers_yaml, start_gateway},
    mock_upstream::MockUpstream,
    spec::{assert_valid_error_body, assert_valid_response, assert_valid_sse_stream},
};
use llm_gateway::{GatewayError, config::Config, engine::ConversationStore};
use redis::aio::MultiplexedConnection;
use serde_json::{Value, json};

use common::redis::{Prefix, REDIS_URL};
/// A loopback port nothing listens on.
const DEAD_REDIS_URL: &str = "redis://127.0.0.1:1";

fn conversations_yaml(url: &str, prefix: &str) -> String {
    format!(
        "conversations:\n  store: redis\n  ttl: \"5m\"\n  redis_url: \"{url}\"\n  key_prefix: \"{prefix}\"\n"
    )
}

fn start(mock: &MockUpstream, url: &str, prefix: &str) -> TestGateway {
    start_gateway(&format!(
        "{}{}",
        providers_yaml(mock, &["openai"], ""),
        conversations_yaml(url, prefix)
    ))
}

async fn redis() -> MultiplexedConnection {
    redis::Client::open(REDIS_URL)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

async fn delete(gw: &TestGateway, path: &str) -> Reply {
    let response = reqwest::Client::new()
        .delete(format!("{}{path}", gw.url))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    Reply {
        status,
        headers,
        text: response.text().await.unwrap(),
    }
}

fn id(response: &Value) -> String {
    response["id"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn two_gateways_sharing_redis_continue_each_others_conversations() {
    let prefix = Prefix::new();
    let mock = MockUpstream::start();
    let (a, b) = (
        start(&mock, REDIS_URL, &prefix.0),
        start(&mock, REDIS_URL, &prefix.0),
    );
    let one = post_responses(&a, &json!({"model":"gpt-4o","input":"My name is Ada."}))
        .await
        .json();
    let two = post_responses(&b, &json!({"model":"gpt-4o","input":"What is my name?","previous_response_id":one["id"],"stream":true})).await;
    assert_eq!(two.status, 200, "{}", two.text);
    let two = assert_valid_sse_stream(&two.text).last().unwrap()["response"].clone();
    let three = post_responses(
        &a,
        &json!({"model":"gpt-4o","input":"And again?","previous_response_id":two["id"]}),
    )
    .await;
    assert_eq!(three.status, 200, "{}", three.text);
    let sent = mock.last_request().unwrap().body["input"]
        .as_array()
        .unwrap()
        .clone();
    let texts: Vec<String> = sent
        .iter()
        .filter(|i| i["role"] == "user")
        .map(|i| i["content"].to_string())
        .collect();
    assert_eq!(texts.len(), 3, "three user turns upstream: {sent:?}");
    assert!(texts[0].contains("My name is Ada.") && texts[2].contains("And again?"));
    assert_eq!(sent.len(), 5, "user, assistant, user, assistant, user");

    let fetched = get(&a, &format!("/v1/responses/{}", id(&two))).await;
    assert_eq!(fetched.status, 200, "{}", fetched.text);
    assert_valid_response(&fetched.json());
    assert_eq!(fetched.json(), two);
    let items = get(
        &b,
        &format!("/v1/responses/{}/input_items?order=asc", id(&three.json())),
    )
    .await
    .json();
    assert_eq!(items["data"].as_array().unwrap().len(), 5);

    let mut conn = redis().await;
    let key = format!("{}response:{}", prefix.0, id(&one));
    let ttl_ms: i64 = redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(
        ttl_ms > 290_000 && ttl_ms <= 300_000,
        "server-side expiry from the ttl: {ttl_ms}"
    );
    assert_eq!(
        delete(&b, &format!("/v1/responses/{}", id(&one)))
            .await
            .status,
        200
    );
    assert_eq!(
        get(&a, &format!("/v1/responses/{}", id(&one))).await.status,
        404
    );
    let exists: i64 = redis::cmd("EXISTS")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(exists, 0);
}

#[actix_web::test]
async fn when_redis_is_down_only_requests_needing_history_fail() {
    let prefix = Prefix::new();
    let mock = MockUpstream::start();
    let gw = start(&mock, DEAD_REDIS_URL, &prefix.0);
    let started = Instant::now();
    let plain = post_responses(&gw, &json!({"model":"gpt-4o","input":"Hi"})).await;
    assert_eq!(plain.status, 200, "{}", plain.text);
    assert_valid_response(&plain.json());
    let streamed = post_responses(&gw, &json!({"model":"gpt-4o","input":"Hi","stream":true})).await;
    assert_eq!(streamed.status, 200);
    assert_valid_sse_stream(&streamed.text);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "a dead store does not stall requests"
    );

    let continued = post_responses(
        &gw,
        &json!({"model":"gpt-4o","input":"x","previous_response_id":plain.json()["id"]}),
    )
    .await;
    assert_eq!(continued.status, 503, "{}", continued.text);
    let body = continued.json();
    assert_valid_error_body(&body);
    assert_eq!(body["error"]["code"], "conversation_store_unavailable");
    assert!(
        !body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("refused"),
        "detail stays in logs"
    );
    let fetched = get(&gw, "/v1/responses/resp_x").await;
    assert_eq!(
        (fetched.status, fetched.json()["error"]["code"].clone()),
        (503, json!("conversation_store_unavailable"))
    );
    assert_eq!(delete(&gw, "/v1/responses/resp_x").await.status, 503);
    assert_eq!(
        mock.hits("/v1/responses"),
        2,
        "the 503 request never went upstream"
    );
}

#[actix_web::test]
async fn store_failures_are_counted() {
    let yaml = conversations_yaml(DEAD_REDIS_URL, "llm-gateway-test:dead:");
    let store =
        ConversationStore::start(&Config::from_yaml(&yaml, &|_| None).unwrap().conversations)
            .unwrap();
    assert_eq!(store.kind(), "redis");
    let request = serde_json::from_value(json!({"model":"gpt-4o","input":"Hi"})).unwrap();
    let response = llm_gateway::api::ResponseResource::in_progress(&request, "resp_1", "gpt-4o", 1);
    for expected in 1..=2 {
        let stored = llm_gateway::engine::StoredResponse {
            owner: "anonymous".to_owned(),
            input: request.input_items(),
            response: response.clone(),
        };
        let err = store.put(stored).await.unwrap_err();
        assert!(matches!(err, GatewayError::StoreUnavailable(_)), "{err:?}");
        assert_eq!(store.store_failures(), expected);
    }
    assert!(matches!(
        store.get("resp_1").await,
        Err(GatewayError::StoreUnavailable(_))
    ));
    assert_eq!(store.memory_stats().await.unwrap(), None);
}

#[actix_web::test]
async fn records_are_versioned_json_and_unknown_versions_read_as_missing() {
    let prefix = Prefix::new();
    let mock = MockUpstream::start();
    let gw = start(&mock, REDIS_URL, &prefix.0);
    let one = post_responses(&gw, &json!({"model":"gpt-4o","input":"Hi"}))
        .await
        .json();
    let mut conn = redis().await;
    let raw: String = redis::cmd("GET")
        .arg(format!("{}response:{}", prefix.0, id(&one)))
        .query_async(&mut conn)
        .await
        .unwrap();
    let record: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(record["v"], 1);
    assert_eq!(record["response"], one, "the response object as served");
    let suffix = id(&one).strip_prefix("resp_").unwrap().to_owned();
    assert_eq!(
        record["input"],
        json!([{"type":"message","id":format!("msg_{suffix}_in0"),"role":"user","content":"Hi"}])
    );

    // A record written by hand (as an older gateway would) is read back and continued.
    let mut older = record.clone();
    older["response"]["id"] = json!("resp_handwritten");
    let set = |key: &str, value: String| {
        redis::cmd("SET")
            .arg(format!("{}response:{key}", prefix.0))
            .arg(value)
            .arg("EX")
            .arg(60)
            .clone()
    };
    set("resp_handwritten", older.to_string())
        .query_async::<()>(&mut conn)
        .await
        .unwrap();
    let fetched = get(&gw, "/v1/responses/resp_handwritten").await;
    assert_eq!(fetched.status, 200, "{}", fetched.text);
    assert_eq!(fetched.json()["id"], "resp_handwritten");
    let next = post_responses(
        &gw,
        &json!({"model":"gpt-4o","input":"Again","previous_response_id":"resp_handwritten"}),
    )
    .await;
    assert_eq!(next.status, 200, "{}", next.text);

    // A newer version, or garbage, is refused (logged) and treated as missing.
    let mut newer = older.clone();
    newer["v"] = json!(2);
    newer["response"]["id"] = json!("resp_future");
    set("resp_future", newer.to_string())
        .query_async::<()>(&mut conn)
        .await
        .unwrap();
    set("resp_garbage", "not json".to_owned())
        .query_async::<()>(&mut conn)
        .await
        .unwrap();
    for unknown in ["resp_future", "resp_garbage"] {
        let fetched = get(&gw, &format!("/v1/responses/{unknown}")).await;
        assert_eq!(
            (fetched.status, fetched.json()["error"]["code"].clone()),
            (404, json!("response_not_found"))
        );
        let next = post_responses(
            &gw,
            &json!({"model":"gpt-4o","input":"x","previous_response_id":unknown}),
        )
        .await;
        assert_eq!(next.json()["error"]["code"], "previous_response_not_found");
    }
}
