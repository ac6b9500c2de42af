//! Shared by the observability test binaries: a global JSON log capture (gateway workers log
//! from their own threads, so a thread-local subscriber would miss them), gateway and HTTP
//! helpers, and the Prometheus text reader. Used with `mod common; mod observability_support;`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod prometheus_text;

use std::{
    io::Write,
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, Instant},
};

use serde_json::Value;

use self::prometheus_text::assert_valid_exposition;
use crate::common::{
    gateway::{TestGateway, get},
    mock_upstream::MockUpstream,
};

// === log capture ===

#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs (once) a global JSON subscriber writing into memory: gateway workers log from
/// their own threads, so a thread-local test subscriber would miss them.
pub fn logs() -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        tracing_subscriber::fmt()
            .json()
            .with_env_filter("info")
            .with_writer(move || writer.clone())
            .init();
        captured
    })
}

/// Every captured JSON line whose fields carry `request_id`.
pub fn lines_for(request_id: &str) -> Vec<Value> {
    let bytes = logs().0.lock().unwrap().clone();
    String::from_utf8_lossy(&bytes)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["fields"]["request_id"] == request_id)
        .collect()
}

/// The one "Request finished." line of `request_id` (waits for it: disconnects log late).
pub async fn finished_line(request_id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let finished: Vec<Value> = lines_for(request_id)
            .into_iter()
            .filter(|v| v["fields"]["message"] == "Request finished.")
            .collect();
        if !finished.is_empty() || Instant::now() > deadline {
            assert_eq!(finished.len(), 1, "one line per request: {finished:?}");
            return finished[0]["fields"].clone();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One OpenAI-type instance called `name` at `mock`, plus `extra` top-level YAML.
pub fn openai_instance(mock: &MockUpstream, name: &str, extra: &str) -> String {
    let base = mock.base_url();
    format!(
        "providers:\n  {name}:\n    type: openai\n    api_key: test-openai-key\n    base_url: {base}/v1\n    models: [gpt-4o, gpt-4o-mini]\n{extra}"
    )
}

pub async fn post(
    gw: &TestGateway,
    body: &Value,
    id: Option<&str>,
    token: Option<&str>,
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(format!("{}/v1/responses", gw.url))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(id) = id {
        request = request.header("x-request-id", id);
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

pub async fn get_with(gw: &TestGateway, path: &str, token: Option<&str>) -> (u16, String) {
    let mut request = reqwest::Client::new().get(format!("{}{path}", gw.url));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

pub async fn scrape(gw: &TestGateway) -> String {
    let reply = get(gw, "/metrics").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(
        reply
            .header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    assert_valid_exposition(&reply.text);
    reply.text
}

/// gpt-4o list price (2.5 in, 10 out per 1M) for the fixture's 14 input and 50 output tokens.
pub const GPT_4O_FIXTURE_COST: f64 = (14.0 * 2.5 + 50.0 * 10.0) / 1e6;
