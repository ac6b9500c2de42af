//! Fleet mode: two gateways in one process sharing the real Redis at 127.0.0.1:6379 under one
//! key prefix per test hold a provider's `rpm` between them and share 429 cooling; a gateway
//! whose own Redis (a redis-server the test starts) dies keeps serving at its local share,
//! says so in `gateway_fleet_degraded`, and goes back to the fleet when Redis returns.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use common::{
    gateway::{TestGateway, get, post_responses, start_gateway},
    mock_upstream::{Behaviour, MockUpstream},
};
use serde_json::json;

use common::redis::{Prefix, REDIS_URL};

/// An OpenAI instance block named `name` at `mock`.
fn instance(name: &str, mock: &MockUpstream, extra: &str) -> String {
    format!(
        "  {name}:\n    type: openai\n    api_key: key-{name}\n    base_url: {}/v1\n{extra}",
        mock.base_url()
    )
}

/// `redis:` and `fleet:` blocks for `url` and `prefix` (fast heartbeats for the tests).
fn fleet_yaml(url: &str, prefix: &str) -> String {
    format!(
        "redis:\n  url: \"{url}\"\n  key_prefix: \"{prefix}\"\n  command_timeout: 200ms\nfleet:\n  heartbeat_interval: 200ms\nconversations:\n  store: memory\n"
    )
}

fn hi(model: &str) -> serde_json::Value {
    json!({"model": model, "input": "hi"})
}

#[actix_web::test]
async fn an_rpm_holds_across_two_replicas() {
    let prefix = Prefix::new();
    let mock = MockUpstream::start();
    // A refusal's retry-after is answered at once, never waited off inside the gateway.
    let yaml = format!(
        "providers:\n{}{}routing:\n  max_retry_wait: 10ms\n",
        instance("openai", &mock, "    rpm: 6\n"),
        fleet_yaml(REDIS_URL, &prefix.0)
    );
    let replicas = [start_gateway(&yaml), start_gateway(&yaml)];
    for i in 0..6 {
        let reply = post_responses(&replicas[i % 2], &hi("gpt-4o")).await;
        assert_eq!(reply.status, 200, "request {i}: {}", reply.text);
    }
    for gw in &replicas {
        let refused = post_responses(gw, &hi("gpt-4o")).await;
        assert_eq!(refused.status, 429, "{}", refused.text);
        let retry_after: u64 = refused.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=10).contains(&retry_after), "{retry_after}");
    }
    assert_eq!(mock.hits("/v1/responses"), 6, "six between both replicas");
}

#[actix_web::test]
async fn a_429_on_one_replica_cools_the_provider_on_the_other() {
    let prefix = Prefix::new();
    let (a, b) = (MockUpstream::start(), MockUpstream::start());
    let yaml = format!(
        "providers:\n{}{}models:\n  pool:\n    targets: [{{provider: a, model: gpt-4o}}, {{provider: b, model: gpt-4o}}]\n{}",
        instance("a", &a, ""),
        instance("b", &b, ""),
        fleet_yaml(REDIS_URL, &prefix.0)
    );
    let (one, two) = (start_gateway(&yaml), start_gateway(&yaml));
    // Both replicas are subscribed once each has served a request through `a`.
    for gw in [&one, &two] {
        assert_eq!(post_responses(gw, &hi("pool")).await.status, 200);
    }
    assert_eq!((a.hits("/"), b.hits("/")), (2, 0));
    a.push_behaviour(Behaviour::Status(
        429,
        r#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#
            .to_owned(),
        vec![("retry-after".to_owned(), "30".to_owned())],
    ));
    assert_eq!(post_responses(&one, &hi("pool")).await.status, 200);
    assert_eq!((a.hits("/"), b.hits("/")), (3, 1), "one failed over to b");
    // Replica two hears of it through Redis: poll it (bounded) until it routes around `a`.
    let heard = Instant::now();
    loop {
        let before = b.hits("/");
        assert_eq!(post_responses(&two, &hi("pool")).await.status, 200);
        if b.hits("/") > before {
            // The issue's bound is 250 ms; the assertion below allows a loaded CI machine more.
            eprintln!("cooling reached replica two after {:?}", heard.elapsed());
            break;
        }
        assert!(
            heard.elapsed() < Duration::from_secs(1),
            "replica two still sends to the cooling provider"
        );
    }
    let a_hits = a.hits("/");
    for _ in 0..3 {
        assert_eq!(post_responses(&two, &hi("pool")).await.status, 200);
    }
    assert_eq!(a.hits("/"), a_hits, "a cools on replica two too");
}

/// A redis-server on a free port, killed when dropped.
struct OwnRedis {
    port: u16,
    child: Child,
}

impl OwnRedis {
    fn start(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs");
        let server = Self { port, child };
        let client = redis::Client::open(server.url()).unwrap();
        let started = Instant::now();
        while client
            .get_connection()
            .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
            .is_err()
        {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "redis-server up"
            );
            std::thread::yield_now();
        }
        server
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `/metrics` (bounded) until `gateway_fleet_degraded` reads `value`.
async fn await_degraded(gw: &TestGateway, value: u8) {
    let started = Instant::now();
    let line = format!("gateway_fleet_degraded {value}");
    loop {
        let metrics = get(gw, "/metrics").await.text;
        if metrics.lines().any(|l| l.trim() == line) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "never saw `{line}`"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn without_redis_limits_hold_locally_and_the_fleet_comes_back() {
    let port = free_port();
    let mut redis = OwnRedis::start(port);
    let mock = MockUpstream::start();
    let yaml = format!(
        "providers:\n{}{}routing:\n  max_retry_wait: 10ms\n",
        instance("openai", &mock, "    rpm: 4\n"),
        fleet_yaml(&redis.url(), "fleet:")
    );
    let gw = start_gateway(&yaml);
    assert_eq!(post_responses(&gw, &hi("gpt-4o")).await.status, 200);
    await_degraded(&gw, 0).await;

    redis.kill();
    await_degraded(&gw, 1).await;
    // The only live replica's share is the whole limit, enforced in this process.
    for i in 0..4 {
        let reply = post_responses(&gw, &hi("gpt-4o")).await;
        assert_eq!(reply.status, 200, "request {i}: {}", reply.text);
    }
    let refused = post_responses(&gw, &hi("gpt-4o")).await;
    assert_eq!(refused.status, 429, "{}", refused.text);
    assert!(refused.header("retry-after").is_some());

    let _redis = OwnRedis::start(port);
    await_degraded(&gw, 0).await;
    // Back on the fleet's bucket (a fresh Redis: full again).
    assert_eq!(post_responses(&gw, &hi("gpt-4o")).await.status, 200);
}

/// A replica that stops hands its unused leases back to the fleet bucket at once, so the others
/// can use them this minute.
#[actix_web::test]
async fn a_stopping_replica_hands_its_unused_leases_back() {
    let prefix = Prefix::new();
    let mock = MockUpstream::start();
    let yaml = format!(
        "server:\n  address: \"127.0.0.1:0\"\n  workers: 1\nproviders:\n{}{}",
        instance("openai", &mock, "    rpm: 10\n"),
        fleet_yaml(REDIS_URL, &prefix.0).replace("fleet:\n", "fleet:\n  lease_fraction: 0.5\n")
    );
    let config = llm_gateway::config::Config::from_yaml(&yaml, &|_| None).unwrap();
    let running = llm_gateway::app::start(config).unwrap();
    let (url, handle, drain) = (
        format!("http://{}", running.addr),
        running.server.handle(),
        running.drain.clone(),
    );
    actix_web::rt::spawn(running.server);
    let reply = reqwest::Client::new()
        .post(format!("{url}/v1/responses"))
        .header("content-type", "application/json")
        .body(hi("gpt-4o").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let level = || {
        let mut conn = redis::Client::open(REDIS_URL)
            .unwrap()
            .get_connection()
            .unwrap();
        let level: Option<String> = redis::cmd("HGET")
            .arg(format!("{}limit:{{openai}}:rpm", prefix.0))
            .arg("level")
            .query(&mut conn)
            .unwrap();
        level.map_or(10.0, |l| l.parse::<f64>().unwrap())
    };
    // One batch (5 of the 10) is leased; one request used it.
    assert!(level() < 6.0, "{}", level());
    drain.shutdown(handle, Duration::ZERO, Duration::ZERO).await;
    // The four unused come back (polled, bounded: the hand-back follows the drain's close).
    let started = Instant::now();
    while level() < 8.5 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "leases not handed back: level {}",
            level()
        );
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Caller quotas when Redis goes away: the local share holds, and the spend acknowledged while
/// degraded reaches the fleet's budget once Redis is back.
#[actix_web::test]
async fn caller_quotas_hold_locally_without_redis_and_keep_the_spend() {
    let port = free_port();
    let mut redis = OwnRedis::start(port);
    let mock = MockUpstream::start();
    let yaml = format!(
        "providers:\n{}{}quotas:\n  default: {{rpm: 3, budget_usd: 1000}}\n",
        instance("openai", &mock, ""),
        fleet_yaml(&redis.url(), "quota:")
    );
    let gw = start_gateway(&yaml);
    assert_eq!(post_responses(&gw, &hi("gpt-4o")).await.status, 200);
    await_degraded(&gw, 0).await;

    redis.kill();
    await_degraded(&gw, 1).await;
    // The only live replica enforces the whole limit itself.
    for i in 0..3 {
        let reply = post_responses(&gw, &hi("gpt-4o")).await;
        assert_eq!(reply.status, 200, "request {i}: {}", reply.text);
        assert_eq!(reply.header("x-ratelimit-limit-requests"), Some("3"));
    }
    let refused = post_responses(&gw, &hi("gpt-4o")).await;
    assert_eq!(refused.status, 429, "{}", refused.text);
    assert_eq!(refused.json()["error"]["code"], "quota_exceeded");

    let _redis = OwnRedis::start(port);
    await_degraded(&gw, 0).await;
    // A fresh Redis knew nothing: what was spent while it was away arrives (polled, bounded).
    let started = Instant::now();
    loop {
        let usage = get(&gw, "/v1/usage").await.json();
        let spent = usage["limits"][0]["budget"]["spent_usd"].as_f64().unwrap();
        if spent > 0.0 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "{usage}");
    }
}
