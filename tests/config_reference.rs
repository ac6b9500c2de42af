//! The configuration reference (docs/configuration.md) lists exactly the keys the config types
//! accept: every field of every `Raw*` section struct is documented, and every documented key is
//! one the gateway reads (a config setting it parses).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

/// Where each section struct sits in the YAML.
const SECTIONS: &[(&str, &str)] = &[
    ("RawServer", "server."),
    ("RawProvider", "providers.<name>."),
    ("RawRouting", "routing."),
    ("RawModelGroup", "models.<name>."),
    ("RawTarget", "models.<name>.targets[]."),
    ("RawAuth", "auth."),
    ("RawApiKey", "auth.api_keys[]."),
    ("RawConversations", "conversations."),
    ("RawBackground", "background."),
    ("ToolsConfig", "tools."),
    ("RawLog", "log."),
    ("RawMetrics", "metrics."),
    ("RawUsage", "usage."),
    ("RawTracing", "tracing."),
    ("RawRedis", "redis."),
    ("RawFleet", "fleet."),
    ("RawQuotas", "quotas."),
    ("RawQuotaLimits", "quotas.<limits>."),
];

/// `(struct, field as written in YAML)` for every `pub` field of a `Raw*`/`*Config` section
/// struct in src/config (serde `rename`s applied).
fn fields_in_source() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/config");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        let mut current: Option<String> = None;
        let mut rename: Option<String> = None;
        for line in source.lines() {
            let line = line.trim();
            if let Some(rest) = line.strip_prefix("pub struct ") {
                let name = rest.split([' ', '{']).next().unwrap().to_owned();
                current = SECTIONS.iter().any(|(s, _)| *s == name).then_some(name);
                continue;
            }
            if line == "}" {
                current = None;
                continue;
            }
            let Some(section) = &current else { continue };
            if let Some(attr) = line.strip_prefix("#[serde(rename = \"") {
                rename = attr.split('"').next().map(str::to_owned);
                continue;
            }
            if let Some(field) = line.strip_prefix("pub ") {
                let name = field.split(':').next().unwrap().trim().to_owned();
                out.push((section.clone(), rename.take().unwrap_or(name)));
            }
        }
    }
    out
}

/// The keys of the reference table.
fn documented() -> BTreeSet<String> {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/configuration.md"
    ))
    .unwrap();
    let table = doc
        .split("## Reference: every key")
        .nth(1)
        .expect("the reference section");
    table
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .map(|l| l.split('`').next().unwrap().to_owned())
        .collect()
}

#[test]
fn every_config_field_is_documented_and_every_documented_key_exists() {
    let documented = documented();
    let mut expected = BTreeSet::new();
    for (section, field) in fields_in_source() {
        let prefix = SECTIONS.iter().find(|(s, _)| *s == section).unwrap().1;
        match (section.as_str(), field.as_str()) {
            // Containers documented by their members.
            ("RawModelGroup", "targets")
            | ("RawAuth", "api_keys")
            | ("RawQuotas", "default" | "api_keys" | "claims") => continue,
            ("RawTarget", "price") => {
                expected.insert(format!("{prefix}price.input"));
                expected.insert(format!("{prefix}price.output"));
            }
            _ => {
                expected.insert(format!("{prefix}{field}"));
            }
        }
    }
    for key in [
        "prices.<model>.input",
        "prices.<model>.cached_input",
        "prices.<model>.output",
    ] {
        expected.insert(key.to_owned());
    }
    let missing: Vec<_> = expected.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&expected).collect();
    assert!(missing.is_empty(), "undocumented config keys: {missing:?}");
    assert!(
        unknown.is_empty(),
        "documented keys the config does not have: {unknown:?}"
    );
}

#[test]
fn the_parser_found_the_sections() {
    let fields = fields_in_source();
    for section in ["RawServer", "RawProvider", "RawAuth", "RawConversations"] {
        assert!(fields.iter().any(|(s, _)| s == section), "{section}");
    }
    assert!(
        fields
            .iter()
            .any(|(s, f)| s == "RawProvider" && f == "type"),
        "renames applied"
    );
}
