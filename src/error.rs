//! `GatewayError`: every failure the gateway can answer with, mapped once to the Open Responses
//! error object and HTTP status. Upstream details go to logs (debug), never to clients.

use std::time::Duration;

use actix_web::{HttpResponse, ResponseError, http::StatusCode};

use crate::{
    api::{ErrorBody, ErrorObject},
    rate_limits::RateLimits,
};

/// The wait suggested while the identity provider's keys are not loaded.
const AUTH_RETRY_AFTER: Duration = Duration::from_secs(5);

/// Everything that can go wrong while serving a request.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The request is malformed or violates a constraint (400).
    #[error("{message}")]
    InvalidRequest {
        /// What is wrong, for the caller.
        message: String,
        /// The offending parameter.
        param: Option<String>,
        /// Machine-readable code.
        code: &'static str,
    },
    /// Something the request names does not exist (404).
    #[error("{message}")]
    NotFound {
        /// What is missing.
        message: String,
        /// The offending parameter.
        param: Option<String>,
        /// Machine-readable code (`model_not_found`, `previous_response_not_found`,
        /// `response_not_found`, ...).
        code: &'static str,
    },
    /// The body exceeds `server.max_body_bytes` (413).
    #[error("request body exceeds the limit of {limit} bytes")]
    PayloadTooLarge {
        /// The configured limit.
        limit: usize,
    },
    /// A provider's wait queue is full (429 with retry-after).
    #[error("provider {provider} is at capacity; retry later")]
    QueueFull {
        /// The provider instance.
        provider: String,
        /// Suggested wait.
        retry_after: Duration,
    },
    /// Every candidate's breaker is open (503 with retry-after).
    #[error("no healthy provider for model {model}; retry later")]
    NoHealthyProvider {
        /// The requested model.
        model: String,
        /// Until the first breaker half-opens.
        retry_after: Duration,
    },
    /// Every candidate is cooling after an upstream 429 or at its local rpm/tpm limit (429
    /// with the soonest retry-after).
    #[error("every provider for model {model} is rate limited; try again in {}s", whole_seconds(*.retry_after))]
    RateLimited {
        /// The requested model.
        model: String,
        /// Until the first candidate takes calls again.
        retry_after: Duration,
    },
    /// The caller is over its own limit (`quotas:`): 429 `quota_exceeded` (`rpm`/`tpm`) or
    /// `budget_exceeded`, with a retry-after until the window allows it and the caller's
    /// rate-limit headers.
    #[error("{message}")]
    CallerLimit {
        /// `quota_exceeded` or `budget_exceeded`.
        code: &'static str,
        /// Which limit, for the caller.
        message: String,
        /// Until the limit allows the request.
        retry_after: Duration,
        /// The caller's limits now.
        limits: RateLimits,
    },
    /// The request body did not arrive within `server.body_timeout` (408; the connection is
    /// closed, since the rest of the body is still on its way).
    #[error("the request body did not arrive within {}s", .after.as_secs_f64())]
    RequestTimeout {
        /// The configured body timeout.
        after: Duration,
    },
    /// The gateway is protecting itself (bodies in flight over their memory bound) (503).
    #[error("{message}")]
    Overloaded {
        /// What is over its bound, for the caller.
        message: &'static str,
    },
    /// The gateway is shutting down and closed the request (503).
    #[error("the gateway is shutting down; retry on another instance")]
    ShuttingDown,
    /// Too many background responses are running, for this caller or in total (429).
    #[error("too many background responses are running {scope}; retry when one has finished")]
    BackgroundLimit {
        /// `for this caller` or `on this gateway`.
        scope: &'static str,
    },
    /// A background response was cancelled by its owner (the `error` event that ends its
    /// stream; never an HTTP status of its own).
    #[error("the response was cancelled")]
    Cancelled,
    /// The conversation store (Redis) cannot be reached, and the request needs it (503).
    /// The detail is for logs only.
    #[error("conversation store unavailable: {0}")]
    StoreUnavailable(String),
    /// Credentials are missing or invalid (401 with `WWW-Authenticate: Bearer`). `reason` is a
    /// fixed sentence; why a signature failed goes to logs only.
    #[error("{reason}")]
    Unauthorized {
        /// Machine-readable code (`missing_credentials`, `invalid_token`, …).
        code: &'static str,
        /// What was wrong, for the caller.
        reason: &'static str,
    },
    /// Bearer tokens cannot be checked yet: the issuer's signing keys are not loaded (503).
    #[error(
        "authentication is not available yet: the identity provider's signing keys are not \
         loaded; retry shortly"
    )]
    AuthUnavailable,
    /// An upstream provider failed.
    #[error("{0}")]
    Upstream(#[from] UpstreamError),
    /// A bug or broken invariant inside the gateway (500).
    #[error("internal error: {0}")]
    Internal(String),
}

/// How an upstream call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamErrorKind {
    /// The provider rejected the request as invalid (400).
    BadRequest,
    /// Model/deployment not found upstream (404).
    NotFound,
    /// The gateway's own credentials were refused (401/403 → 502).
    Auth,
    /// Rate limited (429, retryable).
    RateLimited,
    /// Quota or billing exhausted (429, not retryable).
    QuotaExceeded,
    /// Provider overloaded/unavailable (503, Anthropic 529).
    Overloaded,
    /// Provider 5xx.
    Server,
    /// No answer in time.
    Timeout,
    /// Could not connect.
    Connect,
    /// The provider answered something we cannot understand.
    Protocol,
    /// The provider's content filter blocked the prompt (400).
    ContentFilter,
    /// The input (plus the requested output) does not fit the model's context window (400;
    /// agents compact their history on `context_length_exceeded`).
    ContextLengthExceeded,
}

/// An upstream failure: a safe client message plus log-only detail.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct UpstreamError {
    /// Provider instance name.
    pub provider: String,
    /// Failure class.
    pub kind: UpstreamErrorKind,
    /// Message safe to show the caller.
    pub message: String,
    /// Upstream retry hint.
    pub retry_after: Option<Duration>,
    /// The parameter the upstream blamed, if any.
    pub param: Option<String>,
    /// Raw detail for debug logs only (may contain upstream bodies).
    pub detail: String,
}

impl UpstreamError {
    /// A new upstream error.
    pub fn new(provider: &str, kind: UpstreamErrorKind, message: impl Into<String>) -> Self {
        Self {
            provider: provider.to_owned(),
            kind,
            message: message.into(),
            retry_after: None,
            param: None,
            detail: String::new(),
        }
    }

    /// Attaches log-only detail.
    #[must_use]
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    /// Attaches a retry hint.
    #[must_use]
    pub fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// Whether another attempt (same or next candidate) may succeed.
    pub fn is_retryable(&self) -> bool {
        match self.kind {
            UpstreamErrorKind::RateLimited
            | UpstreamErrorKind::Overloaded
            | UpstreamErrorKind::Server
            | UpstreamErrorKind::Timeout
            | UpstreamErrorKind::Connect => true,
            UpstreamErrorKind::BadRequest
            | UpstreamErrorKind::NotFound
            | UpstreamErrorKind::Auth
            | UpstreamErrorKind::QuotaExceeded
            | UpstreamErrorKind::Protocol
            | UpstreamErrorKind::ContentFilter
            | UpstreamErrorKind::ContextLengthExceeded => false,
        }
    }
}

impl GatewayError {
    /// A 400 for `param`.
    pub fn invalid(message: impl Into<String>, param: Option<&str>) -> Self {
        Self::InvalidRequest {
            message: message.into(),
            param: param.map(str::to_owned),
            code: "invalid_request",
        }
    }

    /// Whether failover to the next candidate may help.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Upstream(e) => e.is_retryable(),
            Self::QueueFull { .. } | Self::NoHealthyProvider { .. } | Self::RateLimited { .. } => {
                true
            }
            Self::InvalidRequest { .. }
            | Self::CallerLimit { .. }
            | Self::ShuttingDown
            | Self::BackgroundLimit { .. }
            | Self::Cancelled
            | Self::RequestTimeout { .. }
            | Self::Overloaded { .. }
            | Self::NotFound { .. }
            | Self::PayloadTooLarge { .. }
            | Self::StoreUnavailable(_)
            | Self::Unauthorized { .. }
            | Self::AuthUnavailable
            | Self::Internal(_) => false,
        }
    }

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

    /// The Open Responses error `type`.
    pub fn error_type(&self) -> &'static str {
        error_type_of(self.status().as_u16())
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

    /// The message shown to the caller (internal detail is never included).
    pub fn public_message(&self) -> String {
        match self {
            Self::Internal(_) => "The gateway hit an internal error.".to_owned(),
            // The store's own error (host names, OS errors) goes to logs only.
            Self::StoreUnavailable(_) => {
                "The conversation store is unavailable, so stored responses cannot be read or \
                 changed right now; retry later."
                    .to_owned()
            }
            Self::InvalidRequest { .. }
            | Self::NotFound { .. }
            | Self::PayloadTooLarge { .. }
            | Self::RequestTimeout { .. }
            | Self::Overloaded { .. }
            | Self::QueueFull { .. }
            | Self::NoHealthyProvider { .. }
            | Self::RateLimited { .. }
            | Self::CallerLimit { .. }
            | Self::ShuttingDown
            | Self::BackgroundLimit { .. }
            | Self::Cancelled
            | Self::Unauthorized { .. }
            | Self::AuthUnavailable => self.to_string(),
            // OpenAI's wording, which clients such as Codex parse for their backoff.
            Self::Upstream(e) => match (e.kind, e.retry_after) {
                (UpstreamErrorKind::RateLimited, Some(wait)) => {
                    format!(
                        "{} Please try again in {}s.",
                        e.message,
                        whole_seconds(wait)
                    )
                }
                _ => e.message.clone(),
            },
        }
    }

    /// The wire error object (also the payload of a streaming `error` event).
    pub fn to_object(&self) -> ErrorObject {
        ErrorObject {
            kind: self.error_type().to_owned(),
            code: Some(self.code().to_owned()),
            message: self.public_message(),
            param: self.param(),
        }
    }
}

/// A wait in whole seconds, rounded up and at least 1 (`retry-after`, "try again in Ns").
fn whole_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// The Open Responses error `type` for an HTTP status.
pub fn error_type_of(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        404 => "not_found",
        429 => "too_many_requests",
        400..=499 => "invalid_request_error",
        _ => "server_error",
    }
}

impl ResponseError for GatewayError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut builder = HttpResponse::build(self.status());
        if let Self::RequestTimeout { .. } = self {
            // The rest of the body may still be coming: this connection cannot carry another
            // request.
            builder.force_close();
        }
        if let Some(wait) = self.retry_after() {
            let secs = wait.as_secs_f64().ceil().max(1.0);
            builder.insert_header(("retry-after", format!("{secs}")));
        }
        if let Self::CallerLimit { limits, .. } = self {
            for header in limits.headers() {
                builder.insert_header(header);
            }
        }
        if let Self::Unauthorized { code, .. } = self {
            // RFC 6750 §3: no error attribute when no credentials were sent at all.
            let challenge = if *code == "missing_credentials" {
                "Bearer realm=\"llm-gateway\""
            } else {
                "Bearer realm=\"llm-gateway\", error=\"invalid_token\""
            };
            builder.insert_header(("www-authenticate", challenge));
        }
        builder.json(ErrorBody {
            error: self.to_object(),
        })
    }
}

#[cfg(test)]
mod tests {
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
}
