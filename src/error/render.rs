//! How a `GatewayError` reaches the caller: the public message (internal detail never
//! included), the wire error object, and the HTTP response with its headers.

use actix_web::{HttpResponse, ResponseError, http::StatusCode};

use super::{GatewayError, UpstreamErrorKind, whole_seconds};
use crate::api::{ErrorBody, ErrorObject};

impl GatewayError {
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
            kind: self.error_type().as_str().to_owned(),
            code: Some(self.code().to_owned()),
            message: self.public_message(),
            param: self.param(),
        }
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
