//! llm-gateway: one Open Responses endpoint in front of OpenAI, Azure OpenAI, Anthropic and Gemini.
//!
//! Request flow: the `auth` middleware turns credentials into a `Caller` (or a 401), `http`
//! handlers parse and validate a `CreateResponse` (`api`), load history from
//! the conversation actor, ask the router actor for ordered candidates, take a permit from each
//! candidate's provider actor, and call `providers::*` (pure translation + thin transport). The
//! upstream stream is translated into Open Responses events by a `stream::ResponseEmitter` and
//! written as SSE (or assembled into one JSON response). Finished responses are stored back.
//! An `observability::RequestObserver` follows each request and records it once at its end
//! (log line, Prometheus metrics, cost and usage); `http::request_id` tags every response and
//! opens its `telemetry` span (OpenTelemetry, exported over OTLP when configured).
//! In fleet mode the `fleet` actor keeps the provider gates' lease pools, cooling and breakers in
//! sync with the other replicas through Redis, off the request path.

pub mod api;
pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod error;
pub mod fleet;
pub mod frontdoor;
pub mod gateway;
pub mod http;
pub mod observability;
pub mod providers;
pub mod routing;
pub mod stream;
pub mod telemetry;

pub use error::GatewayError;

/// The crate version (`gateway --version`, `gateway_build_info{version}`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The git commit built, short (`unknown` outside a git checkout); set by `build.rs`.
pub const COMMIT: &str = env!("GATEWAY_GIT_COMMIT");
