//! Server-side conversations through the real gateway (memory store): chains through every
//! provider, instructions, `store:false`, GET/DELETE/input_items, immediate follow-ups, TTL
//! expiry and eviction at the bounds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::{
    gateway::{Reply, TestGateway, get, post_responses, providers_yaml, start_gateway},
    mock_upstream::MockUpstream,
    spec::{assert_valid_error_body, assert_valid_response, assert_valid_sse_stream, parse_sse},
};
use futures::StreamExt;
use serde_json::{Value, json};

/// (config block, model) for each provider.
const PROVIDERS: [(&str, &str); 4] = [
    ("openai", "gpt-4o-mini"),
    ("azureopenai", "gpt-4o-mini"),
    ("anthropic", "claude-sonnet-4-5"),
    ("google", "gemini-2.5-flash"),
];

fn start(mock: &MockUpstream, provider: &str, conversations: &str) -> TestGateway {
    start_gateway(&format!(
        "{}conversations:\n{conversations}",
        providers_yaml(mock, &[provider], "")
    ))
}

/// Sends any method to the gateway.
async fn send(gw: &TestGateway, method: reqwest::Method, path: &str) -> Reply {
    let response = reqwest::Client::new()
        .request(method, format!("{}{path}", gw.url))
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

/// One turn; returns the final response object (from the JSON body or the terminal event).
async fn turn(gw: &TestGateway, body: Value) -> Value {
    let stream = body["stream"] == true;
    let reply = post_responses(gw, &body).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    if stream {
        let events = assert_valid_sse_stream(&reply.text);
        events.last().unwrap()["response"].clone()
    } else {
        let response = reply.json();
        assert_valid_response(&response);
        response
    }
}

fn output_text(response: &Value) -> String {
    let items = response["output"].as_array().unwrap();
    let messages = items.iter().filter(|i| i["type"] == "message");
    messages
        .flat_map(|m| m["content"].as_array().unwrap().iter())
        .map(|p| p["text"].as_str().unwrap_or(""))
        .collect()
}

/// Joined text of a content value: a string, or parts/blocks with `text`.
fn text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect(),
        _ => String::new(),
    }
}

/// The upstream conversation as (role, text), in each provider's own wire format.
fn history(provider: &str, body: &Value) -> Vec<(String, String)> {
    let (list, content) = match provider {
        "openai" => ("input", "content"),
        "google" => ("contents", "parts"),
        _ => ("messages", "content"),
    };
    body[list]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["type"].is_null() || m["type"] == "message")
        .filter(|m| m["role"] != "system" && m["role"] != "developer")
        .map(|m| {
            let role = if m["role"] == "model" {
                "assistant"
            } else {
                m["role"].as_str().unwrap()
            };
            (role.to_owned(), text(&m[content]))
        })
        .collect()
}

/// The instructions the upstream received, in each provider's own wire format.
fn system(provider: &str, body: &Value) -> Option<String> {
    let value = match provider {
        "openai" => body["instructions"].clone(),
        "anthropic" => body["system"].clone(),
        "google" => body["systemInstruction"]["parts"].clone(),
        _ => body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["role"] == "system")
            .map_or(Value::Null, |m| m["content"].clone()),
    };
    Some(text(&value)).filter(|t| !t.is_empty())
}

#[actix_web::test]
async fn three_turn_chains_send_the_full_history_through_every_provider() {
    for (provider, model) in PROVIDERS {
        let mock = MockUpstream::start();
        let gw = start(&mock, provider, "  ttl: \"10m\"\n");
        let one = turn(
            &gw,
            json!({"model":model,"input":"My name is Ada.","instructions":"Be brief."}),
        )
        .await;
        assert_eq!(
            system(provider, &mock.last_request().unwrap().body).as_deref(),
            Some("Be brief.")
        );
        let two = turn(&gw, json!({"model":model,"input":"What is my name?","previous_response_id":one["id"],"stream":true})).await;
        let upstream = mock.last_request().unwrap().body;
        assert_eq!(
            system(provider, &upstream),
            None,
            "{provider}: instructions are not carried over"
        );
        assert_eq!(
            history(provider, &upstream).len(),
            3,
            "{provider}: {upstream}"
        );
        assert_eq!(two["previous_response_id"], one["id"]);
        let three = turn(&gw, json!({"model":model,"input":"And again?","previous_response_id":two["id"],"instructions":"Answer in French."})).await;
        let upstream = mock.last_request().unwrap().body;
        assert_eq!(
            system(provider, &upstream).as_deref(),
            Some("Answer in French."),
            "{provider}"
        );
        let expected: Vec<(String, String)> = [
            ("user", "My name is Ada.".to_owned()),
            ("assistant", output_text(&one)),
            ("user", "What is my name?".to_owned()),
            ("assistant", output_text(&two)),
            ("user", "And again?".to_owned()),
        ]
        .into_iter()
        .map(|(r, t)| (r.to_owned(), t))
        .collect();
        assert_eq!(
            history(provider, &upstream),
            expected,
            "{provider}: full history in order"
        );
        assert!(!output_text(&one).is_empty() && !output_text(&two).is_empty());
        assert_eq!(three["instructions"], "Answer in French.");
    }
}

#[actix_web::test]
async fn store_false_responses_are_neither_continuable_nor_retrievable() {
    let mock = MockUpstream::start();
    let gw = start(&mock, "openai", "  ttl: \"10m\"\n");
    for stream in [false, true] {
        let unstored = turn(
            &gw,
            json!({"model":"gpt-4o","input":"x","store":false,"stream":stream}),
        )
        .await;
        assert_eq!(unstored["store"], false);
        let id = unstored["id"].as_str().unwrap();
        let after = post_responses(
            &gw,
            &json!({"model":"gpt-4o","input":"y","previous_response_id":id}),
        )
        .await;
        assert_eq!(after.status, 404);
        assert_valid_error_body(&after.json());
        assert_eq!(after.json()["error"]["code"], "previous_response_not_found");
        assert_eq!(after.json()["error"]["param"], "previous_response_id");
        for path in [
            format!("/v1/responses/{id}"),
            format!("/v1/responses/{id}/input_items"),
        ] {
            let reply = get(&gw, &path).await;
            assert_eq!(reply.status, 404, "{path}");
            assert_eq!(reply.json()["error"]["code"], "response_not_found");
        }
    }
}

/// Every id of a response's input, walking pages of `limit` in `order`.
async fn walk(gw: &TestGateway, id: &str, order: &str, limit: usize) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after = String::new();
    loop {
        let path =
            format!("/v1/responses/{id}/input_items?order={order}&limit={limit}&after={after}");
        let page = get(gw, &path).await.json();
        let data = page["data"].as_array().unwrap();
        assert!(data.len() <= limit);
        assert_eq!(
            page["first_id"],
            data.first().map_or(Value::Null, |i| i["id"].clone())
        );
        assert_eq!(
            page["last_id"],
            data.last().map_or(Value::Null, |i| i["id"].clone())
        );
        ids.extend(data.iter().map(|i| i["id"].as_str().unwrap().to_owned()));
        if page["has_more"] == false {
            return ids;
        }
        after = page["last_id"].as_str().unwrap().to_owned();
    }
}

#[actix_web::test]
async fn get_delete_and_input_items_have_openai_shapes() {
    let mock = MockUpstream::start();
    let gw = start(&mock, "openai", "  ttl: \"10m\"\n");
    let input = json!([{"role":"user","content":"a"},{"role":"user","content":[{"type":"input_text","text":"b"}]},
        {"type":"message","id":"msg_mine","role":"user","content":"c"}]);
    let one = turn(&gw, json!({"model":"gpt-4o","input":input})).await;
    let two = turn(
        &gw,
        json!({"model":"gpt-4o","input":"d","previous_response_id":one["id"]}),
    )
    .await;
    let id = two["id"].as_str().unwrap();

    let fetched = get(&gw, &format!("/v1/responses/{id}")).await;
    assert_eq!(fetched.status, 200, "{}", fetched.text);
    assert!(fetched.header("x-request-id").is_some());
    assert_valid_response(&fetched.json());
    assert_eq!(fetched.json(), two, "the stored object is the one returned");

    let page = get(&gw, &format!("/v1/responses/{id}/input_items"))
        .await
        .json();
    assert_eq!(page["object"], "list");
    let data = page["data"].as_array().unwrap();
    let turn_one_items = 3 + one["output"].as_array().unwrap().len();
    assert_eq!(
        data.len(),
        turn_one_items + 1,
        "prior input, prior output, new input"
    );
    let suffix = id.strip_prefix("resp_").unwrap();
    assert_eq!(
        data[0]["id"],
        format!("msg_{suffix}_in{turn_one_items}"),
        "desc by default; new input first"
    );
    assert_eq!(
        data[0]["content"],
        json!([{"type":"input_text","text":"d"}])
    );
    assert_eq!(page["first_id"], data[0]["id"]);
    assert_eq!(page["has_more"], false);

    let asc = walk(&gw, id, "asc", 2).await;
    let one_suffix = one["id"].as_str().unwrap().strip_prefix("resp_").unwrap();
    assert_eq!(
        asc[..3],
        [
            format!("msg_{one_suffix}_in0"),
            format!("msg_{one_suffix}_in1"),
            "msg_mine".to_owned()
        ]
    );
    assert_eq!(asc[3], one["output"][0]["id"].as_str().unwrap());
    let mut desc = walk(&gw, id, "desc", 1).await;
    desc.reverse();
    assert_eq!(asc, desc);
    let first_ids = walk(&gw, one["id"].as_str().unwrap(), "asc", 100).await;
    assert_eq!(first_ids, asc[..3], "input ids are stable across turns");

    for (query, param) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("order=sideways", "order"),
        ("after=msg_nope", "after"),
    ] {
        let reply = get(&gw, &format!("/v1/responses/{id}/input_items?{query}")).await;
        assert_eq!(reply.status, 400, "{query}");
        assert_valid_error_body(&reply.json());
        assert_eq!(reply.json()["error"]["param"], param, "{query}");
    }

    let wrong = send(&gw, reqwest::Method::PUT, &format!("/v1/responses/{id}")).await;
    assert_eq!(
        (wrong.status, wrong.header("allow")),
        (405, Some("GET, DELETE"))
    );
    let deleted = send(&gw, reqwest::Method::DELETE, &format!("/v1/responses/{id}")).await;
    assert_eq!(deleted.status, 200, "{}", deleted.text);
    assert_eq!(
        deleted.json(),
        json!({"id": id, "object": "response", "deleted": true})
    );
    for path in [
        format!("/v1/responses/{id}"),
        format!("/v1/responses/{id}/input_items"),
        "/v1/responses/resp_unknown".to_owned(),
    ] {
        let reply = get(&gw, &path).await;
        assert_eq!(reply.status, 404, "{path}");
        assert_valid_error_body(&reply.json());
        assert_eq!(reply.json()["error"]["code"], "response_not_found");
    }
    let again = send(&gw, reqwest::Method::DELETE, &format!("/v1/responses/{id}")).await;
    assert_eq!(
        (again.status, again.json()["error"]["code"].clone()),
        (404, json!("response_not_found"))
    );
    let after = post_responses(
        &gw,
        &json!({"model":"gpt-4o","input":"e","previous_response_id":id}),
    )
    .await;
    assert_eq!(after.json()["error"]["code"], "previous_response_not_found");
}

#[actix_web::test]
async fn a_follow_up_sent_the_instant_a_stream_ends_finds_it() {
    for (provider, model) in [PROVIDERS[0], PROVIDERS[2]] {
        let mock = MockUpstream::start();
        let gw = start(&mock, provider, "  ttl: \"10m\"\n");
        for _ in 0..10 {
            let response = reqwest::Client::new()
                .post(format!("{}/v1/responses", gw.url))
                .json(&json!({"model":model,"input":"Hi","stream":true}))
                .send()
                .await
                .unwrap();
            let mut body = response.bytes_stream();
            let mut text = String::new();
            let id = loop {
                text.push_str(std::str::from_utf8(&body.next().await.unwrap().unwrap()).unwrap());
                let complete_frames = &text[..text.rfind("\n\n").map_or(0, |p| p + 2)];
                let completed = parse_sse(complete_frames)
                    .into_iter()
                    .find(|(e, _)| e == "response.completed");
                if let Some((_, event)) = completed {
                    break event["response"]["id"].as_str().unwrap().to_owned();
                }
            };
            // The rest of the stream is deliberately left unread.
            let next = post_responses(
                &gw,
                &json!({"model":model,"input":"More","previous_response_id":id}),
            )
            .await;
            assert_eq!(next.status, 200, "{provider}: {}", next.text);
            drop(body);
        }
    }
}

#[actix_web::test]
async fn records_expire_after_the_ttl() {
    let mock = MockUpstream::start();
    let gw = start(&mock, "openai", "  ttl: \"1s\"\n");
    let before = Instant::now();
    let one = turn(&gw, json!({"model":"gpt-4o","input":"Hi"})).await;
    let path = format!("/v1/responses/{}", one["id"].as_str().unwrap());
    assert_eq!(get(&gw, &path).await.status, 200);
    // Read until it is gone (bounded): never before its TTL ran, and soon after.
    while get(&gw, &path).await.status == 200 {
        assert!(
            before.elapsed() < Duration::from_secs(10),
            "still stored 10 s later"
        );
        // Pacing only: the loop ends on the observed expiry, not on a guessed delay.
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        before.elapsed() >= Duration::from_secs(1),
        "expired after {:?}, before its 1 s TTL",
        before.elapsed()
    );
    assert_eq!(get(&gw, &path).await.status, 404);
    let after = post_responses(
        &gw,
        &json!({"model":"gpt-4o","input":"x","previous_response_id":one["id"]}),
    )
    .await;
    assert_eq!(after.status, 404);
    assert_eq!(after.json()["error"]["code"], "previous_response_not_found");
}

#[actix_web::test]
async fn the_oldest_records_are_evicted_at_the_bounds() {
    let mock = MockUpstream::start();
    let gw = start(&mock, "openai", "  max_entries: 2\n");
    let mut ids = Vec::new();
    for input in ["a", "b", "c"] {
        ids.push(
            turn(&gw, json!({"model":"gpt-4o","input":input})).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let mut statuses = Vec::new();
    for id in &ids {
        statuses.push(get(&gw, &format!("/v1/responses/{id}")).await.status);
    }
    assert_eq!(statuses, [404, 200, 200]);
    let after = post_responses(
        &gw,
        &json!({"model":"gpt-4o","input":"x","previous_response_id":ids[0]}),
    )
    .await;
    assert_eq!(after.status, 404);
}
