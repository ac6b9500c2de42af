//! Failover tests: refusals summarised into one error, and what a failed attempt reports.

use super::*;
use crate::error::UpstreamError;

#[test]
fn refusals_prefer_429_with_the_soonest_wait_and_never_500() {
    let mut r = Refusals::default();
    r.add(
        "a",
        AdmissionError::CircuitOpen {
            retry_after: Duration::from_secs(1),
        },
    );
    r.add(
        "b",
        AdmissionError::RateLimited {
            retry_after: Duration::from_secs(9),
        },
    );
    r.add(
        "c",
        AdmissionError::RateLimited {
            retry_after: Duration::from_secs(4),
        },
    );
    let err = r.into_error("m");
    assert_eq!(err.status().as_u16(), 429);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(4)));

    let mut full = Refusals::default();
    full.add(
        "a",
        AdmissionError::QueueFull {
            retry_after: Duration::from_secs(1),
        },
    );
    full.add(
        "b",
        AdmissionError::CircuitOpen {
            retry_after: Duration::from_secs(1),
        },
    );
    assert_eq!(full.into_error("m").code(), "provider_queue_full");

    let mut open = Refusals::default();
    open.add(
        "a",
        AdmissionError::CircuitOpen {
            retry_after: Duration::from_secs(3),
        },
    );
    assert_eq!(open.into_error("m").status().as_u16(), 503);
    assert_eq!(Refusals::default().into_error("m").status().as_u16(), 503);
}

#[test]
fn a_429_cools_the_model_and_5xx_count_against_health() {
    let limited: GatewayError = UpstreamError::new("p", UpstreamErrorKind::RateLimited, "x")
        .with_retry_after(Some(Duration::from_secs(2)))
        .into();
    assert_eq!(
        outcome_of(&limited, "m"),
        ReportOutcome::RateLimited {
            model: "m".into(),
            retry_after: Some(Duration::from_secs(2))
        }
    );
    let server: GatewayError = UpstreamError::new("p", UpstreamErrorKind::Server, "x").into();
    assert_eq!(outcome_of(&server, "m"), ReportOutcome::Failure);
    let bad: GatewayError = UpstreamError::new("p", UpstreamErrorKind::BadRequest, "x").into();
    assert_eq!(outcome_of(&bad, "m"), ReportOutcome::Abandoned);
}
