//! How a `GatewayError` is classified: HTTP status, Open Responses `type` and `code`, the
//! parameter at fault and the suggested retry wait.

use std::time::Duration;

use actix_web::http::StatusCode;

use super::{AUTH_RETRY_AFTER, GatewayError, UpstreamErrorKind};

impl GatewayError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidRequest { .. } => StatusCode::BAD_REQUEST,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Self::QueueFull { .. }
            | Self::RateLimited { .. }
            | Self::CallerLimit { .. }
            | Self::BackgroundLimit { .. } => StatusCode::TOO_MANY_REQUESTS,
            // OpenAI's cancel answers the cancelled response with 200; this only labels the
            // `error` event and the request's metrics (nginx's "client closed request").
            Self::Cancelled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
            Self::NoHealthyProvider { .. }
            | Self::StoreUnavailable(_)
            | Self::AuthUnavailable
            | Self::Overloaded { .. }
            | Self::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Upstream(e) => match e.kind {
                UpstreamErrorKind::BadRequest
                | UpstreamErrorKind::ContentFilter
                | UpstreamErrorKind::ContextLengthExceeded => StatusCode::BAD_REQUEST,
                UpstreamErrorKind::NotFound => StatusCode::NOT_FOUND,
                UpstreamErrorKind::RateLimited | UpstreamErrorKind::QuotaExceeded => {
                    StatusCode::TOO_MANY_REQUESTS
                }
                UpstreamErrorKind::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
                UpstreamErrorKind::Timeout => StatusCode::GATEWAY_TIMEOUT,
                UpstreamErrorKind::Auth
                | UpstreamErrorKind::Server
                | UpstreamErrorKind::Connect
                | UpstreamErrorKind::Protocol => StatusCode::BAD_GATEWAY,
            },
        }
    }

    /// The Open Responses error `type`, decided by what went wrong (its status agrees).
    pub fn error_type(&self) -> ErrorType {
        match self {
            Self::InvalidRequest { .. }
            | Self::PayloadTooLarge { .. }
            | Self::RequestTimeout { .. }
            | Self::Cancelled => ErrorType::InvalidRequest,
            Self::NotFound { .. } => ErrorType::NotFound,
            Self::Unauthorized { .. } => ErrorType::Authentication,
            Self::QueueFull { .. }
            | Self::RateLimited { .. }
            | Self::CallerLimit { .. }
            | Self::BackgroundLimit { .. } => ErrorType::TooManyRequests,
            Self::NoHealthyProvider { .. }
            | Self::StoreUnavailable(_)
            | Self::AuthUnavailable
            | Self::Overloaded { .. }
            | Self::ShuttingDown
            | Self::Internal(_) => ErrorType::Server,
            Self::Upstream(e) => match e.kind {
                UpstreamErrorKind::BadRequest
                | UpstreamErrorKind::ContentFilter
                | UpstreamErrorKind::ContextLengthExceeded => ErrorType::InvalidRequest,
                UpstreamErrorKind::NotFound => ErrorType::NotFound,
                UpstreamErrorKind::RateLimited | UpstreamErrorKind::QuotaExceeded => {
                    ErrorType::TooManyRequests
                }
                UpstreamErrorKind::Overloaded
                | UpstreamErrorKind::Timeout
                | UpstreamErrorKind::Auth
                | UpstreamErrorKind::Server
                | UpstreamErrorKind::Connect
                | UpstreamErrorKind::Protocol => ErrorType::Server,
            },
        }
    }

    /// The machine-readable `code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest { code, .. }
            | Self::NotFound { code, .. }
            | Self::CallerLimit { code, .. }
            | Self::Unauthorized { code, .. } => code,
            Self::AuthUnavailable => "authentication_unavailable",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::RequestTimeout { .. } => "request_timeout",
            Self::Overloaded { .. } => "server_overloaded",
            Self::QueueFull { .. } => "provider_queue_full",
            Self::NoHealthyProvider { .. } => "no_healthy_provider",
            Self::RateLimited { .. } => "rate_limit_exceeded",
            Self::ShuttingDown => "server_shutting_down",
            Self::BackgroundLimit { .. } => "background_limit_reached",
            Self::Cancelled => "response_cancelled",
            Self::StoreUnavailable(_) => "conversation_store_unavailable",
            Self::Internal(_) => "internal_error",
            Self::Upstream(e) => match e.kind {
                UpstreamErrorKind::BadRequest => "upstream_invalid_request",
                UpstreamErrorKind::NotFound => "model_not_found",
                UpstreamErrorKind::Auth => "upstream_authentication_failed",
                UpstreamErrorKind::RateLimited => "rate_limit_exceeded",
                UpstreamErrorKind::QuotaExceeded => "insufficient_quota",
                // The codes OpenAI uses, which agents (Codex) act on by name.
                UpstreamErrorKind::Overloaded => "server_is_overloaded",
                UpstreamErrorKind::Server => "upstream_error",
                UpstreamErrorKind::Timeout => "upstream_timeout",
                UpstreamErrorKind::Connect => "upstream_unreachable",
                UpstreamErrorKind::Protocol => "upstream_protocol_error",
                UpstreamErrorKind::ContentFilter => "content_filter",
                UpstreamErrorKind::ContextLengthExceeded => "context_length_exceeded",
            },
        }
    }

    /// The parameter at fault.
    pub fn param(&self) -> Option<String> {
        match self {
            Self::InvalidRequest { param, .. } | Self::NotFound { param, .. } => param.clone(),
            Self::Upstream(e) => e.param.clone(),
            Self::PayloadTooLarge { .. }
            | Self::RequestTimeout { .. }
            | Self::Overloaded { .. }
            | Self::QueueFull { .. }
            | Self::NoHealthyProvider { .. }
            | Self::RateLimited { .. }
            | Self::CallerLimit { .. }
            | Self::ShuttingDown
            | Self::BackgroundLimit { .. }
            | Self::Cancelled
            | Self::StoreUnavailable(_)
            | Self::Unauthorized { .. }
            | Self::AuthUnavailable
            | Self::Internal(_) => None,
        }
    }

    /// The suggested wait before retrying, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::QueueFull { retry_after, .. }
            | Self::NoHealthyProvider { retry_after, .. }
            | Self::CallerLimit { retry_after, .. }
            | Self::RateLimited { retry_after, .. } => Some(*retry_after),
            Self::Upstream(e) => e.retry_after,
            Self::AuthUnavailable => Some(AUTH_RETRY_AFTER),
            Self::Overloaded { .. } => Some(Duration::from_secs(1)),
            Self::InvalidRequest { .. }
            | Self::NotFound { .. }
            | Self::PayloadTooLarge { .. }
            | Self::RequestTimeout { .. }
            | Self::StoreUnavailable(_)
            | Self::Unauthorized { .. }
            | Self::ShuttingDown
            | Self::BackgroundLimit { .. }
            | Self::Cancelled
            | Self::Internal(_) => None,
        }
    }
}

/// The Open Responses error `type`s the gateway answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    /// `invalid_request_error`: the request cannot be served as sent.
    InvalidRequest,
    /// `authentication_error`: no valid credentials.
    Authentication,
    /// `not_found`: what the request names does not exist.
    NotFound,
    /// `too_many_requests`: a limit; retry later.
    TooManyRequests,
    /// `server_error`: the gateway or an upstream failed.
    Server,
}

impl ErrorType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request_error",
            Self::Authentication => "authentication_error",
            Self::NotFound => "not_found",
            Self::TooManyRequests => "too_many_requests",
            Self::Server => "server_error",
        }
    }

    /// The type for an HTTP status no `GatewayError` produced (actix's own empty 404/405/413
    /// answers, filled in by `http::empty_errors`).
    pub fn for_status(status: u16) -> Self {
        match status {
            401 => Self::Authentication,
            404 => Self::NotFound,
            429 => Self::TooManyRequests,
            400..=499 => Self::InvalidRequest,
            _ => Self::Server,
        }
    }
}
