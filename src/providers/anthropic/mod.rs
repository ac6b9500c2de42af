//! Anthropic Messages provider: pure translation (`translate`, `messages`, `response`, `stream`)
//! over our own wire types (`wire`), plus the thin transport. Reasoning state round-trips through
//! namespaced `encrypted_content` (`artifact`).
//!
//! Thinking signatures are always kept in the reasoning item's `encrypted_content`, whether or
//! not the caller asked for `include: ["reasoning.encrypted_content"]`: the gateway stores
//! history and must replay thinking blocks verbatim to continue a tool loop with thinking on
//! (Anthropic rejects the follow-up otherwise). Hiding it from callers who did not ask is a
//! rendering decision for the HTTP layer.

mod artifact;
mod content;
mod messages;
mod response;
mod search;
mod stream;
mod translate;
mod transport;
pub mod wire;

pub use response::{parse_error, parse_response};
pub use stream::AnthropicStream;
pub use translate::build_request;
pub use transport::AnthropicClient;
pub use wire::AnthropicRequest;

/// `anthropic-version` sent when the config names none.
pub const DEFAULT_API_VERSION: &str = "2023-06-01";

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
