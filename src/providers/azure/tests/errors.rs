//! `parse_error`: OpenAI and Azure error fixtures → upstream error kinds, messages, retry hints.

use std::time::Duration;

use reqwest::header::HeaderMap;

use super::{fixture, http_fixture};
use crate::{
    error::{GatewayError, UpstreamError, UpstreamErrorKind},
    providers::azure::parse_error,
};

fn from_http(path: &str) -> UpstreamError {
    let (status, headers, body) = http_fixture(path);
    parse_error("azureopenai", status, &headers, &body)
}

fn from_json(status: u16, path: &str) -> UpstreamError {
    parse_error("azureopenai", status, &HeaderMap::new(), &fixture(path))
}

#[test]
fn openai_400_passes_message_and_param() {
    let err = from_http("openai/error_400_invalid_request.http");
    assert_eq!(err.kind, UpstreamErrorKind::BadRequest);
    assert_eq!(
        err.message,
        "Invalid type for 'max_output_tokens': expected an integer, but got a string instead."
    );
    assert_eq!(err.param.as_deref(), Some("max_output_tokens"));
    assert!(err.detail.contains("req_5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d"));
    assert_eq!(GatewayError::from(err).status().as_u16(), 400);
}

#[test]
fn openai_429s_split_into_rate_limit_and_quota() {
    let quota = from_http("openai/error_429_insufficient_quota.http");
    assert_eq!(quota.kind, UpstreamErrorKind::QuotaExceeded);
    assert!(!quota.is_retryable());
    assert!(
        !quota.message.contains("billing details"),
        "generic message only"
    );

    let limited = from_http("openai/error_429_rate_limit.http");
    assert_eq!(limited.kind, UpstreamErrorKind::RateLimited);
    assert!(limited.is_retryable());
    // No retry-after header: the wait named in the message is used.
    assert_eq!(limited.retry_after, Some(Duration::from_millis(3728)));
}

#[test]
fn azure_429_reads_retry_after_headers() {
    let err = from_http("azure-openai/error_429_rate_limit.http");
    assert_eq!(err.kind, UpstreamErrorKind::RateLimited);
    assert_eq!(err.retry_after, Some(Duration::from_secs(6)));
    assert!(
        err.detail.contains("0b9c8d7e-6f5a-4b3c-2d1e-0f9a8b7c6d5e"),
        "request id kept for logs"
    );
    let (_, _, body) = http_fixture("azure-openai/error_429_rate_limit.http");
    let hinted = parse_error("azureopenai", 429, &HeaderMap::new(), &body);
    assert_eq!(hinted.retry_after, Some(Duration::from_secs(6)));
}

#[test]
fn azure_prompt_filter_is_a_content_filter_error() {
    let err = from_json(400, "azure-openai/error_400_content_filter.json");
    assert_eq!(err.kind, UpstreamErrorKind::ContentFilter);
    assert_eq!(err.param.as_deref(), Some("prompt"));
    assert!(
        err.message
            .starts_with("The response was filtered due to the prompt")
    );
    let err = GatewayError::from(err);
    assert_eq!((err.status().as_u16(), err.code()), (400, "content_filter"));
}

#[test]
fn azure_missing_deployment_is_not_found() {
    let err = from_json(404, "azure-openai/error_404_deployment_not_found.json");
    assert_eq!(err.kind, UpstreamErrorKind::NotFound);
    assert!(err.param.is_none());
    assert!(err.detail.contains("DeploymentNotFound"));
}

#[test]
fn auth_failures_never_echo_the_body() {
    let body = br#"{"error":{"code":"401","message":"Access denied due to invalid subscription key sk-LEAK or wrong API endpoint."}}"#;
    let err = parse_error("azureopenai", 401, &HeaderMap::new(), body);
    assert_eq!(err.kind, UpstreamErrorKind::Auth);
    assert!(!err.message.contains("sk-LEAK"));
    assert!(
        !GatewayError::from(err)
            .to_object()
            .message
            .contains("sk-LEAK")
    );
}

#[test]
fn server_errors_with_any_body_are_server_errors() {
    let err = parse_error("azureopenai", 500, &HeaderMap::new(), b"<html>oops</html>");
    assert_eq!(err.kind, UpstreamErrorKind::Server);
    assert!(err.is_retryable());
    assert!(!err.message.contains("oops"));
}

#[test]
fn context_overflow_is_context_length_exceeded() {
    // Azure / OpenAI Chat Completions' answer when the messages do not fit.
    let message = "This model's maximum context length is 128000 tokens. However, your messages \
                   resulted in 130517 tokens. Please reduce the length of the messages.";
    let body = serde_json::json!({"error": {"message": message, "type": "invalid_request_error",
        "param": "messages", "code": "context_length_exceeded"}});
    let err = parse_error(
        "azureopenai",
        400,
        &HeaderMap::new(),
        body.to_string().as_bytes(),
    );
    assert_eq!(err.kind, UpstreamErrorKind::ContextLengthExceeded);
    assert_eq!(err.message, message);
    let client = GatewayError::from(err);
    assert_eq!(
        (client.status().as_u16(), client.code()),
        (400, "context_length_exceeded")
    );
    assert_eq!(client.param().as_deref(), Some("input"));
}

#[test]
fn rate_limits_tell_the_wait_in_openai_words() {
    let client = GatewayError::from(from_http("azure-openai/error_429_rate_limit.http"));
    assert_eq!(client.code(), "rate_limit_exceeded");
    let message = client.to_object().message;
    assert!(message.contains("try again in 6s"), "{message}");
}
