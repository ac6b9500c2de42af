//! Error tests: what a client sees (message, status, retry-after, code) for each failure.

use actix_web::{ResponseError, http::StatusCode};

use super::*;

#[test]
fn upstream_auth_failure_is_a_bad_gateway_without_detail() {
    let err = GatewayError::from(
        UpstreamError::new(
            "openai",
            UpstreamErrorKind::Auth,
            "the gateway's openai key was rejected",
        )
        .with_detail("sk-secret body"),
    );
    assert_eq!(err.status(), StatusCode::BAD_GATEWAY);
    assert!(!err.to_object().message.contains("sk-secret"));
    assert!(!err.is_retryable());
}

#[test]
fn queue_full_is_429_with_retry_after() {
    let err = GatewayError::QueueFull {
        provider: "openai".into(),
        retry_after: Duration::from_millis(1500),
    };
    let resp = err.error_response();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(resp.headers().get("retry-after").unwrap(), "2");
}

#[test]
fn everything_rate_limited_is_429_with_the_soonest_retry_after() {
    let err = GatewayError::RateLimited {
        model: "gpt-4o".into(),
        retry_after: Duration::from_millis(2_500),
    };
    let resp = err.error_response();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(resp.headers().get("retry-after").unwrap(), "3");
    assert_eq!(err.code(), "rate_limit_exceeded");
    assert_eq!(
        GatewayError::ShuttingDown.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[test]
fn rate_limits_name_the_wait_as_openai_does() {
    let limited = |wait: Option<Duration>| {
        GatewayError::from(
            UpstreamError::new("p", UpstreamErrorKind::RateLimited, "Provider `p` is busy.")
                .with_retry_after(wait),
        )
        .to_object()
        .message
    };
    assert_eq!(
        limited(Some(Duration::from_millis(1_200))),
        "Provider `p` is busy. Please try again in 2s."
    );
    assert_eq!(
        limited(Some(Duration::ZERO)),
        "Provider `p` is busy. Please try again in 1s."
    );
    assert_eq!(limited(None), "Provider `p` is busy.");
    let all = GatewayError::RateLimited {
        model: "m".into(),
        retry_after: Duration::from_secs(3),
    };
    assert!(all.to_object().message.ends_with("try again in 3s"));
}

#[test]
fn internal_errors_are_generic() {
    let err = GatewayError::Internal("mailbox closed at foo.rs:12".into());
    assert!(!err.to_object().message.contains("foo.rs"));
}

#[test]
fn store_unavailable_is_503_without_detail() {
    let err = GatewayError::StoreUnavailable("Connection refused (os error 111)".into());
    assert_eq!(err.status(), StatusCode::SERVICE_UNAVAILABLE);
    let object = err.to_object();
    assert_eq!(
        object.code.as_deref(),
        Some("conversation_store_unavailable")
    );
    assert_eq!(object.kind, "server_error");
    assert!(!object.message.contains("os error"));
    assert!(!err.is_retryable());
}

#[test]
fn every_error_type_agrees_with_its_status() {
    let wait = Duration::from_secs(1);
    let mut errors = vec![
        GatewayError::InvalidRequest {
            message: "m".into(),
            param: None,
            code: "c",
        },
        GatewayError::NotFound {
            message: "m".into(),
            param: None,
            code: "c",
        },
        GatewayError::PayloadTooLarge { limit: 1 },
        GatewayError::QueueFull {
            provider: "p".into(),
            retry_after: wait,
        },
        GatewayError::NoHealthyProvider {
            model: "m".into(),
            retry_after: wait,
        },
        GatewayError::RateLimited {
            model: "m".into(),
            retry_after: wait,
        },
        GatewayError::RequestTimeout { after: wait },
        GatewayError::Overloaded { message: "m" },
        GatewayError::ShuttingDown,
        GatewayError::BackgroundLimit { scope: "s" },
        GatewayError::Cancelled,
        GatewayError::StoreUnavailable("s".into()),
        GatewayError::Unauthorized {
            code: "c",
            reason: "r",
        },
        GatewayError::AuthUnavailable,
        GatewayError::Internal("i".into()),
    ];
    for kind in [
        UpstreamErrorKind::BadRequest,
        UpstreamErrorKind::NotFound,
        UpstreamErrorKind::Auth,
        UpstreamErrorKind::RateLimited,
        UpstreamErrorKind::QuotaExceeded,
        UpstreamErrorKind::Overloaded,
        UpstreamErrorKind::Server,
        UpstreamErrorKind::Timeout,
        UpstreamErrorKind::Connect,
        UpstreamErrorKind::Protocol,
        UpstreamErrorKind::ContentFilter,
        UpstreamErrorKind::ContextLengthExceeded,
    ] {
        errors.push(GatewayError::Upstream(UpstreamError::new("p", kind, "m")));
    }
    for err in errors {
        assert_eq!(
            err.error_type(),
            ErrorType::for_status(err.status().as_u16()),
            "{err:?}"
        );
    }
}
