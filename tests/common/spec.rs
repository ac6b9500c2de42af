//! Owns Open Responses conformance checks for tests: JSON-Schema validation against tests/spec/openapi.json
//! (responses, streaming events), the hand-written error-body check, and the SSE parser / stream validator.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use serde_json::{Value, json};

/// The Open Responses spec, compiled lazily per schema name and cached.
pub struct SpecValidator {
    components: Value,
    /// Event `type` → `*StreamingEvent` schema name, read from the spec.
    event_schemas: HashMap<String, String>,
    compiled: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

static SPEC: LazyLock<SpecValidator> = LazyLock::new(SpecValidator::load);

impl SpecValidator {
    /// The shared instance (loaded from `tests/spec/openapi.json` on first use).
    pub fn get() -> &'static SpecValidator {
        &SPEC
    }

    fn load() -> Self {
        let text = include_str!("../spec/openapi.json");
        let spec: Value = serde_json::from_str(text).expect("tests/spec/openapi.json is not JSON");
        let components = spec["components"].clone();
        let schemas = components["schemas"]
            .as_object()
            .expect("spec has no components.schemas");
        let event_schemas = schemas
            .iter()
            .filter(|(name, _)| name.ends_with("StreamingEvent"))
            .filter_map(|(name, schema)| {
                let event_type = schema["properties"]["type"]["enum"][0].as_str()?;
                Some((event_type.to_owned(), name.clone()))
            })
            .collect();
        Self {
            components,
            event_schemas,
            compiled: Mutex::new(HashMap::new()),
        }
    }

    /// The schema name for a streaming event type, e.g. `response.created` → `ResponseCreatedStreamingEvent`.
    pub fn event_schema_name(&self, event_type: &str) -> Option<&str> {
        self.event_schemas.get(event_type).map(String::as_str)
    }

    /// Every streaming event type the spec defines.
    pub fn event_types(&self) -> Vec<&str> {
        let mut types: Vec<&str> = self.event_schemas.keys().map(String::as_str).collect();
        types.sort_unstable();
        types
    }

    fn validator(&self, schema_name: &str) -> Arc<jsonschema::Validator> {
        let mut compiled = self.compiled.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(v) = compiled.get(schema_name) {
            return v.clone();
        }
        assert!(
            self.components["schemas"].get(schema_name).is_some(),
            "the spec has no schema named {schema_name:?}"
        );
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$ref": format!("#/components/schemas/{schema_name}"),
            "components": self.components,
        });
        let validator = Arc::new(
            jsonschema::draft202012::new(&schema)
                .unwrap_or_else(|e| panic!("cannot compile spec schema {schema_name}: {e}")),
        );
        compiled.insert(schema_name.to_owned(), validator.clone());
        validator
    }

    /// Validates `instance` against `components.schemas.<schema_name>`; `Err` lists the violations.
    pub fn validate(&self, schema_name: &str, instance: &Value) -> Result<(), Vec<String>> {
        let validator = self.validator(schema_name);
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .map(|e| format!("at {:?}: {e}", e.instance_path().as_str()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Panics (listing the violations and the instance) unless `instance` matches the schema.
    pub fn assert_valid(&self, schema_name: &str, instance: &Value) {
        if let Err(errors) = self.validate(schema_name, instance) {
            let shown: Vec<&str> = errors.iter().take(8).map(String::as_str).collect();
            panic!(
                "not a valid {schema_name} ({} violation(s)):\n  {}\ninstance: {}",
                errors.len(),
                shown.join("\n  "),
                pretty(instance)
            );
        }
    }
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

/// Panics unless `body` is a spec-valid `ResponseResource`.
pub fn assert_valid_response(body: &Value) {
    SpecValidator::get().assert_valid("ResponseResource", body);
}

/// Panics unless `event` validates against the `*StreamingEvent` schema its `type` selects (unknown type: panic).
pub fn assert_valid_event(event: &Value) {
    let spec = SpecValidator::get();
    let Some(event_type) = event.get("type").and_then(Value::as_str) else {
        panic!("streaming event has no string `type`: {event}");
    };
    let Some(schema) = spec.event_schema_name(event_type) else {
        panic!(
            "unknown streaming event type {event_type:?} (spec types: {:?}): {event}",
            spec.event_types()
        );
    };
    spec.assert_valid(schema, event);
}

/// Panics unless `body` is `{"error":{"type":string,"code":string|null,"message":string,"param":string|null}}`
/// (the spec's HTTP error body has no schema; extra keys are allowed).
pub fn assert_valid_error_body(body: &Value) {
    let Some(error) = body.get("error").and_then(Value::as_object) else {
        panic!("error body has no `error` object: {}", pretty(body));
    };
    for (key, nullable) in [
        ("type", false),
        ("code", true),
        ("message", false),
        ("param", true),
    ] {
        match error.get(key) {
            Some(Value::String(_)) => {}
            Some(Value::Null) if nullable => {}
            Some(other) => panic!(
                "error.{key} must be a string{}, got {other}: {}",
                if nullable { " or null" } else { "" },
                pretty(body)
            ),
            None => panic!("error body lacks error.{key}: {}", pretty(body)),
        }
    }
}

/// Parses an SSE body leniently (LF or CRLF, comments skipped, multi-line data joined, a final unterminated frame
/// kept) into `(event name, data)`. The name is `"message"` when a frame has no `event:` line; data that is not JSON
/// (e.g. `[DONE]`) comes back as a JSON string.
pub fn parse_sse(body: &str) -> Vec<(String, Value)> {
    let normalized = body.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = Vec::new();
    for frame in normalized.split("\n\n") {
        let mut event = None;
        let mut data: Vec<&str> = Vec::new();
        for line in frame.lines() {
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "event" => event = Some(value.to_owned()),
                "data" => data.push(value),
                _ => {}
            }
        }
        if data.is_empty() {
            continue;
        }
        let data = data.join("\n");
        let value = serde_json::from_str(&data).unwrap_or(Value::String(data));
        out.push((event.unwrap_or_else(|| "message".to_owned()), value));
    }
    out
}

/// The JSON events of an SSE body that carries OpenAI's dialect beyond the spec: `sequence_number`
/// is 0, 1, 2, …, and every event validates against its spec schema unless `beyond_spec` says it
/// carries a type the spec does not define (the caller checks those itself). `what` (the provider)
/// heads every failure.
pub fn assert_dialect_events(
    what: &str,
    body: &str,
    beyond_spec: impl Fn(&Value) -> bool,
) -> Vec<Value> {
    let events: Vec<Value> = parse_sse(body)
        .into_iter()
        .map(|(_, data)| data)
        .filter(Value::is_object)
        .collect();
    let spec = SpecValidator::get();
    for (seq, event) in events.iter().enumerate() {
        assert_eq!(event["sequence_number"], seq, "{what}: {event}");
        if !beyond_spec(event) {
            let kind = event["type"].as_str().unwrap();
            let schema = spec
                .event_schema_name(kind)
                .unwrap_or_else(|| panic!("{what}: {event}"));
            if let Err(errors) = spec.validate(schema, event) {
                panic!("{what}: {event} does not validate against {schema}: {errors:#?}");
            }
        }
    }
    events
}

const TERMINAL: [&str; 3] = [
    "response.completed",
    "response.incomplete",
    "response.failed",
];

/// Strictly checks an Open Responses SSE body and returns its JSON events in order. Rules: LF line endings only;
/// every frame is `event: X\ndata: {json}\n\n` with X == json.type (comment-only keep-alive frames allowed);
/// `sequence_number` is 0, 1, 2, ...; exactly one terminal event (response.completed | .incomplete | .failed) and it
/// is the last event; an `error` event is immediately followed by `response.failed`; the body ends with
/// `data: [DONE]\n\n`; every event validates against its spec schema.
pub fn assert_valid_sse_stream(body: &str) -> Vec<Value> {
    if let Some(pos) = body.find('\r') {
        let start = body[..pos].rfind("\n\n").map_or(0, |p| p + 2);
        let frame = body[start..].split("\n\n").next().unwrap_or_default();
        panic!("SSE stream contains CR (must use LF line endings only) in frame:\n{frame:?}");
    }
    assert!(
        body.ends_with("data: [DONE]\n\n"),
        "SSE stream must end with `data: [DONE]\\n\\n`; it ends with:\n{:?}",
        &body[body.len().saturating_sub(300)..]
    );
    let frames: Vec<&str> = body[..body.len() - 2].split("\n\n").collect();
    let mut events: Vec<Value> = Vec::new();
    for (index, frame) in frames.iter().enumerate() {
        let is_last = index + 1 == frames.len();
        if frame.is_empty() {
            panic!(
                "empty SSE frame (extra blank line) at frame #{index}; previous frame:\n{:?}",
                frames.get(index.wrapping_sub(1))
            );
        }
        if frame.lines().all(|l| l.starts_with(':')) {
            continue;
        }
        if *frame == "data: [DONE]" {
            assert!(
                is_last,
                "`data: [DONE]` is frame #{index} but not the last frame; next frame:\n{}",
                frames[index + 1]
            );
            continue;
        }
        assert!(
            !is_last,
            "the last frame must be `data: [DONE]`, got:\n{frame}"
        );
        let lines: Vec<&str> = frame.lines().collect();
        let (Some(name), Some(data), 2) = (
            lines.first().and_then(|l| l.strip_prefix("event: ")),
            lines.get(1).and_then(|l| l.strip_prefix("data: ")),
            lines.len(),
        ) else {
            panic!("frame #{index} is not exactly `event: X\\ndata: {{json}}`:\n{frame}");
        };
        let json: Value = serde_json::from_str(data)
            .unwrap_or_else(|e| panic!("frame #{index}: data is not JSON ({e}):\n{frame}"));
        let event_type = json.get("type").and_then(Value::as_str);
        assert!(
            event_type == Some(name),
            "frame #{index}: SSE event name {name:?} != JSON type {event_type:?}:\n{frame}"
        );
        let expected = events.len() as u64;
        let seq = json.get("sequence_number").and_then(Value::as_u64);
        assert!(
            seq == Some(expected),
            "frame #{index}: sequence_number should be {expected} (start at 0, +1 per event), got {:?}:\n{frame}",
            json.get("sequence_number")
        );
        if let Some(prev) = events.last() {
            let prev_type = prev["type"].as_str().unwrap_or_default();
            assert!(
                !TERMINAL.contains(&prev_type),
                "frame #{index}: event after the terminal {prev_type} (the terminal event must be last):\n{frame}"
            );
            assert!(
                prev_type != "error" || name == "response.failed",
                "frame #{index}: `error` must be immediately followed by response.failed, got {name}:\n{frame}"
            );
        }
        if let Err(errors) = SpecValidator::get().validate(spec_name(name, frame), &json) {
            panic!(
                "frame #{index}: {name} does not match the spec:\n  {}\nframe:\n{frame}",
                errors.join("\n  ")
            );
        }
        events.push(json);
    }
    let last_type = events
        .last()
        .and_then(|e| e["type"].as_str())
        .unwrap_or("<no events>");
    assert!(
        TERMINAL.contains(&last_type),
        "stream has no terminal event (response.completed|response.incomplete|response.failed); last event: {}",
        events
            .last()
            .map(Value::to_string)
            .unwrap_or_else(|| "<none>".into())
    );
    events
}

fn spec_name(event_type: &str, frame: &str) -> &'static str {
    SpecValidator::get()
        .event_schema_name(event_type)
        .unwrap_or_else(|| panic!("unknown streaming event type {event_type:?} in frame:\n{frame}"))
}
