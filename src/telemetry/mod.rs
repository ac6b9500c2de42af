//! Distributed tracing: OpenTelemetry spans for every request, exported over OTLP/HTTP
//! (protobuf) by a batch processor on its own thread, so export never runs on the request path
//! and an unreachable collector only drops spans. W3C trace context comes in on `traceparent` /
//! `tracestate` and goes upstream on every provider call ([`propagation`]).
//!
//! Off by default at zero cost: without a configured endpoint no OpenTelemetry layer is
//! installed and every span constructor in [`spans`] returns `Span::none()` after one relaxed
//! atomic load. The gateway's spans use their own target ([`TARGET`]); the log layer never sees
//! them ([`hide_from_logs`]), and the OpenTelemetry layer sees nothing else (no log events, so no
//! bodies or messages can leak into spans).

pub mod propagation;
pub mod spans;

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::{
    Resource,
    trace::{Sampler, SdkTracerProvider},
};
use tracing::Subscriber;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{
    EnvFilter, Layer,
    filter::{FilterFn, Filtered, filter_fn},
    registry::LookupSpan,
};

pub use spans::traced;

use crate::{config::TracingConfig, error::GatewayError};

/// The `tracing` target of every span meant for OpenTelemetry.
pub const TARGET: &str = "llm_gateway::otel";

/// How long one export (one batch POST to the collector) may take.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether a [`Telemetry`] is running (set by [`Telemetry::start`], cleared when it drops).
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether spans are being recorded for export.
#[inline]
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The OpenTelemetry pipeline: a tracer provider with a batch OTLP/HTTP exporter. Dropping it
/// exports what is queued (bounded by the export timeout) and turns tracing off.
pub struct Telemetry {
    provider: SdkTracerProvider,
}

/// The OpenTelemetry layer for a subscriber `S`, seeing only the gateway's own spans.
pub type OtelLayer<S> = Filtered<
    tracing_opentelemetry::OpenTelemetryLayer<S, opentelemetry_sdk::trace::SdkTracer>,
    FilterFn,
    S,
>;

impl Telemetry {
    /// Starts the exporter for `config`; `Ok(None)` when tracing is off (no endpoint).
    pub fn start(config: &TracingConfig) -> Result<Option<Self>, GatewayError> {
        let Some(endpoint) = &config.otlp_endpoint else {
            return Ok(None);
        };
        // The blocking reqwest client runs on the batch processor's own thread (the async one
        // would panic there: no reactor). `OTEL_EXPORTER_OTLP_HEADERS` adds headers (API keys).
        let exporter = SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(endpoint.clone())
            .with_timeout(EXPORT_TIMEOUT)
            .build()
            .map_err(|e| GatewayError::Internal(format!("cannot start the OTLP exporter: {e}")))?;
        let sampler =
            Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(config.sample_ratio)));
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_sampler(sampler)
            .with_resource(
                Resource::builder()
                    .with_service_name(config.service_name.clone())
                    .build(),
            )
            .build();
        ENABLED.store(true, Ordering::Relaxed);
        Ok(Some(Self { provider }))
    }

    /// The `tracing` layer that turns the gateway's spans into OpenTelemetry spans.
    pub fn layer<S>(&self) -> OtelLayer<S>
    where
        S: Subscriber + for<'span> LookupSpan<'span>,
    {
        let tracer = self.provider.tracer("llm-gateway");
        let own_spans: fn(&tracing::Metadata<'_>) -> bool = |meta| meta.target() == TARGET;
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_location(false)
            .with_threads(false)
            .with_target(false)
            .with_tracked_inactivity(false)
            .with_filter(filter_fn(own_spans))
    }

    /// Exports every finished span now (blocks until the collector answered or timed out).
    pub fn flush(&self) -> Result<(), GatewayError> {
        self.provider
            .force_flush()
            .map_err(|e| GatewayError::Internal(format!("span export failed: {e}")))
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        ENABLED.store(false, Ordering::Relaxed);
        if let Err(err) = self.provider.shutdown_with_timeout(EXPORT_TIMEOUT) {
            tracing::warn!(error = %err, "Tracing shutdown: some spans were not exported.");
        }
    }
}

/// `filter` without the gateway's OpenTelemetry spans, for the log layer: log lines look the
/// same with tracing on or off.
pub fn hide_from_logs(filter: EnvFilter) -> EnvFilter {
    match format!("{TARGET}=off").parse() {
        Ok(directive) => filter.add_directive(directive),
        Err(_) => filter,
    }
}

/// The trace id of `span` (32 hex digits) for log lines; empty when tracing is off.
pub fn trace_id(span: &tracing::Span) -> String {
    if !enabled() || span.is_none() {
        return String::new();
    }
    let context = span.context();
    let span_context = context.span().span_context().clone();
    if span_context.is_valid() {
        span_context.trace_id().to_string()
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_an_endpoint_there_is_no_pipeline() {
        assert!(
            Telemetry::start(&TracingConfig::default())
                .unwrap()
                .is_none()
        );
        assert!(!enabled());
        assert_eq!(trace_id(&tracing::Span::none()), "");
    }
}
