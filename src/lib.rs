//! llm-gateway: one Open Responses endpoint in front of OpenAI, Azure OpenAI, Anthropic and Gemini.
//!
//! What runs for one request (docs/architecture.md has the picture): the `http` layer takes the
//! engine current when the request starts (`http::current`; a SIGHUP reload swaps it for later
//! requests), the `auth` middleware turns credentials into a `Caller` (or a 401), the handler
//! parses and validates a `CreateResponse` (`api`), and the `engine` runs it in the request's own
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
//! Glossary (one name per thing; config keys keep the predecessor's spelling):
//! - *engine*: the request engine (`engine::Engine`), one per configuration; a reload builds a new
//!   one (`engine::reload::EngineHandle`). "Gateway" is the product and the process.
//! - *provider instance*: one `providers:` block (`openai`, `azure-eu`, …) with its kind
//!   (`ProviderKind::{OpenAi, Azure, Anthropic, Gemini}`, config names `openai`, `azureopenai`,
//!   `anthropic`, `google`). Each kind has one module in `providers` (`openai`, `azure`,
//!   `anthropic`, `gemini`) with its client (`AzureClient`, …) and stream translator
//!   (`AzureStream`, …). Azure OpenAI is called with the Chat Completions wire format, whose one
//!   model (`api::chat_completions`) the Chat Completions front door shares.
//! - *Chat Completions front door*: the inbound `POST /v1/chat/completions`
//!   (`frontdoor::chat_completions`, handler `http::chat_completions`); `gateway-chat` is the
//!   terminal client crate in `chat/`.
//! - *front door*: a protocol other than Open Responses over HTTP (`frontdoor`: Chat Completions,
//!   WebSocket); `http` holds every HTTP handler, the front doors' included.
//! - *compaction*: `POST /v1/responses/compact` and the expansion of its items on later input,
//!   both in `engine::compaction` (handler `http::compact`).

pub mod api;
pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod engine;
pub mod error;
pub mod fleet;
pub mod frontdoor;
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
