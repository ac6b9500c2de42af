//! Timeouts (connect, first byte, deadline, idle stream), SSE keep-alive, the graceful drain,
//! and losing an upstream instance under load.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use common::{
    gateway::{post_raw, post_responses, providers_yaml, start_gateway, start_gateway_with_server},
    mock_upstream::{Behaviour, MockOptions, MockUpstream},
    spec::assert_valid_sse_stream,
};
use gateway_actors::{BreakerState, Status};
use llm_gateway::{
    api::CreateResponse,
    auth::Caller,
    config::Config,
    engine::{Engine, Execution},
};
use serde_json::json;

fn openai_at(base: &str, extra: &str) -> String {
    format!("providers:\n  openai:\n    api_key: k\n    base_url: {base}/v1\n{extra}")
}

/// A listener whose accept queue is full: the kernel drops new SYNs, so connects hang.
fn black_hole() -> (
    tokio::net::TcpListener,
    Vec<std::net::TcpStream>,
    SocketAddr,
) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1).unwrap();
    let addr = listener.local_addr().unwrap();
    let fillers = (0..4)
        .filter_map(|_| {
            std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)).ok()
        })
        .collect();
    (listener, fillers, addr)
}

#[actix_web::test]
async fn connect_timeout_applies_to_the_upstream_client() {
    let (_listener, _fillers, addr) = black_hole();
    let gw = start_gateway(&format!(
        "{}routing:\n  retries: 0\n",
        openai_at(&format!("http://{addr}"), "    connect_timeout: 300ms\n")
    ));
    let started = Instant::now();
    let reply = post_responses(&gw, &json!({"model": "gpt-4o", "input": "hi"})).await;
    assert_eq!(reply.status, 504, "{}", reply.text);
    assert_eq!(reply.json()["error"]["code"], "upstream_timeout");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[actix_web::test]
async fn time_to_first_byte_and_the_overall_deadline_are_enforced() {
    let mock = MockUpstream::start();
    let gw = start_gateway(&format!(
        "{}routing:\n  retries: 1\n  retry_backoff: 10ms\n",
        openai_at(&mock.base_url(), "    request_timeout: 300ms\n")
    ));
    let started = Instant::now();
    let reply = post_responses(&gw, &json!({"model": "gpt-4o-hang", "input": "hi"})).await;
    assert_eq!(reply.status, 504, "{}", reply.text);
    assert_eq!(reply.json()["error"]["code"], "upstream_timeout");
    assert_eq!(
        mock.hits("/v1/responses"),
        2,
        "a timeout before the first byte is retried"
    );
    assert!(started.elapsed() >= Duration::from_millis(600));

    let deadline = start_gateway(&format!(
        "{}routing:\n  retries: 5\n  deadline: 500ms\n",
        openai_at(&mock.base_url(), "")
    ));
    let started = Instant::now();
    let reply = post_responses(&deadline, &json!({"model": "gpt-4o-hang", "input": "hi"})).await;
    assert_eq!(reply.status, 504, "{}", reply.text);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(500) && took < Duration::from_secs(3),
        "{took:?}"
    );
}

#[actix_web::test]
async fn an_idle_stream_ends_with_error_and_failed() {
    let mock = MockUpstream::start_with(MockOptions {
        chunk_delay: Duration::from_millis(800),
        ..MockOptions::default()
    });
    let gw = start_gateway(&openai_at(
        &mock.base_url(),
        "    stream_idle_timeout: 200ms\n",
    ));
    let reply = post_responses(
        &gw,
        &json!({"model": "gpt-4o", "input": "hi", "stream": true}),
    )
    .await;
    assert_eq!(reply.status, 200, "committed at the first event");
    let events = assert_valid_sse_stream(&reply.text);
    let n = events.len();
    assert_eq!(events[n - 2]["type"], "error");
    assert_eq!(events[n - 2]["error"]["code"], "upstream_timeout");
    assert_eq!(events[n - 1]["type"], "response.failed");
    assert_eq!(
        mock.hits("/v1/responses"),
        1,
        "never retried after the first byte"
    );
}

#[actix_web::test]
async fn keep_alive_comments_fill_silences_on_sse_only() {
    let mock = MockUpstream::start_with(MockOptions {
        chunk_delay: Duration::from_millis(350),
        ..MockOptions::default()
    });
    let gw = start_gateway_with_server(
        &providers_yaml(&mock, &["google"], ""),
        "  keepalive: 100ms\n",
    );
    let reply = post_responses(
        &gw,
        &json!({"model": "gemini-2.5-flash", "input": "hi", "stream": true}),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert!(
        reply.text.matches(": keep-alive\n\n").count() >= 3,
        "{}",
        reply.text
    );
    let events = assert_valid_sse_stream(&reply.text);
    assert_eq!(events.last().unwrap()["type"], "response.completed");

    let chat = post_raw(
        &gw,
        "/v1/chat/completions",
        json!({"model": "gemini-2.5-flash", "stream": true, "messages": [{"role": "user", "content": "hi"}]})
            .to_string(),
    )
    .await;
    assert_eq!(chat.status, 200);
    assert!(
        !chat.text.contains("keep-alive"),
        "Chat Completions rendering is untouched"
    );
}

fn request(model: &str, stream: bool) -> CreateResponse {
    serde_json::from_value(json!({"model": model, "input": "hi", "stream": stream})).unwrap()
}

/// Runs one request to its end: `Ok` only for a completed response.
async fn run(gateway: &Engine, id: usize, stream: bool) -> Result<(), String> {
    let caller = Caller::anonymous();
    match gateway
        .create_response(request("pool", stream), format!("req_{id}"), &caller)
        .await
    {
        Err(err) => Err(format!("request {id}: {err}")),
        Ok(Execution::Json(response, _)) => match response.status {
            llm_gateway::api::ResponseStatus::Completed => Ok(()),
            other => Err(format!("request {id} ended {other:?}")),
        },
        Ok(Execution::Stream(mut events)) => {
            let mut last = None;
            while let Some(batch) = events.next_batch().await {
                last = batch
                    .last()
                    .map(|e| serde_json::to_value(e).unwrap()["type"].clone());
            }
            match last {
                Some(kind) if kind == "response.completed" => Ok(()),
                other => Err(format!("stream {id} ended with {other:?}")),
            }
        }
    }
}

fn two_instances(a: &MockUpstream, b: &MockUpstream, strategy: &str, retries: u32) -> Config {
    let block = |name: &str, mock: &MockUpstream| {
        format!(
            "  {name}:\n    type: openai\n    api_key: key-{name}\n    base_url: {}/v1\n    failure_threshold: 3\n    cooldown: 60s\n",
            mock.base_url()
        )
    };
    let yaml = format!(
        "providers:\n{}{}models:\n  pool:\n    strategy: {strategy}\n    targets: [{{provider: a, model: gpt-4o-slow}}, {{provider: b, model: gpt-4o-slow}}]\nrouting:\n  retries: {retries}\n  retry_backoff: 20ms\n",
        block("a", a),
        block("b", b)
    );
    Config::from_yaml(&yaml, &|_| None).unwrap()
}

async fn breaker(gateway: &Engine, provider: &str) -> BreakerState {
    gateway.providers[provider]
        .actor
        .send(Status)
        .await
        .unwrap()
        .breaker
}

#[actix_web::test]
async fn killing_one_of_two_instances_mid_load_loses_no_request_that_had_not_streamed() {
    let (a, b) = (MockUpstream::start(), MockUpstream::start());
    let gateway = Engine::start(two_instances(&a, &b, "least_busy", 1)).unwrap();
    let load = futures::future::join_all((0..40).map(|i| run(&gateway, i, i % 2 == 0)));
    let kill = async {
        a.wait_until("traffic at a", |a| a.hits("/") > 0).await;
        drop(a);
    };
    let (results, ()) = futures::join!(load, kill);
    let lost: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    assert!(lost.is_empty(), "lost: {lost:?}");
    assert_eq!(
        breaker(&gateway, "a").await,
        BreakerState::Open,
        "traffic moved off a"
    );
    assert!(b.hits("/") >= 40, "b served everything that a could not");
}

#[actix_web::test]
async fn traffic_moves_after_exactly_one_breaker_threshold() {
    let (a, b) = (MockUpstream::start(), MockUpstream::start());
    let gateway = Engine::start(two_instances(&a, &b, "priority", 0)).unwrap();
    a.stop().await;
    for served in 1..=3 {
        assert_eq!(
            breaker(&gateway, "a").await,
            BreakerState::Closed,
            "before request {served}"
        );
        // The failed attempt's outcome is recorded before the request fails over to b
        // (`Permit::report`), so the next look at the breaker already counts it.
        run(&gateway, served, false).await.unwrap();
    }
    assert_eq!(
        breaker(&gateway, "a").await,
        BreakerState::Open,
        "after 3 failures"
    );
    assert_eq!(b.hits("/"), 3);
}

#[actix_web::test]
async fn drain_finishes_in_flight_work_then_closes_open_streams() {
    let mock = MockUpstream::start_with(MockOptions {
        chunk_delay: Duration::from_millis(250),
        slow_delay: Duration::from_millis(300),
        ..MockOptions::default()
    });
    let yaml = format!(
        "server:\n  address: \"127.0.0.1:0\"\n  workers: 1\n  shutdown_timeout: 700ms\n{}",
        openai_at(&mock.base_url(), "")
    );
    let running = llm_gateway::app::start(Config::from_yaml(&yaml, &|_| None).unwrap()).unwrap();
    let (url, handle, drain) = (
        format!("http://{}", running.addr),
        running.server.handle(),
        running.drain.clone(),
    );
    actix_web::rt::spawn(running.server);
    let client = reqwest::Client::new();
    assert_eq!(
        client
            .get(format!("{url}/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let stream = client
        .post(format!("{url}/v1/responses"))
        .body(json!({"model": "gpt-4o", "input": "hi", "stream": true}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let slow_json = actix_web::rt::spawn({
        let (client, url) = (client.clone(), url.clone());
        async move {
            let body = json!({"model": "gpt-4o-slow", "input": "hi"}).to_string();
            client
                .post(format!("{url}/v1/responses"))
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    // Both requests are at the upstream before the drain begins.
    mock.wait_for_hits("/v1/responses", 2).await;

    let started = Instant::now();
    let shutdown = actix_web::rt::spawn({
        let drain = drain.clone();
        async move {
            drain
                .shutdown(
                    handle,
                    Duration::from_millis(300),
                    Duration::from_millis(700),
                )
                .await
        }
    });
    // During the delay: not ready, but alive and still serving model requests.
    let fresh = reqwest::Client::new();
    let ready = fresh.get(format!("{url}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503, "not ready at once");
    assert!(drain.is_draining());
    assert_eq!(
        fresh
            .get(format!("{url}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200,
        "alive while draining"
    );
    let during_delay = fresh
        .post(format!("{url}/v1/responses"))
        .body(json!({"model": "gpt-4o", "input": "hi"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(during_delay.status(), 200, "served during the delay");
    assert_eq!(during_delay.headers()["connection"], "close");
    // After the delay: new model requests are refused with the error object; probes answer.
    let refused = loop {
        let reply = reqwest::Client::new()
            .post(format!("{url}/v1/responses"))
            .body(json!({"model": "gpt-4o", "input": "hi"}).to_string())
            .send()
            .await
            .unwrap();
        if reply.status() != 200 {
            break reply;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "never refused");
    };
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "refused before the delay"
    );
    assert_eq!(refused.status(), 503);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "server_shutting_down");
    assert_eq!(
        reqwest::Client::new()
            .get(format!("{url}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200,
        "probes still answer while in-flight work finishes"
    );
    assert_eq!(slow_json.await.unwrap(), 200, "in-flight requests finish");
    let text = stream.text().await.unwrap();
    let closed_after = started.elapsed();
    let events = assert_valid_sse_stream(&text);
    let n = events.len();
    assert_eq!(events[n - 2]["type"], "error");
    assert_eq!(events[n - 2]["error"]["code"], "server_shutting_down");
    assert_eq!(events[n - 1]["type"], "response.failed");
    assert!(
        closed_after >= Duration::from_millis(950) && closed_after < Duration::from_secs(4),
        "closed at the drain deadline: {closed_after:?}"
    );
    tokio::time::timeout(Duration::from_secs(5), shutdown)
        .await
        .unwrap()
        .unwrap();
}

#[actix_web::test]
async fn readyz_reports_the_drain() {
    let mock = MockUpstream::start();
    let yaml = format!(
        "server:\n  address: \"127.0.0.1:0\"\n  workers: 1\n{}",
        openai_at(&mock.base_url(), "")
    );
    let running = llm_gateway::app::start(Config::from_yaml(&yaml, &|_| None).unwrap()).unwrap();
    let url = format!("http://{}", running.addr);
    let (handle, drain) = (running.server.handle(), running.drain.clone());
    actix_web::rt::spawn(running.server);
    let client = reqwest::Client::new();
    assert_eq!(
        client
            .get(format!("{url}/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    drain.begin();
    let reply = client.get(format!("{url}/readyz")).send().await.unwrap();
    assert_eq!(reply.status(), 503);
    assert_eq!(
        client
            .get(format!("{url}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200,
        "alive"
    );
    mock.push_behaviour(Behaviour::Ok);
    handle.stop(false).await;
}
