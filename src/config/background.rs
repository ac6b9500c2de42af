//! The `background:` block: bounds on background responses (`background: true`), which run on
//! after their request ends and so need their own limits.

use std::time::Duration;

use serde::Deserialize;

use super::ConfigError;

/// Default most background responses running at once in this process.
const DEFAULT_MAX_RUNNING: usize = 256;
/// Default most background responses one caller may have running at once.
const DEFAULT_MAX_PER_CALLER: usize = 32;
/// Default most events kept per background response for resumed streams.
const DEFAULT_EVENT_BUFFER: usize = 10_000;
/// Default time after which a background response whose replica stopped beating is failed.
const DEFAULT_HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(10);

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
    /// With a shared (Redis) store: a response whose replica has not beaten for this long is
    /// marked `failed` by the next replica that reads it (default "10s").
    pub heartbeat_timeout: Option<String>,
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
    /// How long a runner's heartbeat lives (it beats at a fifth of it).
    pub heartbeat_timeout: Duration,
}

impl Default for BackgroundConfig {
    fn default() -> Self {
        Self {
            max_running: DEFAULT_MAX_RUNNING,
            max_per_caller: DEFAULT_MAX_PER_CALLER,
            event_buffer: DEFAULT_EVENT_BUFFER,
            heartbeat_timeout: DEFAULT_HEARTBEAT_TIMEOUT,
        }
    }
}

/// Validates the `background:` block.
pub fn validate_background(raw: RawBackground) -> Result<BackgroundConfig, ConfigError> {
    let config = BackgroundConfig {
        max_running: raw.max_running.unwrap_or(DEFAULT_MAX_RUNNING),
        max_per_caller: raw.max_per_caller.unwrap_or(DEFAULT_MAX_PER_CALLER),
        event_buffer: raw.event_buffer.unwrap_or(DEFAULT_EVENT_BUFFER),
        heartbeat_timeout: super::duration(
            raw.heartbeat_timeout.as_ref(),
            DEFAULT_HEARTBEAT_TIMEOUT,
            "background.heartbeat_timeout",
        )?,
    };
    if config.heartbeat_timeout < Duration::from_millis(500) {
        return Err(ConfigError::Invalid {
            path: "background.heartbeat_timeout".to_owned(),
            message: "must be at least 500ms".to_owned(),
        });
    }
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
