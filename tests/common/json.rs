//! JSON lookups for asserting on what reached an upstream: where a value sits (as JSON pointers)
//! and which keys occur, so tests compare by position instead of by substring.

use serde_json::Value;

/// Whether JSON pointer `pointer` starts with `start` and ends with `end` (any segments between):
/// where a value sits when its index in a list may vary.
pub fn pointer_between(pointer: &str, start: &str, end: &str) -> bool {
    pointer.starts_with(start) && pointer.ends_with(end)
}

/// Every JSON pointer in `body` whose value equals `wanted`.
pub fn pointers_to(body: &Value, wanted: &Value) -> Vec<String> {
    pointers_where(body, |value| value == wanted)
}

/// Every JSON pointer in `body` whose value is a string that starts with `prefix`.
pub fn pointers_to_text_starting(body: &Value, prefix: &str) -> Vec<String> {
    pointers_where(body, |value| {
        value.as_str().is_some_and(|text| text.starts_with(prefix))
    })
}

/// Every JSON pointer in `body` whose value is a string that contains `needle`.
pub fn pointers_to_text_containing(body: &Value, needle: &str) -> Vec<String> {
    pointers_where(body, |value| {
        value.as_str().is_some_and(|text| text.contains(needle))
    })
}

/// Every JSON pointer in `body` at which an object has the key `key`.
pub fn pointers_with_key(body: &Value, key: &str) -> Vec<String> {
    pointers_where(body, |value| {
        value.as_object().is_some_and(|map| map.contains_key(key))
    })
    .into_iter()
    .map(|at| format!("{at}/{key}"))
    .collect()
}

/// Every JSON pointer in `body` whose value satisfies `test`, in document order.
pub fn pointers_where(body: &Value, test: impl Fn(&Value) -> bool) -> Vec<String> {
    let mut found = Vec::new();
    walk(body, String::new(), &test, &mut found);
    found
}

fn walk(body: &Value, at: String, test: &impl Fn(&Value) -> bool, found: &mut Vec<String>) {
    if test(body) {
        found.push(at.clone());
    }
    match body {
        Value::Object(map) => {
            for (key, child) in map {
                walk(child, format!("{at}/{key}"), test, found);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                walk(child, format!("{at}/{i}"), test, found);
            }
        }
        _ => {}
    }
}
