//! Golden tests for the Chat Completions translator and the Azure transport, from the shared
//! fixtures (tests/fixtures/{openai,azure-openai}/).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod errors;
mod request;
mod response;
mod stream;
mod transport;

use std::{collections::BTreeMap, time::Duration};

use serde_json::{Value, json};

use super::AzureStream;
use crate::{
    api::{CreateResponse, Item, ProviderKind, ResponseResource},
    config::{ProviderConfig, Secret},
    error::GatewayError,
    providers::{Call, StreamTranslator},
    stream::{ResponseEmitter, SseDecoder},
};

fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn request(value: Value) -> CreateResponse {
    serde_json::from_value(value).unwrap()
}

/// Input items, accepting the `{role, content}` shorthand like the public API does.
fn items(value: Value) -> Vec<Item> {
    request(json!({ "input": value })).input_items()
}

fn call<'a>(request: &'a CreateResponse, input: &'a [Item], stream: bool) -> Call<'a> {
    Call {
        request,
        input,
        model: "gpt-4o",
        stream,
        request_id: "req_1",
        sealer: crate::providers::test_support::sealer(),
    }
}

fn emitter(request: &CreateResponse) -> ResponseEmitter {
    crate::providers::test_support::emitter(request, "gpt-4o", true)
}

fn config(base_url: &str) -> ProviderConfig {
    ProviderConfig {
        name: "azureopenai".into(),
        kind: ProviderKind::Azure,
        api_key: Secret::new("test-key"),
        base_url: base_url.into(),
        deployment_id: Some("default-dep".into()),
        deployments: BTreeMap::from([("gpt-4o".to_owned(), "dep-4o".to_owned())]),
        api_version: Some("2024-10-21".into()),
        models: vec!["gpt-4o".into()],
        max_concurrency: 4,
        max_queue: 4,
        queue_timeout: Duration::from_secs(1),
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        stream_idle_timeout: Duration::from_secs(5),
        failure_threshold: 3,
        cooldown: Duration::from_secs(1),
        default_max_tokens: 1024,
        rpm: None,
        tpm: None,
        max_response_bytes: 64 * 1024 * 1024,
        key_source: "config".to_owned(),
        prompt_cache: false,
    }
}

/// The parts of a final response the translator decides.
fn summary(response: &ResponseResource) -> Value {
    let value = serde_json::to_value(response).unwrap();
    json!({
        "status": value["status"],
        "incomplete_details": value["incomplete_details"],
        "model": value["model"],
        "output": value["output"],
        "usage": value["usage"],
    })
}

/// What a stream run produced: every event as JSON, the final response, and the outcome.
struct StreamRun {
    events: Vec<Value>,
    response: ResponseResource,
    result: Result<(), GatewayError>,
}

/// Feeds `bytes` split at `cuts` through the SSE decoder into a fresh `AzureStream`.
fn run_stream(bytes: &[u8], cuts: &[usize]) -> StreamRun {
    let request = CreateResponse::default();
    let mut out = emitter(&request);
    let mut translator = AzureStream::new(call(&request, &[], true), "azureopenai".into());
    let mut decoder = SseDecoder::new();
    let mut result = Ok(());
    let mut start = 0;
    let ends = cuts.iter().copied().chain([bytes.len()]);
    'feed: for end in ends {
        for event in decoder.feed(&bytes[start..end]).unwrap() {
            if event.data.trim() == "[DONE]" {
                continue;
            }
            result = translator.on_data(&event.data, &mut out);
            if result.is_err() {
                break 'feed;
            }
        }
        start = end;
    }
    if result.is_ok() {
        result = translator.on_end(&mut out);
    }
    let events = out
        .drain()
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect();
    StreamRun {
        events,
        response: out.into_response(),
        result,
    }
}

/// Whole, byte by byte and at pseudo-random cuts: all must give the same events.
fn run_stream_all_splits(bytes: &[u8]) -> StreamRun {
    let whole = run_stream(bytes, &[]);
    let bytewise: Vec<usize> = (1..bytes.len()).collect();
    assert_eq!(
        run_stream(bytes, &bytewise).events,
        whole.events,
        "byte-by-byte"
    );
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..5 {
        let mut cuts = Vec::new();
        let mut at = 0;
        loop {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            at += 1 + (seed >> 33) as usize % 97;
            if at >= bytes.len() {
                break;
            }
            cuts.push(at);
        }
        assert_eq!(
            run_stream(bytes, &cuts).events,
            whole.events,
            "random cuts {cuts:?}"
        );
    }
    whole
}

fn event_types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

/// Splits a `.http` fixture into status, headers and body.
fn http_fixture(path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    crate::providers::test_support::parse_http(&fixture(path))
}
