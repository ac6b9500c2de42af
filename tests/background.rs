//! Background responses (`background: true`) through the real gateway: answered `queued` at
//! once, run on without the client, polled with `GET`, replayed and resumed with
//! `?stream=true&starting_after=N` without gaps or duplicates, cancelled (upstream call
//! dropped), bounded per caller and in total, owner-only, and ended `failed` by the drain.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::{
    gateway::{TestGateway, providers_yaml, start_gateway},
    mock_upstream::{MockOptions, MockUpstream},
    spec::{
        assert_valid_error_body, assert_valid_event, assert_valid_response,
        assert_valid_sse_stream, parse_sse,
    },
};
use futures::StreamExt;
use serde_json::{Value, json};

const KEY_A: &str = "sk-gw-alice-0123456789abcdef";
const KEY_B: &str = "sk-gw-bob-0123456789abcdef";
/// Longest wait for a polled state (a bound on failure, not a synchronisation delay).
const PATIENCE: Duration = Duration::from_secs(15);
/// Pause between two polls.
const POLL: Duration = Duration::from_millis(20);

fn yaml(mock: &MockUpstream, extra: &str) -> String {
    format!(
        "{}auth:\n  enabled: true\n  api_keys:\n    - name: alice\n      key: \"{KEY_A}\"\n    - name: bob\n      key: \"{KEY_B}\"\n{extra}",
        providers_yaml(mock, &["openai"], "")
    )
}

/// A mock whose streams take a while (so a run can be watched, cancelled or left).
fn slow_mock() -> MockUpstream {
    MockUpstream::start_with(MockOptions {
        chunk_delay: Duration::from_millis(150),
        ..MockOptions::default()
    })
}

struct Reply {
    status: u16,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

async fn call(gw: &TestGateway, key: &str, method: &str, path: &str, body: Option<Value>) -> Reply {
    let client = reqwest::Client::new();
    let url = format!("{}{path}", gw.url);
    let mut request = match method {
        "POST" => client.post(url),
        _ => client.get(url),
    };
    request = request.header("authorization", format!("Bearer {key}"));
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    Reply {
        status,
        text: response.text().await.unwrap(),
    }
}

async fn create(gw: &TestGateway, body: Value) -> Value {
    let reply = call(gw, KEY_A, "POST", "/v1/responses", Some(body)).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let response = reply.json();
    assert_valid_response(&response);
    assert_eq!(response["status"], "queued");
    assert_eq!(response["background"], true);
    response
}

async fn retrieve(gw: &TestGateway, id: &str) -> Value {
    let reply = call(gw, KEY_A, "GET", &format!("/v1/responses/{id}"), None).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let response = reply.json();
    assert_valid_response(&response);
    response
}

/// Polls `GET /v1/responses/{id}` until its status is one of `statuses`.
async fn wait_for(gw: &TestGateway, id: &str, statuses: &[&str]) -> Value {
    let started = Instant::now();
    loop {
        let response = retrieve(gw, id).await;
        if statuses.iter().any(|s| response["status"] == *s) {
            return response;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "still {} after {PATIENCE:?}",
            response["status"]
        );
        tokio::time::sleep(POLL).await;
    }
}

/// An open SSE response, read event by event.
struct Events {
    body: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>>>>,
    buffer: String,
    /// Every frame's raw text read so far (for the strict SSE check).
    raw: String,
}

impl Events {
    async fn open(
        gw: &TestGateway,
        key: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Self {
        let client = reqwest::Client::new();
        let url = format!("{}{path}", gw.url);
        let mut request = match method {
            "POST" => client.post(url),
            _ => client.get(url),
        };
        request = request.header("authorization", format!("Bearer {key}"));
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Self {
            body: Box::pin(response.bytes_stream()),
            buffer: String::new(),
            raw: String::new(),
        }
    }

    /// The next event (`None` at `[DONE]` or the end of the body).
    async fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                self.raw.push_str(&frame);
                if let Some((_, data)) = parse_sse(&frame).into_iter().next() {
                    if data == "[DONE]" {
                        return None;
                    }
                    return Some(data);
                }
                continue;
            }
            let chunk = self.body.next().await?.unwrap();
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// The rest of the events.
    async fn rest(&mut self) -> Vec<Value> {
        let mut events = Vec::new();
        while let Some(event) = self.next().await {
            events.push(event);
        }
        events
    }
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

fn seqs(events: &[Value]) -> Vec<u64> {
    events
        .iter()
        .map(|e| e["sequence_number"].as_u64().unwrap())
        .collect()
}

fn output_text(response: &Value) -> String {
    response["output"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["type"] == "message")
        .flat_map(|m| m["content"].as_array().unwrap().iter())
        .map(|p| p["text"].as_str().unwrap_or(""))
        .collect()
}

#[actix_web::test]
async fn a_background_response_is_queued_at_once_then_completes_and_replays() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&yaml(&mock, ""));
    let queued = create(
        &gw,
        json!({"model": "gpt-4o-mini", "input": "Hi", "background": true}),
    )
    .await;
    assert!(queued["output"].as_array().unwrap().is_empty());
    let id = queued["id"].as_str().unwrap();

    let done = wait_for(&gw, id, &["completed"]).await;
    assert!(
        !output_text(&done).is_empty(),
        "output once finished: {done}"
    );
    assert_eq!(done["background"], true);
    assert_eq!(mock.hits("/v1/"), 1, "one upstream call");
    assert_eq!(
        mock.last_request().unwrap().body["stream"],
        true,
        "always streamed upstream"
    );

    // The whole stream replays after the end: queued first, then the run's own events.
    let full = call(
        &gw,
        KEY_A,
        "GET",
        &format!("/v1/responses/{id}?stream=true"),
        None,
    )
    .await;
    assert_eq!(full.status, 200, "{}", full.text);
    let events = assert_valid_sse_stream(&full.text);
    assert_eq!(
        &types(&events)[..3],
        [
            "response.created",
            "response.queued",
            "response.in_progress"
        ]
    );
    assert_eq!(events[0]["response"]["status"], "queued");
    let last = events.last().unwrap();
    assert_eq!(last["type"], "response.completed");
    assert_eq!(
        last["response"], done,
        "the stored object is the terminal event's"
    );

    // Resumed after N: exactly the events after N.
    let n = 4;
    let tail = call(
        &gw,
        KEY_A,
        "GET",
        &format!("/v1/responses/{id}?stream=true&starting_after={n}"),
        None,
    )
    .await;
    let tail: Vec<Value> = parse_sse(&tail.text)
        .into_iter()
        .map(|(_, v)| v)
        .filter(|v| v.is_object())
        .collect();
    assert_eq!(tail, events[n as usize + 1..], "no gap, no duplicate");
    assert_eq!(mock.hits("/v1/"), 1, "replays never call upstream");
}

#[actix_web::test]
async fn a_stream_survives_its_client_leaving_and_resumes_without_gaps() {
    let mock = slow_mock();
    let gw = start_gateway(&yaml(&mock, ""));
    let body = json!({"model": "gpt-4o-mini", "input": "Hi", "background": true, "stream": true});
    let mut first = Events::open(&gw, KEY_A, "POST", "/v1/responses", Some(body)).await;
    let mut seen = Vec::new();
    while seen.len() < 5 {
        seen.push(first.next().await.unwrap());
    }
    assert_eq!(
        types(&seen)[..3],
        [
            "response.created",
            "response.queued",
            "response.in_progress"
        ]
    );
    let id = seen[0]["response"]["id"].as_str().unwrap().to_owned();
    drop(first); // the client leaves mid-stream

    let after = seen.last().unwrap()["sequence_number"].as_u64().unwrap();
    let mut resumed = Events::open(
        &gw,
        KEY_A,
        "GET",
        &format!("/v1/responses/{id}?stream=true&starting_after={after}"),
        None,
    )
    .await;
    let rest = resumed.rest().await;
    assert_eq!(
        rest[0]["sequence_number"],
        after + 1,
        "starts right after N"
    );
    let all: Vec<Value> = seen.into_iter().chain(rest).collect();
    assert_eq!(
        seqs(&all),
        (0..all.len() as u64).collect::<Vec<_>>(),
        "no gap, no duplicate"
    );
    for event in &all {
        assert_valid_event(event);
    }
    assert_eq!(all.last().unwrap()["type"], "response.completed");
    let done = retrieve(&gw, &id).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(
        mock.cancelled_streams(),
        0,
        "the upstream call went on without the client"
    );
}

#[actix_web::test]
async fn cancel_stops_the_upstream_call_and_the_response_ends_cancelled() {
    let mock = slow_mock();
    let gw = start_gateway(&yaml(&mock, ""));
    let queued = create(
        &gw,
        json!({"model": "gpt-4o-mini", "input": "Hi", "background": true}),
    )
    .await;
    let id = queued["id"].as_str().unwrap();
    let mut follower = Events::open(
        &gw,
        KEY_A,
        "GET",
        &format!("/v1/responses/{id}?stream=true"),
        None,
    )
    .await;
    let mut seen = Vec::new();
    while !types(&seen).contains(&"response.output_text.delta") {
        seen.push(follower.next().await.unwrap());
    }

    let cancelled = call(
        &gw,
        KEY_A,
        "POST",
        &format!("/v1/responses/{id}/cancel"),
        None,
    )
    .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    let cancelled = cancelled.json();
    assert_valid_response(&cancelled);
    assert_eq!(cancelled["status"], "cancelled");

    // The events say so too: error (response_cancelled), then response.failed with the
    // cancelled response; the open message item ends incomplete.
    seen.extend(follower.rest().await);
    let raw = follower.raw.clone();
    let events = assert_valid_sse_stream(&raw);
    assert_eq!(events, seen);
    let n = events.len();
    assert_eq!(events[n - 2]["type"], "error");
    assert_eq!(events[n - 2]["error"]["code"], "response_cancelled");
    assert_eq!(events[n - 1]["type"], "response.failed");
    assert_eq!(events[n - 1]["response"]["status"], "cancelled");
    assert_eq!(events[n - 1]["response"], cancelled);

    // The upstream call was dropped.
    mock.wait_until("the upstream stream dropped", |m| m.cancelled_streams() > 0)
        .await;
    assert_eq!(retrieve(&gw, id).await, cancelled);
    // Idempotent.
    let again = call(
        &gw,
        KEY_A,
        "POST",
        &format!("/v1/responses/{id}/cancel"),
        None,
    )
    .await;
    assert_eq!((again.status, again.json()), (200, cancelled));
    assert_eq!(mock.hits("/v1/"), 1);
}

#[actix_web::test]
async fn cancel_before_the_first_byte_and_of_finished_or_foreground_responses() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&yaml(&mock, ""));
    // Waiting for a first byte that never comes.
    let queued = create(
        &gw,
        json!({"model": "gpt-4o-hang", "input": "Hi", "background": true}),
    )
    .await;
    let id = queued["id"].as_str().unwrap();
    wait_for(&gw, id, &["in_progress"]).await;
    mock.wait_for_hits("/v1/", 1).await;
    let cancelled = call(
        &gw,
        KEY_A,
        "POST",
        &format!("/v1/responses/{id}/cancel"),
        None,
    )
    .await
    .json();
    assert_eq!(cancelled["status"], "cancelled");
    assert_valid_response(&cancelled);
    let replay = call(
        &gw,
        KEY_A,
        "GET",
        &format!("/v1/responses/{id}?stream=true"),
        None,
    )
    .await;
    let events = assert_valid_sse_stream(&replay.text);
    assert_eq!(
        types(&events),
        [
            "response.created",
            "response.queued",
            "response.in_progress",
            "error",
            "response.failed"
        ]
    );

    // A finished one is answered unchanged.
    let queued = create(
        &gw,
        json!({"model": "gpt-4o-mini", "input": "Hi", "background": true}),
    )
    .await;
    let id = queued["id"].as_str().unwrap();
    let done = wait_for(&gw, id, &["completed"]).await;
    let reply = call(
        &gw,
        KEY_A,
        "POST",
        &format!("/v1/responses/{id}/cancel"),
        None,
    )
    .await;
    assert_eq!((reply.status, reply.json()), (200, done));

    // A foreground response cannot be cancelled or streamed again.
    let plain = call(
        &gw,
        KEY_A,
        "POST",
        "/v1/responses",
        Some(json!({"model": "gpt-4o-mini", "input": "Hi"})),
    )
    .await;
    let id = plain.json()["id"].as_str().unwrap().to_owned();
    for (method, path) in [
        ("POST", format!("/v1/responses/{id}/cancel")),
        ("GET", format!("/v1/responses/{id}?stream=true")),
    ] {
        let reply = call(&gw, KEY_A, method, &path, None).await;
        assert_eq!(reply.status, 400, "{method} {path}: {}", reply.text);
        assert_valid_error_body(&reply.json());
    }
    // Background needs storage.
    let reply = call(
        &gw,
        KEY_A,
        "POST",
        "/v1/responses",
        Some(json!({"model": "gpt-4o-mini", "input": "Hi", "background": true, "store": false})),
    )
    .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["error"]["param"], "store");
}

#[actix_web::test]
async fn background_responses_are_owner_only() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&yaml(&mock, ""));
    let queued = create(
        &gw,
        json!({"model": "gpt-4o-hang", "input": "Hi", "background": true}),
    )
    .await;
    let id = queued["id"].as_str().unwrap();
    for (method, path) in [
        ("GET", format!("/v1/responses/{id}")),
        ("GET", format!("/v1/responses/{id}?stream=true")),
        ("POST", format!("/v1/responses/{id}/cancel")),
    ] {
        let reply = call(&gw, KEY_B, method, &path, None).await;
        assert_eq!(reply.status, 404, "{method} {path}: {}", reply.text);
        assert_eq!(reply.json()["error"]["code"], "response_not_found");
    }
    assert_ne!(
        retrieve(&gw, id).await["status"],
        "cancelled",
        "the intruder's cancel did nothing"
    );
    let reply = call(
        &gw,
        KEY_A,
        "POST",
        &format!("/v1/responses/{id}/cancel"),
        None,
    )
    .await;
    assert_eq!(reply.json()["status"], "cancelled");
}

#[actix_web::test]
async fn running_background_responses_are_bounded_per_caller_and_in_total() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&yaml(
        &mock,
        "background:\n  max_running: 2\n  max_per_caller: 1\n",
    ));
    let hang = json!({"model": "gpt-4o-hang", "input": "Hi", "background": true});
    let first = create(&gw, hang.clone()).await;
    let refused = call(&gw, KEY_A, "POST", "/v1/responses", Some(hang.clone())).await;
    assert_eq!(refused.status, 429, "{}", refused.text);
    assert_valid_error_body(&refused.json());
    assert_eq!(refused.json()["error"]["code"], "background_limit_reached");
    assert!(refused.text.contains("for this caller"), "{}", refused.text);
    let bobs = call(&gw, KEY_B, "POST", "/v1/responses", Some(hang.clone())).await;
    assert_eq!(bobs.status, 200, "another caller has their own share");
    let bob_id = bobs.json()["id"].as_str().unwrap().to_owned();
    // Two running: the total refuses before any caller's share.
    let id = first["id"].as_str().unwrap();
    call(
        &gw,
        KEY_A,
        "POST",
        &format!("/v1/responses/{id}/cancel"),
        None,
    )
    .await;
    let second = create(&gw, hang.clone()).await;
    let total = call(&gw, KEY_B, "POST", "/v1/responses", Some(hang.clone())).await;
    assert_eq!(total.status, 429, "{}", total.text);
    assert!(total.text.contains("on this gateway"), "{}", total.text);
    for id in [second["id"].as_str().unwrap(), bob_id.as_str()] {
        let key = if id == bob_id { KEY_B } else { KEY_A };
        let reply = call(
            &gw,
            key,
            "POST",
            &format!("/v1/responses/{id}/cancel"),
            None,
        )
        .await;
        assert_eq!(reply.json()["status"], "cancelled");
    }
    create(&gw, hang).await;
}

#[actix_web::test]
async fn the_drain_ends_running_background_responses_failed_after_the_grace_period() {
    let mock = MockUpstream::start();
    let yaml = format!(
        "server:\n  address: \"127.0.0.1:0\"\n  workers: 1\n  shutdown_timeout: 400ms\n{}",
        yaml(&mock, "")
    );
    let config = llm_gateway::config::Config::from_yaml(&yaml, &|_| None).unwrap();
    let running = llm_gateway::app::start(config).unwrap();
    let (handle, drain) = (running.server.handle(), running.drain.clone());
    let gw_url = format!("http://{}", running.addr);
    actix_web::rt::spawn(running.server);
    let gw = TestGateway::adopt(gw_url, handle.clone());
    let body = json!({"model": "gpt-4o-hang", "input": "Hi", "background": true, "stream": true});
    let mut events = Events::open(&gw, KEY_A, "POST", "/v1/responses", Some(body)).await;
    let mut seen = Vec::new();
    while seen.len() < 2 {
        seen.push(events.next().await.unwrap());
    }
    let id = seen[0]["response"]["id"].as_str().unwrap().to_owned();
    wait_for(&gw, &id, &["in_progress"]).await;

    let started = Instant::now();
    let grace = Duration::from_millis(400);
    let shutdown =
        actix_web::rt::spawn(async move { drain.shutdown(handle, Duration::ZERO, grace).await });
    seen.extend(events.rest().await);
    assert!(
        started.elapsed() >= grace,
        "the run had the whole grace period"
    );
    let events = assert_valid_sse_stream(&events.raw);
    assert_eq!(events, seen);
    let n = events.len();
    assert_eq!(events[n - 2]["error"]["code"], "server_shutting_down");
    assert_eq!(events[n - 1]["type"], "response.failed");
    assert_eq!(events[n - 1]["response"]["status"], "failed");
    assert_eq!(
        events[n - 1]["response"]["error"]["code"],
        "server_shutting_down"
    );
    tokio::time::timeout(PATIENCE, shutdown)
        .await
        .unwrap()
        .unwrap();
}

/// Two gateways sharing Redis (a fresh key prefix per test).
fn redis_pair(mock: &MockUpstream) -> (TestGateway, TestGateway) {
    let prefix = format!("bg-test-{}:", uuid_like());
    let store = format!(
        "conversations:\n  store: redis\n  ttl: \"5m\"\n  redis_url: \"redis://127.0.0.1:6379\"\n  key_prefix: \"{prefix}\"\n"
    );
    (
        start_gateway(&yaml(mock, &store)),
        start_gateway(&yaml(mock, &store)),
    )
}

fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{nanos:x}-{}", std::process::id())
}

#[actix_web::test]
async fn with_redis_another_replica_polls_and_cancels_a_running_response() {
    let mock = slow_mock();
    let (a, b) = redis_pair(&mock);
    let queued = create(
        &a,
        json!({"model": "gpt-4o-mini", "input": "Hi", "background": true}),
    )
    .await;
    let id = queued["id"].as_str().unwrap();
    // B sees it, and sees it run on A.
    assert_eq!(
        wait_for(&b, id, &["queued", "in_progress"]).await["background"],
        true
    );
    wait_for(&b, id, &["in_progress"]).await;
    let mut on_a = Events::open(
        &a,
        KEY_A,
        "GET",
        &format!("/v1/responses/{id}?stream=true"),
        None,
    )
    .await;
    let mut seen = Vec::new();
    while !types(&seen).contains(&"response.output_text.delta") {
        seen.push(on_a.next().await.unwrap());
    }

    // Cancelled from B while A runs it: A drops the upstream call and stores the end.
    let cancelled = call(
        &b,
        KEY_A,
        "POST",
        &format!("/v1/responses/{id}/cancel"),
        None,
    )
    .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    let cancelled = cancelled.json();
    assert_valid_response(&cancelled);
    assert_eq!(cancelled["status"], "cancelled");
    seen.extend(on_a.rest().await);
    assert_eq!(seen.last().unwrap()["response"], cancelled);
    assert_eq!(retrieve(&a, id).await, cancelled);
    mock.wait_until("the upstream stream dropped", |m| m.cancelled_streams() > 0)
        .await;
    // Owner-only across replicas too.
    let intruder = call(&b, KEY_B, "GET", &format!("/v1/responses/{id}"), None).await;
    assert_eq!(intruder.status, 404);
}

#[actix_web::test]
async fn with_redis_a_finished_background_response_is_visible_on_every_replica() {
    let mock = MockUpstream::start();
    let (a, b) = redis_pair(&mock);
    let queued = create(
        &a,
        json!({"model": "gpt-4o-mini", "input": "Hi", "background": true}),
    )
    .await;
    let id = queued["id"].as_str().unwrap();
    let done = wait_for(&b, id, &["completed"]).await;
    assert!(!output_text(&done).is_empty());
    assert_eq!(retrieve(&a, id).await, done);
    let reply = call(
        &b,
        KEY_A,
        "POST",
        &format!("/v1/responses/{id}/cancel"),
        None,
    )
    .await;
    assert_eq!(reply.json(), done, "finished: answered unchanged");
}

/// A replica that dies leaves no response `in_progress` forever: once its heartbeat expires,
/// another replica reading the response marks it `failed` (and stores that).
#[actix_web::test]
async fn with_redis_a_response_whose_replica_died_is_failed_by_another() {
    use std::io::{BufRead, BufReader};
    let mock = MockUpstream::start();
    let prefix = format!("bg-test-{}:", uuid_like());
    let store = format!(
        "conversations:\n  store: redis\n  ttl: \"5m\"\n  redis_url: \"redis://127.0.0.1:6379\"\n  key_prefix: \"{prefix}\"\nbackground:\n  heartbeat_timeout: 1s\n"
    );
    // Replica A is a process of its own, so it can die.
    let dir = std::env::temp_dir().join(format!("gw-bg-orphan-{}", uuid_like()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config.yaml");
    std::fs::write(
        &path,
        format!(
            "server:\n  address: \"127.0.0.1:0\"\n  workers: 1\n{}",
            yaml(&mock, &store)
        ),
    )
    .unwrap();
    let mut a = std::process::Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(["--config", path.to_str().unwrap()])
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(a.stdout.take().unwrap()).lines();
    let address = loop {
        let line = lines.next().expect("replica A logs").unwrap();
        if let Some(rest) = line.split("Gateway listening. address=").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    let b = start_gateway(&yaml(&mock, &store));
    let reply = reqwest::Client::new()
        .post(format!("http://{address}/v1/responses"))
        .header("authorization", format!("Bearer {KEY_A}"))
        .header("content-type", "application/json")
        .body(json!({"model": "gpt-4o-hang", "input": "hi", "background": true}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let id = reply.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    wait_for(&b, &id, &["in_progress"]).await;
    a.kill().unwrap();
    a.wait().unwrap();
    let failed = wait_for(&b, &id, &["failed"]).await;
    assert_eq!(failed["error"]["code"], "server_error");
    assert!(
        failed["error"]["message"]
            .as_str()
            .unwrap()
            .contains("stopped")
    );
    // Stored: a fresh read says the same.
    assert_eq!(retrieve(&b, &id).await["status"], "failed");
    std::fs::remove_dir_all(dir).unwrap();
}

/// With Redis, a background response running on replica A is replayed and followed live from
/// replica B, from any sequence number, without gaps or duplicates.
#[actix_web::test]
async fn with_redis_another_replica_resumes_the_stream_live() {
    let mock = slow_mock();
    let (a, b) = redis_pair(&mock);
    let queued = create(
        &a,
        json!({"model": "gpt-4o-mini", "input": "Hi", "background": true}),
    )
    .await;
    let id = queued["id"].as_str().unwrap();
    // B follows from after event 2 while A is still streaming it.
    wait_for(&b, id, &["in_progress"]).await;
    let mut resumed = Events::open(
        &b,
        KEY_A,
        "GET",
        &format!("/v1/responses/{id}?stream=true&starting_after=2"),
        None,
    )
    .await;
    let tail = resumed.rest().await;
    assert_eq!(tail.first().unwrap()["sequence_number"], 3);
    let numbers = seqs(&tail);
    assert!(numbers.windows(2).all(|w| w[1] == w[0] + 1), "{numbers:?}");
    assert_eq!(tail.last().unwrap()["type"], "response.completed");
    for event in &tail {
        common::spec::assert_valid_event(event);
    }
    // The same events as A's own log.
    let mut whole = Events::open(
        &a,
        KEY_A,
        "GET",
        &format!("/v1/responses/{id}?stream=true"),
        None,
    )
    .await;
    let all = whole.rest().await;
    assert_eq!(&all[3..], &tail[..]);
    assert_eq!(types(&all)[0], "response.created");
}
