//! Tests for the Anthropic provider.
