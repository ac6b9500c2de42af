//! Error translation: the `*.http` fixtures (status line, headers, body) and a few composed ones.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::Value;

use super::{fixture, fixtures_with};
use crate::providers::test_support::parse_http;
use crate::{
    error::{GatewayError, UpstreamError, UpstreamErrorKind},
    providers::anthropic::parse_error,
};

fn upstream_message(body: &[u8]) -> String {
    let value: Value = serde_json::from_slice(body).unwrap();
    value["error"]["message"].as_str().unwrap().to_owned()
}

#[test]
fn every_http_fixture_maps_to_the_right_error() {
    for name in fixtures_with(".http") {
        let (status, headers, body) = parse_http(&fixture(&name));
        let err = parse_error("anthropic", status, &headers, &body);
        let upstream = upstream_message(&body);
        let request_id = headers.get("request-id").unwrap().to_str().unwrap();
        assert!(
            err.detail.contains(request_id),
            "{name}: detail names the upstream request id"
        );
        let (kind, http_status, retry_after) = match name.as_str() {
            "error_400_invalid_request.http" => (UpstreamErrorKind::BadRequest, 400, None),
            "error_429_rate_limit.http" => (
                UpstreamErrorKind::RateLimited,
                429,
                Some(Duration::from_secs(21)),
            ),
            "error_529_overloaded.http" => (UpstreamErrorKind::Overloaded, 503, None),
            other => panic!("no golden expectation for fixture {other}"),
        };
        assert_eq!((err.kind, err.retry_after), (kind, retry_after), "{name}");
        let client = GatewayError::from(err.clone());
        assert_eq!(client.status().as_u16(), http_status, "{name}");
        let shown = client.to_object().message;
        if kind == UpstreamErrorKind::BadRequest {
            assert_eq!(
                err.message, upstream,
                "{name}: 400s pass the upstream message"
            );
            assert_eq!(err.param.as_deref(), Some("input"), "{name}");
        } else {
            assert!(
                !shown.contains(&upstream),
                "{name}: body text leaked: {shown}"
            );
            assert!(
                !shown.contains("req_"),
                "{name}: request id leaked: {shown}"
            );
        }
    }
}

fn error(status: u16, body: &str) -> UpstreamError {
    parse_error("anthropic", status, &HeaderMap::new(), body.as_bytes())
}

#[test]
fn composed_errors() {
    let auth = error(
        401,
        r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key sk-ant-123"}}"#,
    );
    assert_eq!(auth.kind, UpstreamErrorKind::Auth);
    assert!(!auth.message.contains("sk-ant"));
    let forbidden = error(
        403,
        r#"{"type":"error","error":{"type":"permission_error","message":"no access"}}"#,
    );
    assert_eq!(forbidden.kind, UpstreamErrorKind::Auth);
    let spend = error(
        429,
        r#"{"type":"error","error":{"type":"rate_limit_error","message":"spend","details":{"error_code":"enforced_spend_limit_reached"}}}"#,
    );
    assert_eq!(spend.kind, UpstreamErrorKind::QuotaExceeded);
    let server = error(500, "<html>oops</html>");
    assert_eq!(server.kind, UpstreamErrorKind::Server);
    assert!(!server.message.contains("oops"));
    let too_big = error(
        400,
        r#"{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: 999999 > 64000, which is the maximum"}}"#,
    );
    assert_eq!(
        (too_big.kind, too_big.param.as_deref()),
        (UpstreamErrorKind::BadRequest, Some("max_output_tokens"))
    );
    let plain = error(
        400,
        r#"{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low."}}"#,
    );
    assert_eq!(plain.param, None);
    let missing_message = error(400, "not json");
    assert_eq!(missing_message.kind, UpstreamErrorKind::BadRequest);
    assert!(!missing_message.message.is_empty());
}

#[test]
fn context_overflow_quota_and_overload_use_the_codes_agents_know() {
    // Anthropic's two context-window answers (400 invalid_request_error).
    for message in [
        "prompt is too long: 208310 tokens > 200000 maximum",
        "input length and `max_tokens` exceed context limit: 195234 + 8192 > 200000, decrease \
         input length or `max_tokens` and try again",
    ] {
        let body = serde_json::json!({"type": "error",
            "error": {"type": "invalid_request_error", "message": message},
            "request_id": "req_011CV3pX9yQ2bR7tM5nK8wLf"});
        let err = error(400, &body.to_string());
        assert_eq!(
            err.kind,
            UpstreamErrorKind::ContextLengthExceeded,
            "{message}"
        );
        assert_eq!(err.message, message);
        let client = GatewayError::from(err);
        assert_eq!(
            (client.status().as_u16(), client.code()),
            (400, "context_length_exceeded")
        );
        assert_eq!(client.param().as_deref(), Some("input"));
    }
    let credits = error(
        400,
        r#"{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits."}}"#,
    );
    assert_eq!(GatewayError::from(credits).code(), "insufficient_quota");
    let (status, headers, body) = parse_http(&fixture("error_529_overloaded.http"));
    let overloaded = GatewayError::from(parse_error("anthropic", status, &headers, &body));
    assert_eq!(
        (overloaded.status().as_u16(), overloaded.code()),
        (503, "server_is_overloaded")
    );
    let (status, headers, body) = parse_http(&fixture("error_429_rate_limit.http"));
    let limited = GatewayError::from(parse_error("anthropic", status, &headers, &body));
    assert_eq!(limited.code(), "rate_limit_exceeded");
    let message = limited.to_object().message;
    assert!(message.ends_with("Please try again in 21s."), "{message}");
}
