//! Upstream failures: how a provider call failed (`UpstreamErrorKind`) and the error a
//! provider client returns (`UpstreamError`), with a safe message and log-only detail.

use std::time::Duration;

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
