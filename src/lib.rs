//! llm-gateway: one Open Responses endpoint in front of OpenAI, Azure OpenAI, Anthropic and Gemini.
//!
//! What runs for one request (docs/architecture.md has the picture): the `http` layer takes the
//! gateway current when the request starts (`http::current`; a SIGHUP reload swaps it for later
//! requests), the `auth` middleware turns credentials into a `Caller` (or a 401), the handler
//! parses and validates a `CreateResponse` (`api`), and `gateway` runs it in the request's own
//! worker: history from the conversation store, a route from the router's `RouteTable`, a permit
//! from each candidate's `ProviderGate` (no actor message on this path), then `providers::*`
//! (pure translation + thin transport). The upstream stream becomes Open Responses events in a
//! `stream::ResponseEmitter`, written as SSE (or assembled into one JSON response); finished
//! responses are stored back. An `observability::RequestObserver` records each request once at
//! its end (log line, metrics, cost, usage); `http::request_id` tags every response and opens its
//! `telemetry` span. The actors (crate `gateway-actors`) own that state and write it: provider
//! actors hold the gates, the router actor the route table (and builds a new one on reload), the
//! conversation actor runs the store's expiry timer. In fleet mode the `fleet` actor keeps the
//! gates' lease pools, cooling and breakers in sync with the other replicas through Redis, off
//! the request path. Caller quotas (`quota`) are checked once the input is known and settled from
//! the real usage at the end; in a fleet they are one Redis script call per limited request.
//!
//! Glossary (one name per thing):
//! - *provider instance*: one `providers:` block (`openai`, `azure-eu`, …) with its kind
//!   (`ProviderKind`: OpenAI, Azure OpenAI, Anthropic, Google — "Gemini" is Google's API).
//! - *Chat Completions*: the wire format Azure OpenAI is called with (`providers::chat`) and the
//!   inbound front door `POST /v1/chat/completions` (`frontdoor::chat`); `gateway-chat` is the
//!   terminal client crate in `chat/`.
//! - *front door*: a way in other than `POST /v1/responses` (`frontdoor`: Chat Completions,
//!   WebSocket, compaction); `http` holds every HTTP handler.
//! - *gateway*: the request engine (`gateway::Gateway`), one per configuration.
//! - *compaction*: `POST /v1/responses/compact` (`frontdoor::compact`) and the expansion of its
//!   items on later input (`gateway::compaction`).

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
pub mod quota;
pub mod rate_limits;
pub mod routing;
pub mod seal;
pub mod stream;
pub mod telemetry;

pub use error::GatewayError;

/// The crate version (`gateway --version`, `gateway_build_info{version}`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The git commit built, short (`unknown` outside a git checkout); set by `build.rs`.
pub const COMMIT: &str = env!("GATEWAY_GIT_COMMIT");
