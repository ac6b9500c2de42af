//! The one structured info line per model request ("Request finished."): who, which model and
//! provider, attempts, status, latency, time to first byte, tokens and cost. Ids, names and
//! numbers only: never keys, tokens or bodies.

use std::time::Duration;

use crate::api::{ResponseStatus, Usage};

/// How a request ended.
pub(super) struct Outcome<'a> {
    /// HTTP status (for a stream that failed after its first byte, the status of its error;
    /// 499 when the client left first).
    pub status: u16,
    /// The error code, when it failed.
    pub error_code: Option<&'static str>,
    /// The error as the gateway words it (never an upstream body), when it failed.
    pub error: Option<&'a str>,
    /// The response id, when one was produced.
    pub response_id: Option<&'a str>,
    /// The response's own status, when one was produced.
    pub response_status: Option<ResponseStatus>,
    /// Total time.
    pub latency: Duration,
    /// Time until the answer's first byte could be sent (the whole answer for JSON and errors).
    pub ttfb: Duration,
    /// Token usage (zero when unknown).
    pub usage: Usage,
    /// Cost in USD, when the model is priced.
    pub cost: Option<f64>,
    /// The client left before the answer ended.
    pub client_disconnect: bool,
}

/// Everything the line carries.
pub(super) struct Line<'a> {
    pub request_id: &'a str,
    pub caller: &'a str,
    pub model: &'a str,
    pub upstream_model: &'a str,
    pub provider: &'a str,
    pub attempts: u32,
    pub failovers: u32,
    pub retries: u32,
    pub stream: bool,
    /// The OpenTelemetry trace id (empty while tracing is off).
    pub trace_id: &'a str,
    pub outcome: &'a Outcome<'a>,
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn status_name(status: Option<ResponseStatus>) -> &'static str {
    match status {
        None => "",
        Some(ResponseStatus::Queued) => "queued",
        Some(ResponseStatus::InProgress) => "in_progress",
        Some(ResponseStatus::Completed) => "completed",
        Some(ResponseStatus::Failed) => "failed",
        Some(ResponseStatus::Incomplete) => "incomplete",
        Some(ResponseStatus::Cancelled) => "cancelled",
    }
}

/// Writes the line at info.
pub(super) fn request_finished(line: &Line<'_>) {
    let outcome = line.outcome;
    let usage = &outcome.usage;
    tracing::info!(
        request_id = line.request_id,
        trace_id = line.trace_id,
        caller = line.caller,
        model = line.model,
        upstream_model = line.upstream_model,
        provider = line.provider,
        attempts = line.attempts,
        failovers = line.failovers,
        retries = line.retries,
        status = outcome.status,
        error_code = outcome.error_code.unwrap_or(""),
        error = outcome.error.unwrap_or(""),
        response_id = outcome.response_id.unwrap_or(""),
        response_status = status_name(outcome.response_status),
        stream = line.stream,
        client_disconnect = outcome.client_disconnect,
        latency_ms = millis(outcome.latency),
        ttfb_ms = millis(outcome.ttfb),
        input_tokens = usage.input_tokens,
        output_tokens = usage.output_tokens,
        cached_tokens = usage.input_tokens_details.cached_tokens,
        reasoning_tokens = usage.output_tokens_details.reasoning_tokens,
        cost_usd = outcome.cost.unwrap_or(0.0),
        priced = outcome.cost.is_some(),
        "Request finished."
    );
}
