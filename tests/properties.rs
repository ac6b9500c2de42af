//! Property tests (bounded, deterministic per run): the request parser, the SSE decoder and
//! every provider's translators take arbitrary input without panicking, and whatever they
//! accept comes out valid against the Open Responses spec.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::spec::{assert_valid_event, assert_valid_response};
use llm_gateway::{
    api::CreateResponse,
    config::{Config, ProviderConfig},
    engine::validate_request,
    http::body::parse_json,
    providers::{Call, Provider},
    stream::{ResponseContext, ResponseEmitter, SseDecoder},
};
use proptest::prelude::*;
use serde_json::{Value, json};

/// Cases per property: enough to find shallow bugs, cheap enough for every CI run.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 96,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Arbitrary JSON of bounded depth and size.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[a-z_.]{0,12}".prop_map(Value::String),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The request fields the gateway reads, each given an arbitrary value.
const FIELDS: &[&str] = &[
    "model",
    "input",
    "instructions",
    "previous_response_id",
    "include",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "max_tool_calls",
    "text",
    "temperature",
    "top_p",
    "presence_penalty",
    "frequency_penalty",
    "top_logprobs",
    "max_output_tokens",
    "reasoning",
    "truncation",
    "store",
    "stream",
    "metadata",
    "service_tier",
    "provider",
    "background",
];

/// Input items of every kind, with arbitrary strings where the caller chooses them.
fn input_item() -> impl Strategy<Value = Value> {
    let text = any::<String>();
    prop_oneof![
        (prop::sample::select(vec!["user", "assistant", "system", "developer"]), text)
            .prop_map(|(role, t)| json!({"type": "message", "role": role, "content": t})),
        text.prop_map(|t| json!({"type": "message", "role": "user", "content": [
            {"type": "input_text", "text": t},
            {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo="}
        ]})),
        text.prop_map(|t| json!({"type": "message", "role": "assistant", "content": [
            {"type": "output_text", "text": t, "annotations": []}
        ]})),
        ("[a-z0-9_]{1,8}", "[a-zA-Z_]{1,10}", text).prop_map(|(id, name, args)| json!({
            "type": "function_call", "call_id": format!("call_{id}"), "name": name, "arguments": args
        })),
        ("[a-z0-9_]{1,8}", text).prop_map(|(id, out)| json!({
            "type": "function_call_output", "call_id": format!("call_{id}"), "output": out
        })),
        text.prop_map(|t| json!({"type": "reasoning", "summary": [{"type": "summary_text", "text": t}]})),
    ]
}

/// One instance per provider, built once (a reqwest client is costly to build).
fn providers() -> &'static [Provider] {
    static PROVIDERS: std::sync::OnceLock<Vec<Provider>> = std::sync::OnceLock::new();
    PROVIDERS.get_or_init(build_providers)
}

fn build_providers() -> Vec<Provider> {
    let yaml = "providers:\n  openai: { api_key: k, base_url: http://127.0.0.1:9/v1 }\n  azureopenai: { api_key: k, endpoint: http://127.0.0.1:9, deployment_id: d }\n  anthropic: { api_key: k, base_url: http://127.0.0.1:9 }\n  google: { api_key: k, base_url: http://127.0.0.1:9 }\n";
    let config = Config::from_yaml(yaml, &|_| None).unwrap();
    config
        .providers
        .into_iter()
        .map(|p: ProviderConfig| Provider::new(p, reqwest::Client::new()))
        .collect()
}

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// The stream fixtures each provider's translator reads.
fn stream_fixtures(provider: &str) -> Vec<Vec<u8>> {
    let names: &[&str] = match provider {
        "openai" => &[
            "openai/responses_text_stream.sse",
            "openai/responses_tool_call_stream.sse",
        ],
        "azureopenai" => &[
            "azure-openai/chat_completion_text_stream.sse",
            "azure-openai/chat_completion_tool_call_stream.sse",
        ],
        "anthropic" => &[
            "anthropic/message_text_stream.sse",
            "anthropic/message_thinking_stream.sse",
            "anthropic/message_tool_use_stream.sse",
        ],
        _ => &[
            "gemini/stream_generate_content_text.sse",
            "gemini/stream_generate_content_function_call.sse",
        ],
    };
    names.iter().map(|n| fixture(n)).collect()
}

/// Cuts `bytes` at the given fractions (each in 0..1).
fn split<'a>(bytes: &'a [u8], cuts: &[f64]) -> Vec<&'a [u8]> {
    let mut at: Vec<usize> = cuts
        .iter()
        .map(|c| (c * bytes.len() as f64) as usize)
        .collect();
    at.sort_unstable();
    let mut pieces = Vec::new();
    let mut start = 0;
    for cut in at {
        pieces.push(&bytes[start..cut]);
        start = cut;
    }
    pieces.push(&bytes[start..]);
    pieces
}

/// Runs `chunks` through the decoder and `provider`'s stream translator. Returns the events
/// when the stream translated cleanly to its end. With `validate`, every event must be valid
/// against the spec (a corrupted stream may name item types no spec knows, which the OpenAI
/// dialect passes through: there only the absence of panics is checked).
fn translate_stream(provider: &Provider, chunks: &[&[u8]], validate: bool) -> Option<Vec<Value>> {
    let request: CreateResponse =
        serde_json::from_value(json!({"model": "m", "input": "hi", "stream": true})).unwrap();
    let input = request.input_items();
    let call = Call {
        request: &request,
        input: &input,
        model: "m",
        stream: true,
        request_id: "r",
        sealer: &sealer(),
    };
    let ctx = ResponseContext::fresh();
    let skeleton = llm_gateway::api::ResponseResource::in_progress(
        &request,
        &ctx.response_id,
        "m",
        ctx.created_at,
    );
    let mut emitter = ResponseEmitter::new(skeleton, &ctx, true);
    let mut translator = provider.stream_translator(call);
    let mut decoder = SseDecoder::new();
    let mut events = Vec::new();
    let mut ok = true;
    for chunk in chunks {
        let Ok(decoded) = decoder.feed(chunk) else {
            return None;
        };
        for event in decoded {
            if event.data.trim() == "[DONE]" {
                continue;
            }
            if let Err(err) = translator.on_data(&event.data, &mut emitter) {
                emitter.fail(err.to_object());
                ok = false;
            }
            events.extend(emitter.drain());
        }
    }
    if let Some(event) = decoder.finish()
        && translator.on_data(&event.data, &mut emitter).is_err()
    {
        ok = false;
    }
    if !emitter.is_finished()
        && let Err(err) = translator.on_end(&mut emitter)
    {
        emitter.fail(err.to_object());
        ok = false;
    }
    events.extend(emitter.drain());
    // Whatever happened, every event the client would see is valid.
    for event in events.iter().filter(|_| validate) {
        assert_valid_event(&serde_json::to_value(event).unwrap());
    }
    ok.then(|| {
        events
            .iter()
            .map(|e| serde_json::to_value(e).unwrap())
            .collect()
    })
}

proptest! {
    #![proptest_config(config())]

    /// Any bytes, any chunking: the decoder never panics and chunking never changes the events.
    #[test]
    fn sse_decoding_is_chunking_independent(
        bytes in prop::collection::vec(prop_oneof![any::<u8>(), Just(b'\n'), Just(b'\r'), Just(b':')], 0..2048),
        cuts in prop::collection::vec(0.0f64..1.0, 0..8),
    ) {
        let whole = SseDecoder::new().feed(&bytes).map(|mut e| { e.extend(SseDecoder::new().finish()); e });
        let mut decoder = SseDecoder::new();
        let mut pieces = Vec::new();
        let mut failed = false;
        for piece in split(&bytes, &cuts) {
            match decoder.feed(piece) {
                Ok(events) => pieces.extend(events),
                Err(_) => failed = true,
            }
        }
        if let (Ok(whole), false) = (whole, failed) {
            prop_assert_eq!(whole, pieces);
        }
    }

    /// Arbitrary values in every field the gateway reads: parsed or refused, never a panic.
    #[test]
    fn the_request_parser_never_panics(values in prop::collection::vec((prop::sample::select(FIELDS), json_value()), 0..8)) {
        let mut body = json!({"model": "gpt-4o", "input": "hi"});
        for (field, value) in values {
            body[field] = value;
        }
        if let Ok(request) = parse_json::<CreateResponse>(body.to_string().as_bytes()) {
            let _ = validate_request(&request);
        }
    }

    /// Arbitrary bytes as a request body: a 400, never a panic.
    #[test]
    fn arbitrary_bodies_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(request) = parse_json::<CreateResponse>(&bytes) {
            let _ = validate_request(&request);
        }
    }

    /// Arbitrary conversations through every provider's request translation: a request or an
    /// error naming the problem, never a panic.
    #[test]
    fn request_translation_never_panics(items in prop::collection::vec(input_item(), 1..8), instructions in any::<Option<String>>()) {
        let request: CreateResponse = serde_json::from_value(json!({
            "model": "m", "input": items, "instructions": instructions,
            "tools": [{"type": "function", "name": "f", "parameters": {"type": "object", "properties": {}}}]
        })).unwrap();
        let input = request.input_items();
        for provider in providers() {
            let call = Call { request: &request, input: &input, model: "m", stream: false, request_id: "r", sealer: &sealer() };
            let config = &provider.config;
            let _ = match config.kind {
                llm_gateway::api::ProviderKind::OpenAi => llm_gateway::providers::openai::build_request(call).map(|_| ()),
                llm_gateway::api::ProviderKind::Azure => llm_gateway::providers::azure::build_request(call, config).map(|_| ()),
                llm_gateway::api::ProviderKind::Anthropic => llm_gateway::providers::anthropic::build_request(call, config).map(|_| ()),
                llm_gateway::api::ProviderKind::Gemini => llm_gateway::providers::gemini::build_request(call, config).map(|_| ()),
            };
        }
    }

    /// Every provider's real stream fixtures, cut anywhere: the same valid events whatever the
    /// chunking; with bytes flipped, failures are clean and every event stays valid.
    #[test]
    fn stream_translation_survives_any_chunking_and_corruption(
        cuts in prop::collection::vec(0.0f64..1.0, 0..12),
        flips in prop::collection::vec((0.0f64..1.0, any::<u8>()), 0..3),
    ) {
        for provider in providers() {
            for bytes in stream_fixtures(&provider.config.name) {
                let whole = translate_stream(provider, &[&bytes], true).expect("the fixture translates");
                let cut = translate_stream(provider, &split(&bytes, &cuts), true).expect("any chunking translates");
                let strip = |events: &[Value]| -> Vec<Value> {
                    // Ids and timestamps are minted per run.
                    events.iter().map(|e| e["type"].clone()).collect()
                };
                prop_assert_eq!(strip(&whole), strip(&cut));
                let mut corrupted = bytes.clone();
                for (at, byte) in &flips {
                    let i = (*at * corrupted.len() as f64) as usize;
                    if let Some(b) = corrupted.get_mut(i) {
                        *b = *byte;
                    }
                }
                let _ = translate_stream(provider, &split(&corrupted, &cuts), false);
            }
        }
    }

    /// Every provider's JSON answer parser on arbitrary JSON: an error or a valid response.
    #[test]
    fn json_answers_are_valid_or_refused(body in json_value()) {
        let request: CreateResponse = serde_json::from_value(json!({"model": "m", "input": "hi"})).unwrap();
        let input = request.input_items();
        for provider in providers() {
            let call = Call { request: &request, input: &input, model: "m", stream: false, request_id: "r", sealer: &sealer() };
            let ctx = ResponseContext::fresh();
            let skeleton = llm_gateway::api::ResponseResource::in_progress(&request, &ctx.response_id, "m", ctx.created_at);
            let mut emitter = ResponseEmitter::new(skeleton, &ctx, false);
            if provider.parse_response(call, body.to_string().as_bytes(), &mut emitter).is_ok() {
                if !emitter.is_finished() {
                    emitter.finish(llm_gateway::stream::Finish::Completed);
                }
                assert_valid_response(&serde_json::to_value(emitter.into_response()).unwrap());
            }
        }
    }
}

/// A sealer for the translators under test (any secret will do).
fn sealer() -> llm_gateway::seal::Sealer {
    llm_gateway::seal::Sealer::from_secret("property tests' sealing secret")
}
