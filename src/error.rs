//! `GatewayError`: every failure the gateway can answer with, mapped once to the Open Responses
//! error object and HTTP status. Upstream details go to logs (debug), never to clients.

mod render;
mod status;
mod upstream;

use std::time::Duration;

use crate::rate_limits::RateLimits;

pub use self::{
    status::ErrorType,
    upstream::{UpstreamError, UpstreamErrorKind},
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
}

/// A wait in whole seconds, rounded up and at least 1 (`retry-after`, "try again in Ns").
fn whole_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests;
