//! Owns the shared integration-test harness: `spec` (Open Responses schema / SSE checks) and `mock_upstream`
//! (a fake OpenAI / Azure / Anthropic / Gemini server). Use it from `tests/*.rs` with `mod common;`.
#![allow(dead_code, unused_imports)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod gateway;
pub mod json;
pub mod mock_upstream;
pub mod redis;
pub mod spec;
