//! JSON lookups for asserting on what reached an upstream: where a value sits (as JSON pointers)
//! and which keys occur, so tests compare by position instead of by substring.

use serde_json::Value;

/// Every JSON pointer in `body` whose value equals `wanted`.
pub fn pointers_to(body: &Value, wanted: &Value) -> Vec<String> {
    let mut found = Vec::new();
    walk(body, String::new(), &mut |at, value| {
        if value == wanted {
            found.push(at.to_owned());
        }
    });
    found
}

/// Every JSON pointer in `body` whose value is a string that starts with `prefix`.
pub fn pointers_to_text_starting(body: &Value, prefix: &str) -> Vec<String> {
    let mut found = Vec::new();
    walk(body, String::new(), &mut |at, value| {
        if value.as_str().is_some_and(|text| text.starts_with(prefix)) {
            found.push(at.to_owned());
        }
    });
    found
}

/// Every JSON pointer in `body` whose value is a string that contains `needle`.
pub fn pointers_to_text_containing(body: &Value, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    walk(body, String::new(), &mut |at, value| {
        if value.as_str().is_some_and(|text| text.contains(needle)) {
            found.push(at.to_owned());
        }
    });
    found
}

/// Every JSON pointer in `body` at which an object has the key `key`.
pub fn pointers_with_key(body: &Value, key: &str) -> Vec<String> {
    let mut found = Vec::new();
    walk(body, String::new(), &mut |at, value| {
        if value.as_object().is_some_and(|map| map.contains_key(key)) {
            found.push(format!("{at}/{key}"));
        }
    });
    found
}

fn walk(body: &Value, at: String, visit: &mut dyn FnMut(&str, &Value)) {
    visit(&at, body);
    match body {
        Value::Object(map) => {
            for (key, child) in map {
                walk(child, format!("{at}/{key}"), visit);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                walk(child, format!("{at}/{i}"), visit);
            }
        }
        _ => {}
    }
}
