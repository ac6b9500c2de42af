//! W3C trace context: `traceparent` / `tracestate` read from the caller's request, written on
//! every upstream request (from the current span: the upstream attempt), and the upstream's
//! HTTP status recorded on that attempt. All of it is a no-op while tracing is off.

use opentelemetry::{
    Context,
    propagation::{Extractor, Injector, TextMapPropagator},
    trace::TraceContextExt,
};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::enabled;

/// The caller's request headers (actix-web's own header map) as an OpenTelemetry carrier.
struct Incoming<'a>(&'a actix_web::http::header::HeaderMap);

impl Extractor for Incoming<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// Upstream request headers (reqwest's map) as an OpenTelemetry carrier.
struct Outgoing<'a>(&'a mut HeaderMap);

impl Injector for Outgoing<'_> {
    fn set(&mut self, key: &str, value: String) {
        if value.is_empty() {
            return; // an empty `tracestate`
        }
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// The caller's trace context (`traceparent`, `tracestate`); an empty context when the caller
/// sent none or a malformed one (the request then starts a new trace).
pub fn extract(headers: &actix_web::http::header::HeaderMap) -> Context {
    TraceContextPropagator::new().extract(&Incoming(headers))
}

/// Adds `traceparent` (and `tracestate` when there is one) for the current span to `headers`.
/// Called by the transports right before a request goes upstream.
pub fn inject(headers: &mut HeaderMap) {
    if !enabled() {
        return;
    }
    let context = tracing::Span::current().context();
    if context.span().span_context().is_valid() {
        TraceContextPropagator::new().inject_context(&context, &mut Outgoing(headers));
    }
}

/// Records the upstream's HTTP status on the current span (the upstream attempt).
pub fn record_upstream_status(status: u16) {
    if enabled() {
        tracing::Span::current().record("http.response.status_code", i64::from(status));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_traceparent_is_extracted_and_garbage_is_ignored() {
        let mut headers = actix_web::http::header::HeaderMap::new();
        headers.insert(
            actix_web::http::header::HeaderName::from_static("traceparent"),
            actix_web::http::header::HeaderValue::from_static(
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ),
        );
        let context = extract(&headers);
        let span = context.span();
        let remote = span.span_context();
        assert!(remote.is_valid() && remote.is_remote() && remote.is_sampled());
        assert_eq!(
            remote.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );

        let mut bad = actix_web::http::header::HeaderMap::new();
        bad.insert(
            actix_web::http::header::HeaderName::from_static("traceparent"),
            actix_web::http::header::HeaderValue::from_static("00-zz-00-01"),
        );
        assert!(!extract(&bad).span().span_context().is_valid());
    }

    #[test]
    fn nothing_is_injected_while_tracing_is_off() {
        let mut headers = HeaderMap::new();
        inject(&mut headers);
        assert!(headers.is_empty());
    }
}
