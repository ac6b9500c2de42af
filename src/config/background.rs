//! The `background:` block: bounds on background responses (`background: true`), which run on
//! after their request ends and so need their own limits.

use serde::Deserialize;

use super::ConfigError;

/// Default most background responses running at once in this process.
const DEFAULT_MAX_RUNNING: usize = 256;
/// Default most background responses one caller may have running at once.
const DEFAULT_MAX_PER_CALLER: usize = 32;
/// Default most events kept per background response for resumed streams.
const DEFAULT_EVENT_BUFFER: usize = 10_000;

/// `background:` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBackground {
    /// Most background responses running at once in this process (default 256; 0 turns
    /// background mode off).
    pub max_running: Option<usize>,
    /// Most background responses one caller may have running at once (default 32).
    pub max_per_caller: Option<usize>,
    /// Most events kept per response for `GET …?stream=true` (default 10000); older ones are
    /// dropped and can no longer be replayed.
    pub event_buffer: Option<usize>,
}

/// Background response bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackgroundConfig {
    /// Most running at once in this process.
    pub max_running: usize,
    /// Most running at once per caller.
    pub max_per_caller: usize,
    /// Most events kept per response.
    pub event_buffer: usize,
}

impl Default for BackgroundConfig {
    fn default() -> Self {
        Self {
            max_running: DEFAULT_MAX_RUNNING,
            max_per_caller: DEFAULT_MAX_PER_CALLER,
            event_buffer: DEFAULT_EVENT_BUFFER,
        }
    }
}

/// Validates the `background:` block.
pub fn validate_background(raw: RawBackground) -> Result<BackgroundConfig, ConfigError> {
    let config = BackgroundConfig {
        max_running: raw.max_running.unwrap_or(DEFAULT_MAX_RUNNING),
        max_per_caller: raw.max_per_caller.unwrap_or(DEFAULT_MAX_PER_CALLER),
        event_buffer: raw.event_buffer.unwrap_or(DEFAULT_EVENT_BUFFER),
    };
    if config.event_buffer < 16 {
        return Err(ConfigError::Invalid {
            path: "background.event_buffer".to_owned(),
            message: format!(
                "{} is too small to hold a response's first events; use at least 16",
                config.event_buffer
            ),
        });
    }
    Ok(config)
}
