//! Error mapping: the `error_*` fixtures and the other documented shapes → kind, message, retry.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::json;

use super::fixture;
use crate::providers::test_support::parse_http;
use crate::{
    error::{UpstreamError, UpstreamErrorKind},
    providers::gemini::parse_error,
};

fn map(status: u16, body: &serde_json::Value) -> UpstreamError {
    parse_error(
        "google",
        status,
        &HeaderMap::new(),
        body.to_string().as_bytes(),
    )
}

#[test]
fn invalid_api_key_fixture_is_an_auth_failure_without_upstream_text() {
    let err = parse_error(
        "google",
        400,
        &HeaderMap::new(),
        &fixture("error_400_invalid_argument.json"),
    );
    assert_eq!(err.kind, UpstreamErrorKind::Auth);
    assert!(
        !err.message.contains("API key not valid"),
        "{}",
        err.message
    );
    assert!(err.detail.contains("API_KEY_INVALID"));
}

#[test]
fn invalid_argument_passes_the_upstream_message() {
    let body = json!({"error":{"code":400,"message":"* GenerateContentRequest.contents: contents is not specified","status":"INVALID_ARGUMENT"}});
    let err = map(400, &body);
    assert_eq!(err.kind, UpstreamErrorKind::BadRequest);
    assert_eq!(
        err.message,
        "* GenerateContentRequest.contents: contents is not specified"
    );
    let precondition = json!([{"error":{"code":400,"message":"User location is not supported for the API use.","status":"FAILED_PRECONDITION"}}]);
    let err = map(400, &precondition);
    assert_eq!(err.kind, UpstreamErrorKind::BadRequest);
    assert_eq!(
        err.message,
        "User location is not supported for the API use."
    );
}

#[test]
fn resource_exhausted_fixture_is_rate_limited_with_retry_delay() {
    let (status, headers, body) = parse_http(&fixture("error_429_resource_exhausted.http"));
    let err = parse_error("google", status, &headers, &body);
    assert_eq!(err.kind, UpstreamErrorKind::RateLimited);
    assert_eq!(err.retry_after, Some(Duration::from_secs(24)));
    assert!(!err.message.contains("quota"), "{}", err.message);
    assert!(err.is_retryable());
}

#[test]
fn retry_after_header_wins_and_message_is_a_fallback() {
    let (status, mut headers, body) = parse_http(&fixture("error_429_resource_exhausted.http"));
    headers.insert("retry-after", "3".parse().unwrap());
    assert_eq!(
        parse_error("google", status, &headers, &body).retry_after,
        Some(Duration::from_secs(3))
    );
    let body = json!({"error":{"code":429,"message":"Quota exceeded. Please retry in 643.5ms.","status":"RESOURCE_EXHAUSTED"}});
    assert_eq!(
        map(429, &body).retry_after,
        Some(Duration::from_secs_f64(0.6435))
    );
}

#[test]
fn zero_quota_is_not_retryable() {
    let body = json!({"error":{"code":429,"status":"RESOURCE_EXHAUSTED",
        "message":"* Quota exceeded for metric: generate_content_free_tier_requests, limit: 0, model: gemini-2.5-pro",
        "details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"40s"}]}});
    let err = map(429, &body);
    assert_eq!(err.kind, UpstreamErrorKind::QuotaExceeded);
    assert!(!err.is_retryable());
    let by_value = json!({"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"Quota exceeded.",
        "details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaValue":"0"}]}]}});
    assert_eq!(map(429, &by_value).kind, UpstreamErrorKind::QuotaExceeded);
    assert_eq!(
        map(
            402,
            &json!({"error":{"code":402,"status":"RESOURCE_EXHAUSTED","message":"credits"}})
        )
        .kind,
        UpstreamErrorKind::QuotaExceeded
    );
}

#[test]
fn unavailable_fixture_is_overloaded() {
    let err = parse_error(
        "google",
        503,
        &HeaderMap::new(),
        &fixture("error_503_unavailable.json"),
    );
    assert_eq!(err.kind, UpstreamErrorKind::Overloaded);
    assert!(err.is_retryable());
}

#[test]
fn other_statuses_use_generic_messages() {
    let secret = json!({"error":{"code":403,"message":"Key AIzaSECRET lacks permission","status":"PERMISSION_DENIED"}});
    let err = map(403, &secret);
    assert_eq!(err.kind, UpstreamErrorKind::Auth);
    assert!(!err.message.contains("AIza"));
    assert_eq!(
        map(
            401,
            &json!({"error":{"code":401,"status":"UNAUTHENTICATED","message":"no"}})
        )
        .kind,
        UpstreamErrorKind::Auth
    );
    assert_eq!(
        map(
            404,
            &json!({"error":{"code":404,"status":"NOT_FOUND","message":"models/x is not found"}})
        )
        .kind,
        UpstreamErrorKind::NotFound
    );
    assert_eq!(
        map(
            500,
            &json!({"error":{"code":500,"status":"INTERNAL","message":"oops"}})
        )
        .kind,
        UpstreamErrorKind::Server
    );
    assert_eq!(
        map(
            504,
            &json!({"error":{"code":504,"status":"DEADLINE_EXCEEDED","message":"slow"}})
        )
        .kind,
        UpstreamErrorKind::Timeout
    );
    let html = parse_error(
        "google",
        502,
        &HeaderMap::new(),
        b"<html>bad gateway</html>",
    );
    assert_eq!(html.kind, UpstreamErrorKind::Server);
}

#[test]
fn context_overflow_overload_and_rate_limits_use_the_codes_agents_know() {
    let message =
        "The input token count (1196265) exceeds the maximum number of tokens allowed (1048576).";
    let err = map(
        400,
        &json!({"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}}),
    );
    assert_eq!(err.kind, UpstreamErrorKind::ContextLengthExceeded);
    assert_eq!(err.message, message);
    let client = crate::error::GatewayError::from(err);
    assert_eq!(
        (client.status().as_u16(), client.code()),
        (400, "context_length_exceeded")
    );
    let overloaded = parse_error(
        "google",
        503,
        &HeaderMap::new(),
        &fixture("error_503_unavailable.json"),
    );
    let overloaded = crate::error::GatewayError::from(overloaded);
    assert_eq!(
        (overloaded.status().as_u16(), overloaded.code()),
        (503, "server_is_overloaded")
    );
    let (status, headers, body) = parse_http(&fixture("error_429_resource_exhausted.http"));
    let limited = crate::error::GatewayError::from(parse_error("google", status, &headers, &body));
    assert_eq!(limited.code(), "rate_limit_exceeded");
    let shown = limited.to_object().message;
    assert!(shown.ends_with("Please try again in 24s."), "{shown}");
}
