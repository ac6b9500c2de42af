//! `${VAR}` and `${VAR:-default}` expansion inside YAML string values (after parsing, so
//! secrets containing `:` or `#` cannot break the YAML). A missing variable expands to "".

use serde_json::Value;

use super::EnvLookup;

/// Expands every string in `value` in place.
pub fn expand_value(value: &mut Value, env: EnvLookup<'_>) {
    match value {
        Value::String(s) if s.contains("${") => *s = expand_str(s, env),
        Value::Array(items) => items.iter_mut().for_each(|v| expand_value(v, env)),
        Value::Object(map) => map.values_mut().for_each(|v| expand_value(v, env)),
        _ => {}
    }
}

/// Expands `${VAR}` / `${VAR:-default}` in one string; `$${` escapes a literal `${`.
pub fn expand_str(input: &str, env: EnvLookup<'_>) -> String {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(start) = rest.find("${") {
        if rest[..start].ends_with('$') {
            out.push_str(&rest[..start - 1]);
            out.push_str("${");
            rest = &rest[start + 2..];
            continue;
        }
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let expr = &after[..end];
        let (name, default) = match expr.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (expr, None),
        };
        match env(name.trim()).filter(|v| !v.is_empty()) {
            Some(value) => out.push_str(&value),
            None => out.push_str(default.unwrap_or("")),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "KEY").then(|| "s3cr:t#1".to_owned())
    }

    #[test]
    fn expands_known_missing_and_default() {
        assert_eq!(expand_str("a ${KEY} b", &env), "a s3cr:t#1 b");
        assert_eq!(expand_str("${NOPE}", &env), "");
        assert_eq!(expand_str("${NOPE:-dflt}", &env), "dflt");
        assert_eq!(expand_str("$${KEY}", &env), "${KEY}");
        assert_eq!(expand_str("${unterminated", &env), "${unterminated");
    }
}
