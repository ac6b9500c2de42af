//! Gemini provider tests.
