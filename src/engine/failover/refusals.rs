//! Refusals during failover as the caller sees them: the router's (no candidate at all), one
//! admission refusal as the error it would be on its own, and every refusal of a request
//! summarised into one error.

use std::time::Duration;

use gateway_actors::{AdmissionError, RouteError};

use crate::error::GatewayError;

/// The caller-facing error for a routing refusal: unknown model → 404; everything cooling or
/// at its limit → 429; only open breakers → 503. Never a 500.
pub(in crate::engine) fn route_error(model: &str, err: RouteError) -> GatewayError {
    match err {
        RouteError::UnknownModel(message) => GatewayError::NotFound {
            message,
            param: Some("model".to_owned()),
            code: "model_not_found",
        },
        RouteError::AllUnavailable {
            retry_after,
            rate_limited: true,
        } => GatewayError::RateLimited {
            model: model.to_owned(),
            retry_after,
        },
        RouteError::AllUnavailable {
            retry_after,
            rate_limited: false,
        } => GatewayError::NoHealthyProvider {
            model: model.to_owned(),
            retry_after,
        },
    }
}

/// A refused admission as the error it would be on its own (for logs and metrics).
pub(super) fn admission_error(provider: &str, model: &str, err: &AdmissionError) -> GatewayError {
    match *err {
        AdmissionError::QueueFull { retry_after } => GatewayError::QueueFull {
            provider: provider.to_owned(),
            retry_after,
        },
        AdmissionError::CircuitOpen { retry_after } => GatewayError::NoHealthyProvider {
            model: model.to_owned(),
            retry_after,
        },
        AdmissionError::RateLimited { retry_after } => GatewayError::RateLimited {
            model: model.to_owned(),
            retry_after,
        },
    }
}

/// Admission refusals seen so far, summarised into one error when nothing else happened.
#[derive(Default)]
pub(super) struct Refusals {
    /// Soonest end of a 429 cooling or local limit.
    pub(super) limited: Option<Duration>,
    /// A full queue (provider, suggested wait).
    pub(super) full: Option<(String, Duration)>,
    /// Soonest half-open of an open breaker.
    pub(super) open: Option<Duration>,
}

impl Refusals {
    pub(super) fn add(&mut self, provider: &str, err: AdmissionError) {
        let min = |slot: &mut Option<Duration>, wait: Duration| {
            *slot = Some(slot.map_or(wait, |w| w.min(wait)));
        };
        match err {
            AdmissionError::RateLimited { retry_after } => min(&mut self.limited, retry_after),
            AdmissionError::CircuitOpen { retry_after } => min(&mut self.open, retry_after),
            AdmissionError::QueueFull { retry_after } => {
                if self.full.as_ref().is_none_or(|(_, w)| retry_after < *w) {
                    self.full = Some((provider.to_owned(), retry_after));
                }
            }
        }
    }

    /// Cooling or limited anywhere → 429 with the soonest wait; else a full queue → 429; else
    /// open breakers → 503.
    pub(super) fn into_error(self, model: &str) -> GatewayError {
        let full_wait = self.full.as_ref().map(|(_, w)| *w);
        match (self.limited, self.full, self.open) {
            (Some(limited), _, _) => GatewayError::RateLimited {
                model: model.to_owned(),
                retry_after: full_wait.map_or(limited, |w| w.min(limited)),
            },
            (None, Some((provider, retry_after)), _) => GatewayError::QueueFull {
                provider,
                retry_after,
            },
            (None, None, open) => GatewayError::NoHealthyProvider {
                model: model.to_owned(),
                retry_after: open.unwrap_or(Duration::from_secs(1)),
            },
        }
    }
}
