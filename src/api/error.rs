//! The Open Responses error object returned with every non-2xx status.

use serde::{Deserialize, Serialize};

/// `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorObject,
}

/// The error fields (also the payload of the streaming `error` event).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorObject {
    /// Category: `invalid_request_error`, `not_found`, `too_many_requests`, `server_error`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// Machine-readable code.
    pub code: Option<String>,
    /// Human-readable message.
    pub message: String,
    /// The request parameter at fault.
    pub param: Option<String>,
}
