//! Golden tests for the Anthropic provider: requests, responses, streams, errors, transport.

mod errors;
mod request;
mod response;
mod stream;
mod transport;

use std::path::PathBuf;

use serde_json::Value;

use crate::{
    api::{CreateResponse, Item, ResponseResource},
    config::{Config, ProviderConfig},
    providers::Call,
    stream::ResponseEmitter,
};

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/anthropic")
}

/// The bytes of `tests/fixtures/anthropic/<name>`.
fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_dir().join(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// Every fixture name with this extension, sorted.
fn fixtures_with(ext: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixture_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(ext))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no *{ext} fixtures");
    names
}

fn create(value: Value) -> CreateResponse {
    serde_json::from_value(value).unwrap()
}

/// The provider config from YAML (defaults: api_version 2023-06-01, default_max_tokens 4096).
fn config_with(extra: &str) -> ProviderConfig {
    let yaml = format!("providers:\n  anthropic:\n    api_key: test-key\n{extra}");
    let config = Config::from_yaml(&yaml, &|_| None).unwrap();
    config.provider("anthropic").unwrap().clone()
}

fn config() -> ProviderConfig {
    config_with("")
}

fn call<'a>(request: &'a CreateResponse, input: &'a [Item], stream: bool) -> Call<'a> {
    Call {
        request,
        input,
        model: "claude-sonnet-4-5",
        stream,
        request_id: "req_test",
        sealer: crate::providers::test_support::sealer(),
    }
}

fn emitter(request: &CreateResponse) -> ResponseEmitter {
    crate::providers::test_support::emitter(request, "model", true)
}

/// The parts of a response a translator decides.
fn summary(response: &ResponseResource) -> Value {
    let mut value = serde_json::to_value(response).unwrap();
    crate::providers::test_support::reveal(
        &mut value,
        crate::api::ProviderKind::Anthropic,
        "claude-sonnet-4-5",
    );
    serde_json::json!({
        "status": value["status"],
        "incomplete_details": value["incomplete_details"],
        "model": value["model"],
        "output": value["output"],
        "usage": value["usage"],
    })
}
