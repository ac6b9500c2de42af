//! The gateway's spans and their attributes. One trace per request:
//!
//! ```text
//! POST /v1/responses                 server: http.*, the caller's traceparent as parent
//! ├── auth
//! └── responses gpt-4o               internal: gen_ai.* (request, response, usage), error.type
//!     ├── conversation load          only with previous_response_id
//!     ├── routing                    gateway.route.candidates
//!     ├── chat gpt-4o                client, one per upstream attempt: provider, instance,
//!     │                              attempt number, upstream status, TTFB, error.type
//!     └── conversation store
//! ```
//!
//! Attribute names follow the OpenTelemetry HTTP and GenAI semantic conventions; gateway-only
//! ones start with `gateway.`. Ids, names, numbers and error codes only: never prompt or
//! completion content, keys or tokens. Every constructor returns `Span::none()` while tracing is
//! off, and every recorder is then a no-op.

use std::{future::Future, time::Duration};

use actix_web::dev::ServiceRequest;
use gateway_actors::{AdmissionError, Routed};
use opentelemetry::{Array, StringValue, Value, trace::TraceContextExt};
use tracing::{Instrument, Span, field::Empty};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::{TARGET, enabled, propagation};
use crate::{
    api::{Item, ProviderKind, ResponseResource, ResponseStatus},
    config::ProviderConfig,
    error::GatewayError,
};

/// `gen_ai.operation.name` of the gateway-level span (every front door runs a Responses request).
pub const OPERATION_RESPONSES: &str = "responses";
/// `gen_ai.operation.name` of an upstream attempt (a chat-model inference at every provider).
pub const OPERATION_CHAT: &str = "chat";

/// `gen_ai.provider.name` of a provider family (GenAI semantic conventions).
pub fn provider_name(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::OpenAi => "openai",
        ProviderKind::Azure => "azure.ai.openai",
        ProviderKind::Anthropic => "anthropic",
        ProviderKind::Gemini => "gcp.gemini",
    }
}

/// An integer attribute value: OpenTelemetry integers are `i64`, and `tracing-opentelemetry`
/// would export unsigned values as strings.
fn int(value: impl TryInto<i64>) -> i64 {
    value.try_into().unwrap_or(i64::MAX)
}

/// Runs `future` inside `span`, recording the error's code as `error.type` when it fails.
pub async fn traced<T, F>(span: Span, future: F) -> Result<T, GatewayError>
where
    F: Future<Output = Result<T, GatewayError>>,
{
    let result = future.instrument(span.clone()).await;
    if let Err(err) = &result {
        record_error(&span, err.code());
    }
    result
}

/// Marks `span` failed with `error_type` (a gateway error code).
pub fn record_error(span: &Span, error_type: &str) {
    span.record("error.type", error_type);
    span.record("otel.status_code", "error");
}

/// Probes and scrapes, called every few seconds: not traced.
pub const UNTRACED_PATHS: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

/// The root span of one HTTP request, continuing the caller's `traceparent` when it sent one
/// (none for [`UNTRACED_PATHS`]).
pub fn request(req: &ServiceRequest, request_id: &str) -> Span {
    if !enabled() || UNTRACED_PATHS.contains(&req.path()) {
        return Span::none();
    }
    let method = req.method().as_str();
    let route = req.match_pattern();
    let name = match &route {
        Some(route) => format!("{method} {route}"),
        None => method.to_owned(),
    };
    let span = tracing::info_span!(
        target: TARGET,
        "request",
        otel.name = %name,
        otel.kind = "server",
        otel.status_code = Empty,
        http.request.method = %method,
        http.route = route.as_deref().unwrap_or(""),
        url.path = req.path(),
        http.response.status_code = Empty,
        error.type = Empty,
        gateway.request.id = request_id,
    );
    // Before the span starts: a parent can only be set on a span not yet built.
    let parent = propagation::extract(req.headers());
    if parent.span().span_context().is_valid() {
        let _ = span.set_parent(parent);
    }
    span
}

/// Records the response status on the root span (5xx marks it failed, as HTTP servers do).
pub fn record_status(span: &Span, status: u16) {
    if span.is_none() {
        return;
    }
    span.record("http.response.status_code", i64::from(status));
    if status >= 500 {
        record_error(span, &status.to_string());
    }
}

/// Authentication of one request.
pub fn auth() -> Span {
    if !enabled() {
        return Span::none();
    }
    tracing::info_span!(target: TARGET, "auth", error.type = Empty, otel.status_code = Empty)
}

/// The gateway-level span of one model request (a WebSocket turn has no HTTP span around it
/// and becomes a root).
pub fn gen_ai(request_id: &str, model: &str, stream: bool) -> Span {
    if !enabled() {
        return Span::none();
    }
    let name = if model.is_empty() {
        OPERATION_RESPONSES.to_owned()
    } else {
        format!("{OPERATION_RESPONSES} {model}")
    };
    tracing::info_span!(
        target: TARGET,
        "gen_ai",
        otel.name = %name,
        otel.kind = "internal",
        otel.status_code = Empty,
        gen_ai.operation.name = OPERATION_RESPONSES,
        gen_ai.provider.name = Empty,
        gen_ai.request.model = model,
        gen_ai.response.model = Empty,
        gen_ai.response.id = Empty,
        gen_ai.usage.input_tokens = Empty,
        gen_ai.usage.output_tokens = Empty,
        gateway.request.id = request_id,
        gateway.stream = stream,
        gateway.provider.instance = Empty,
        gateway.attempts = Empty,
        error.type = Empty,
    )
}

/// The finish reasons of a response, in the conventions' vocabulary.
fn finish_reasons(response: &ResponseResource) -> Option<&'static str> {
    match response.status {
        ResponseStatus::Completed => Some(
            if response
                .output
                .iter()
                .any(|item| matches!(item, Item::FunctionCall(_)))
            {
                "tool_calls"
            } else {
                "stop"
            },
        ),
        ResponseStatus::Incomplete => Some(
            match response
                .incomplete_details
                .as_ref()
                .map(|d| d.reason.as_str())
            {
                Some("content_filter") => "content_filter",
                _ => "length",
            },
        ),
        ResponseStatus::Failed | ResponseStatus::Cancelled => Some("error"),
        ResponseStatus::InProgress | ResponseStatus::Queued => None,
    }
}

/// Records a finished response on the gateway-level span; `error_code` when it failed.
pub fn record_response(
    span: &Span,
    response: &ResponseResource,
    attempts: u32,
    error_code: Option<&str>,
) {
    if span.is_none() {
        return;
    }
    span.record("gen_ai.response.model", response.model.as_str());
    span.record("gen_ai.response.id", response.id.as_str());
    span.record("gateway.attempts", i64::from(attempts));
    if let Some(usage) = &response.usage {
        span.record("gen_ai.usage.input_tokens", int(usage.input_tokens));
        span.record("gen_ai.usage.output_tokens", int(usage.output_tokens));
    }
    if let Some(reason) = finish_reasons(response) {
        let reasons = Array::String(vec![StringValue::from(reason)]);
        span.set_attribute("gen_ai.response.finish_reasons", Value::Array(reasons));
    }
    if let Some(code) = error_code {
        record_error(span, code);
    }
}

/// Choosing the candidates for `model`.
pub fn routing(model: &str) -> Span {
    if !enabled() {
        return Span::none();
    }
    tracing::info_span!(
        target: TARGET,
        "routing",
        gen_ai.request.model = model,
        gateway.route.candidates = Empty,
        gateway.route.first = Empty,
        error.type = Empty,
        otel.status_code = Empty,
    )
}

/// Records the router's answer on the routing span.
pub fn record_route(span: &Span, routed: &Routed) {
    if span.is_none() {
        return;
    }
    span.record("gateway.route.candidates", int(routed.candidates.len()));
    if let Some(first) = routed.candidates.first() {
        span.record("gateway.route.first", first.provider.as_str());
    }
}

/// Loading the conversation `previous_response_id` continues (none without one).
pub fn conversation_load(previous_response_id: Option<&str>, store: &str) -> Span {
    if !enabled() || previous_response_id.is_none() {
        return Span::none();
    }
    tracing::info_span!(
        target: TARGET,
        "conversation load",
        gateway.conversation.store = store,
        error.type = Empty,
        otel.status_code = Empty,
    )
}

/// Storing the finished response.
pub fn conversation_store(store: &str) -> Span {
    if !enabled() {
        return Span::none();
    }
    tracing::info_span!(
        target: TARGET,
        "conversation store",
        gateway.conversation.store = store,
        error.type = Empty,
        otel.status_code = Empty,
    )
}

/// Attempt `number` of a request (counted over every candidate) on instance `config` for
/// upstream `model`: a child of the request's gateway-level span `parent`, which records the
/// provider it is trying.
pub fn attempt(parent: &Span, number: u32, config: &ProviderConfig, model: &str) -> Span {
    if !enabled() {
        return Span::none();
    }
    let provider = provider_name(config.kind);
    parent.record("gen_ai.provider.name", provider);
    parent.record("gateway.provider.instance", config.name.as_str());
    let host = reqwest::Url::parse(&config.base_url)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
        .unwrap_or_default();
    let name = format!("{OPERATION_CHAT} {model}");
    tracing::info_span!(
        target: TARGET,
        parent: parent,
        "upstream attempt",
        otel.name = %name,
        otel.kind = "client",
        otel.status_code = Empty,
        gen_ai.operation.name = OPERATION_CHAT,
        gen_ai.provider.name = provider,
        gen_ai.request.model = model,
        server.address = host,
        gateway.provider.instance = config.name.as_str(),
        gateway.attempt = i64::from(number),
        http.response.status_code = Empty,
        gateway.ttfb_ms = Empty,
        error.type = Empty,
    )
}

/// Records the time to the first translated event on the current span (the attempt).
pub fn record_ttfb(ttfb: Duration) {
    if enabled() {
        Span::current().record("gateway.ttfb_ms", int(ttfb.as_millis()));
    }
}

/// `error.type` of an admission refusal.
pub fn refusal_type(err: &AdmissionError) -> &'static str {
    match err {
        AdmissionError::QueueFull { .. } => "provider_queue_full",
        AdmissionError::CircuitOpen { .. } => "circuit_open",
        AdmissionError::RateLimited { .. } => "rate_limited",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{CreateResponse, IncompleteDetails};

    #[test]
    fn finish_reasons_use_the_conventions_vocabulary() {
        let mut response = ResponseResource::in_progress(&CreateResponse::default(), "r", "m", 1);
        assert_eq!(finish_reasons(&response), None);
        response.status = ResponseStatus::Completed;
        assert_eq!(finish_reasons(&response), Some("stop"));
        response.status = ResponseStatus::Incomplete;
        response.incomplete_details = Some(IncompleteDetails {
            reason: "max_output_tokens".into(),
        });
        assert_eq!(finish_reasons(&response), Some("length"));
        response.incomplete_details = Some(IncompleteDetails {
            reason: "content_filter".into(),
        });
        assert_eq!(finish_reasons(&response), Some("content_filter"));
        response.status = ResponseStatus::Failed;
        assert_eq!(finish_reasons(&response), Some("error"));
    }

    #[test]
    fn spans_are_none_and_names_follow_the_conventions_while_tracing_is_off() {
        assert!(!enabled());
        assert!(gen_ai("r", "m", false).is_none());
        assert!(routing("m").is_none() && auth().is_none());
        assert!(conversation_load(Some("resp_1"), "memory").is_none());
        assert!(conversation_store("memory").is_none());
        assert_eq!(provider_name(ProviderKind::Azure), "azure.ai.openai");
        assert_eq!(provider_name(ProviderKind::Gemini), "gcp.gemini");
        assert_eq!(int(u64::MAX), i64::MAX);
    }
}
