//! A strict reader of the Prometheus text exposition format (0.0.4) for tests: every line is a
//! `# HELP`, a `# TYPE` or a sample; names and label names are valid; label values are quoted
//! with valid escapes; every sample belongs to one declared family; histogram buckets are
//! cumulative and end with `+Inf` equal to `_count`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashMap};

/// One sample: name, labels, value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

fn is_name(s: &str, colon: bool) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || (colon && c == ':'))
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':'))
}

fn parse_value(s: &str) -> Option<f64> {
    match s {
        "+Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        other => other.parse().ok(),
    }
}

/// Parses `{a="x",b="y"}` (the braces included); returns the labels and the rest of the line.
fn parse_labels(text: &str) -> Result<(BTreeMap<String, String>, &str), String> {
    let mut labels = BTreeMap::new();
    let mut rest = text.strip_prefix('{').ok_or("no {")?;
    loop {
        rest = rest.trim_start_matches(',');
        if let Some(after) = rest.strip_prefix('}') {
            return Ok((labels, after));
        }
        let (name, after) = rest.split_once("=\"").ok_or("label without =\"")?;
        if !is_name(name, false) {
            return Err(format!("bad label name {name:?}"));
        }
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    other => return Err(format!("bad escape {other:?}")),
                },
                Some((i, '"')) => break i,
                Some((_, c)) => value.push(c),
                None => return Err("unterminated label value".to_owned()),
            }
        };
        if labels.insert(name.to_owned(), value).is_some() {
            return Err(format!("duplicate label {name}"));
        }
        rest = &after[end + 1..];
    }
}

/// Parses one sample line.
fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line.find(['{', ' ']).ok_or("no value")?;
    let name = &line[..name_end];
    if !is_name(name, true) {
        return Err(format!("bad metric name {name:?}"));
    }
    let (labels, rest) = if line[name_end..].starts_with('{') {
        parse_labels(&line[name_end..])?
    } else {
        (BTreeMap::new(), &line[name_end..])
    };
    let mut fields = rest.split_whitespace();
    let value = fields.next().and_then(parse_value).ok_or("bad value")?;
    if let Some(timestamp) = fields.next() {
        timestamp.parse::<i64>().map_err(|_| "bad timestamp")?;
    }
    if fields.next().is_some() {
        return Err("trailing fields".to_owned());
    }
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// The family a sample belongs to, given the declared types.
fn family<'a>(name: &'a str, types: &HashMap<String, String>) -> Option<&'a str> {
    if types.contains_key(name) {
        return Some(name);
    }
    ["_bucket", "_sum", "_count"].iter().find_map(|suffix| {
        let base = name.strip_suffix(suffix)?;
        matches!(
            types.get(base).map(String::as_str),
            Some("histogram" | "summary")
        )
        .then_some(base)
    })
}

/// Parses and checks a whole exposition; panics with the offending line.
pub fn parse(text: &str) -> Vec<Sample> {
    let mut types: HashMap<String, String> = HashMap::new();
    let mut samples = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        if let Some(comment) = line.strip_prefix('#') {
            let parts: Vec<&str> = comment.trim_start().splitn(3, ' ').collect();
            match parts.as_slice() {
                ["TYPE", name, kind] => {
                    assert!(is_name(name, true), "bad TYPE name: {line}");
                    assert!(
                        ["counter", "gauge", "histogram", "summary", "untyped"].contains(kind),
                        "bad type: {line}"
                    );
                    assert!(
                        types
                            .insert((*name).to_owned(), (*kind).to_owned())
                            .is_none(),
                        "TYPE twice: {line}"
                    );
                }
                ["HELP", name, ..] => assert!(is_name(name, true), "bad HELP: {line}"),
                _ => {}
            }
            continue;
        }
        let sample = parse_sample(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(
            family(&sample.name, &types).is_some(),
            "sample before its TYPE: {line}"
        );
        samples.push(sample);
    }
    check_histograms(&samples, &types);
    samples
}

fn check_histograms(samples: &[Sample], types: &HashMap<String, String>) {
    for (name, kind) in types {
        if kind != "histogram" {
            continue;
        }
        // Labels without `le` → (le, cumulative count) per bucket.
        type Series = BTreeMap<Vec<(String, String)>, Vec<(f64, f64)>>;
        let mut series = Series::new();
        for s in samples
            .iter()
            .filter(|s| s.name == format!("{name}_bucket"))
        {
            let le = parse_value(s.labels.get("le").expect("bucket without le")).expect("bad le");
            let key: Vec<_> = s
                .labels
                .iter()
                .filter(|(k, _)| *k != "le")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            series.entry(key).or_default().push((le, s.value));
        }
        for (key, mut buckets) in series {
            buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
            assert!(
                buckets.windows(2).all(|w| w[0].1 <= w[1].1),
                "{name} buckets not cumulative"
            );
            let (le, total) = *buckets.last().unwrap();
            assert!(le.is_infinite(), "{name} has no +Inf bucket");
            let count = samples
                .iter()
                .find(|s| {
                    s.name == format!("{name}_count")
                        && s.labels
                            .iter()
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect::<Vec<_>>()
                            == key
                })
                .unwrap_or_else(|| panic!("{name}_count missing"));
            assert!(
                (count.value - total).abs() < f64::EPSILON,
                "{name}: +Inf bucket != _count"
            );
        }
    }
}

/// Panics unless `text` is a valid exposition.
pub fn assert_valid_exposition(text: &str) {
    parse(text);
}

/// The sum of the samples called `name` that carry every label in `labels` (0 when none).
pub fn sample_sum(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    parse(text)
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .sum()
}

#[test]
fn the_reader_rejects_broken_lines() {
    let good = "# HELP a_total x\n# TYPE a_total counter\na_total{x=\"q\\\"\\n\"} 3\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3.5\nh_count 2\n";
    assert_eq!(parse(good).len(), 5);
    for bad in [
        "a_total{x=\"q} 1",
        "1bad 2",
        "a_total{x=\"q\"} abc",
        "undeclared 1",
    ] {
        let text = format!("# TYPE a_total counter\n{bad}\n");
        assert!(std::panic::catch_unwind(|| parse(&text)).is_err(), "{bad}");
    }
}
