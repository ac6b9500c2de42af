//! Gemini provider tests: golden requests, fixture responses and streams, error mapping and a
//! transport round trip against a local server.

mod errors;
mod request;
mod response;
mod stream;
mod transport;

use std::{collections::BTreeMap, path::Path, time::Duration};

use serde_json::{Value, json};

use crate::{
    api::{CreateResponse, Item, ProviderKind, ResponseResource},
    config::{ProviderConfig, Secret},
    providers::Call,
    stream::ResponseEmitter,
};

/// The request id used by every test call (synthesized call ids derive from it).
const REQUEST_ID: &str = "req1";

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/gemini")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn request(value: Value) -> CreateResponse {
    serde_json::from_value(value).unwrap()
}

fn call<'a>(request: &'a CreateResponse, input: &'a [Item], model: &'a str) -> Call<'a> {
    Call {
        request,
        input,
        model,
        stream: false,
        request_id: REQUEST_ID,
        sealer: crate::providers::test_support::sealer(),
    }
}

fn emitter(request: &CreateResponse, record: bool) -> ResponseEmitter {
    crate::providers::test_support::emitter(request, "model", record)
}

/// The parts of a response a translator decides.
fn projection(response: &ResponseResource) -> Value {
    let mut value = serde_json::to_value(response).unwrap();
    crate::providers::test_support::reveal(
        &mut value,
        crate::api::ProviderKind::Gemini,
        "gemini-2.5-flash",
    );
    json!({
        "status": value["status"],
        "model": value["model"],
        "incomplete_details": value["incomplete_details"],
        "error": value["error"],
        "usage": value["usage"],
        "output": value["output"],
    })
}

fn usage(input: u64, output: u64, cached: u64, reasoning: u64) -> Value {
    json!({
        "input_tokens": input,
        "output_tokens": output,
        "total_tokens": input + output,
        "input_tokens_details": {"cached_tokens": cached},
        "output_tokens_details": {"reasoning_tokens": reasoning},
    })
}

fn config(base_url: &str) -> ProviderConfig {
    ProviderConfig {
        name: "google".into(),
        kind: ProviderKind::Gemini,
        api_key: Secret::new("test-key"),
        base_url: base_url.into(),
        deployment_id: None,
        deployments: BTreeMap::new(),
        api_version: None,
        models: Vec::new(),
        max_concurrency: 4,
        max_queue: 4,
        queue_timeout: Duration::from_secs(1),
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(10),
        stream_idle_timeout: Duration::from_secs(10),
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

/// The signature carried by the function-call fixtures.
const CALL_SIG: &str = "EjRWSdlnjNAqMZmIpxKQ3roLijIB2bBccLAq7kDQcjWTkeqlvyEV3hbkHKExr8gyoXYpwAIgsH9ATCTNqT7HjNmPzkdthCQDHN7rGjFGgMbXZO0gOAm3oLods9KE23yY3auU";
/// The signature carried by the text fixtures.
const TEXT_SIG: &str = "EjRWCpYicHGtaSE6vbpSyR1Pdczrw8mfV8GFeaMNAtTEBoLSY2FxHPVIROEKcxuVqej3YYXCtW0Oora9mPhaSgjgWVXQCP5cj2tcgbWqeZI2uSaCpj23p00XjzLUNyfbliuG";
/// The joke in the text fixtures.
const JOKE: &str =
    "Why did the gateway break up with the proxy? It needed more personal space in its headers.";

const EURO: &str = "Spain won Euro 2024, defeating England 2–1 in the final. This victory marks Spain's record fourth European Championship title.";

/// The annotations of the grounded fixtures: byte spans 0..58 and 59..128 of `EURO`, in
/// characters (the en dash is three bytes, one character).
fn euro_annotations() -> Value {
    let cite = |url: &str, title: &str, start: usize, end: usize| {
        json!({"type":"url_citation","url":format!("https://vertexaisearch.cloud.google.com/grounding-api-redirect/{url}"),
               "title":title,"start_index":start,"end_index":end})
    };
    json!([
        cite("AbF9wXE1", "aljazeera.com", 0, 56),
        cite("AbF9wXE1", "aljazeera.com", 57, 126),
        cite("AbF9wXG2", "uefa.com", 57, 126)
    ])
}

fn search(id: &str, query: &str) -> Value {
    json!({"type":"web_search_call","id":id,"status":"completed","action":{"type":"search","query":query}})
}
