//! Shared helpers for the provider unit tests: fixture files and raw `.http` error responses.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

/// A fixture file from `tests/fixtures/<provider>/<name>`.
pub fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// Splits a raw HTTP response (a `.http` fixture) into status, headers and body.
pub fn parse_http(raw: &[u8]) -> (u16, HeaderMap, Vec<u8>) {
    let text = String::from_utf8(raw.to_vec()).unwrap();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .or_else(|| text.split_once("\n\n"))
        .unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let mut headers = HeaderMap::new();
    for line in lines {
        let (name, value) = line.split_once(':').unwrap();
        headers.append(
            HeaderName::from_bytes(name.trim().as_bytes()).unwrap(),
            HeaderValue::from_str(value.trim()).unwrap(),
        );
    }
    (status, headers, body.as_bytes().to_vec())
}
