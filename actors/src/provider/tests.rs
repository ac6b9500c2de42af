//! Provider actor tests: queue limits, breaker transitions and 429 cooling with paused time,
//! local limits, and what reaches the router.

use std::sync::Mutex;

use super::*;
use crate::breaker::BreakerState;

fn limits(max_concurrency: usize, max_queue: usize) -> ProviderLimits {
    ProviderLimits {
        max_concurrency,
        max_queue,
        queue_timeout: Duration::from_millis(200),
        failure_threshold: 2,
        cooldown: Duration::from_secs(60),
        rpm: None,
        tpm: None,
        fleet: None,
    }
}

/// Starts a provider actor; the request path takes permits from its gate.
fn started(limits: ProviderLimits) -> (Addr<ProviderActor>, Arc<ProviderGate>) {
    let actor = ProviderActor::new("p", limits, None);
    let gate = actor.gate();
    (actor.start(), gate)
}

/// Collects every update a provider publishes.
#[derive(Default)]
struct Spy(Arc<Mutex<Vec<InstanceUpdate>>>);

impl Actor for Spy {
    type Context = Context<Self>;
}

impl Handler<InstanceUpdate> for Spy {
    type Result = ();

    fn handle(&mut self, msg: InstanceUpdate, _: &mut Self::Context) {
        self.0.lock().unwrap().push(msg);
    }
}

type Seen = Arc<Mutex<Vec<InstanceUpdate>>>;

fn spied(limits: ProviderLimits) -> (Addr<ProviderActor>, Arc<ProviderGate>, Seen) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let spy = Spy(seen.clone()).start();
    let actor = ProviderActor::new("p", limits, Some(spy.recipient()));
    let gate = actor.gate();
    (actor.start(), gate, seen)
}

/// Lets queued `do_send`s reach the actors.
async fn settle() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

#[actix_rt::test]
async fn full_queue_is_refused_at_once() {
    let (_actor, gate) = started(limits(1, 1));
    let held = gate.acquire("m", 10).await.unwrap();
    let queued = gate.clone();
    let waiter = actix_rt::spawn(async move { queued.acquire("m", 10).await });
    settle().await;
    let refused = gate.acquire("m", 10).await;
    assert!(matches!(refused, Err(AdmissionError::QueueFull { .. })));
    drop(held);
    assert!(
        waiter.await.unwrap().is_ok(),
        "the waiter gets the freed slot"
    );
}

#[actix_rt::test]
async fn waiting_too_long_is_refused() {
    let (actor, gate) = started(limits(1, 4));
    let _held = gate.acquire("m", 10).await.unwrap();
    let refused = gate.acquire("m", 10).await;
    assert!(matches!(refused, Err(AdmissionError::QueueFull { .. })));
    assert_eq!(actor.send(Status).await.unwrap().waiting, 0);
}

#[actix_rt::test]
async fn breaker_opens_half_opens_after_the_cooldown_and_closes_on_a_good_probe() {
    tokio::time::pause();
    let (actor, gate, seen) = spied(limits(4, 4));
    for _ in 0..2 {
        let mut permit = gate.acquire("m", 10).await.unwrap();
        permit.report(ReportOutcome::Failure);
    }
    settle().await;
    assert_eq!(
        actor.send(Status).await.unwrap().breaker,
        BreakerState::Open
    );
    let refused = gate.acquire("m", 10).await;
    assert!(matches!(refused, Err(AdmissionError::CircuitOpen { .. })));
    let opened = seen.lock().unwrap().last().cloned().unwrap();
    assert!(
        opened.availability.open_until.is_some(),
        "the router is told"
    );

    tokio::time::advance(Duration::from_secs(61)).await;
    assert_eq!(
        actor.send(Status).await.unwrap().breaker,
        BreakerState::HalfOpen
    );
    let mut probe = gate.acquire("m", 10).await.unwrap();
    let second = gate.acquire("m", 10).await;
    assert!(
        matches!(second, Err(AdmissionError::CircuitOpen { .. })),
        "one probe at a time"
    );
    probe.report(ReportOutcome::Success {
        ttfb: Duration::from_millis(5),
    });
    drop(probe);
    settle().await;
    assert_eq!(
        actor.send(Status).await.unwrap().breaker,
        BreakerState::Closed
    );
    let closed = seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(closed.availability.open_until, None);
}

#[actix_rt::test]
async fn a_429_cools_the_model_for_exactly_its_retry_after() {
    tokio::time::pause();
    let (_actor, gate, seen) = spied(limits(4, 4));
    let mut permit = gate.acquire("m", 10).await.unwrap();
    permit.report(ReportOutcome::RateLimited {
        model: "m".into(),
        retry_after: Some(Duration::from_secs(20)),
    });
    drop(permit);
    settle().await;
    let cooling = seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(cooling.availability.cooling.len(), 1);
    tokio::time::advance(Duration::from_secs(19)).await;
    let refused = gate.acquire("m", 10).await;
    assert_eq!(
        refused.unwrap_err(),
        AdmissionError::RateLimited {
            retry_after: Duration::from_secs(1)
        }
    );
    assert!(gate.acquire("other", 1).await.is_ok());
    tokio::time::advance(Duration::from_secs(1)).await;
    assert!(gate.acquire("m", 10).await.is_ok());
}

#[actix_rt::test]
async fn rpm_limit_refuses_then_refills() {
    tokio::time::pause();
    let mut l = limits(8, 8);
    l.rpm = Some(2);
    let (_actor, gate, seen) = spied(l);
    let _a = gate.acquire("m", 10).await.unwrap();
    let _b = gate.acquire("m", 10).await.unwrap();
    let refused = gate.acquire("m", 10).await.unwrap_err();
    assert_eq!(
        refused,
        AdmissionError::RateLimited {
            retry_after: Duration::from_secs(30)
        }
    );
    settle().await;
    assert!(
        seen.lock()
            .unwrap()
            .last()
            .unwrap()
            .availability
            .limited_until
            .is_some()
    );
    tokio::time::advance(Duration::from_secs(30)).await;
    assert!(gate.acquire("m", 10).await.is_ok());
}

#[actix_rt::test]
async fn tpm_estimates_are_corrected_by_usage() {
    tokio::time::pause();
    let mut l = limits(8, 8);
    l.tpm = Some(600);
    let (_actor, gate) = started(l);
    let mut permit = gate.acquire("m", 100).await.unwrap();
    permit.settle_tokens(600); // 500 more than estimated: 0 left
    drop(permit);
    settle().await;
    let refused = gate.acquire("m", 10).await.unwrap_err();
    assert_eq!(
        refused,
        AdmissionError::RateLimited {
            retry_after: Duration::from_secs(1)
        }
    );
    let mut permit = {
        tokio::time::advance(Duration::from_secs(60)).await;
        gate.acquire("m", 600).await.unwrap()
    };
    permit.settle_tokens(0); // nothing used after all: all back
    drop(permit);
    settle().await;
    assert!(gate.acquire("m", 600).await.is_ok());
}

#[actix_rt::test]
async fn in_flight_and_latency_are_live_and_only_health_changes_are_published() {
    let (actor, gate, seen) = spied(limits(4, 4));
    let mut one = gate.acquire("m", 10).await.unwrap();
    let two = gate.acquire("m", 10).await.unwrap();
    settle().await;
    let gate = ProviderActor::new("p", limits(4, 4), None).gate();
    let _held = gate.acquire("m", 1).await.unwrap();
    assert_eq!(gate.stats().in_flight, 1);
    let status = actor.send(Status).await.unwrap();
    assert_eq!(status.in_flight, 2);
    one.report(ReportOutcome::Success {
        ttfb: Duration::from_millis(250),
    });
    drop(one);
    drop(two);
    settle().await;
    let status = actor.send(Status).await.unwrap();
    assert_eq!(status.in_flight, 0);
    assert_eq!(status.ttfb, Some(Duration::from_millis(250)));
    // Calls in flight and latency are read live: the router heard the (healthy) state once.
    let updates = seen.lock().unwrap().clone();
    assert_eq!(updates.len(), 1, "{updates:?}");
    assert_eq!(updates[0].availability, Availability::default());
}

#[actix_rt::test]
async fn a_registered_gate_feeds_least_busy_routing_live() {
    use crate::{Plan, Resolve, Route, RouteError, RouterActor, Strategy, Target};
    struct Busy;
    impl Resolve for Busy {
        fn resolve(&self, _: &str, _: Option<&str>) -> Result<Plan, RouteError> {
            let target = |provider: &str| Target {
                candidate: crate::Candidate {
                    provider: provider.into(),
                    model: "m".into(),
                },
                weight: 1,
                price: None,
            };
            Ok(Plan {
                strategy: Strategy::LeastBusy,
                targets: vec![target("a"), target("b")],
                fallbacks: vec![],
            })
        }
    }
    let router = RouterActor::with_seed(Busy, 7);
    let table = router.table();
    let a = ProviderActor::new("a", limits(4, 4), None).gate();
    let b = ProviderActor::new("b", limits(4, 4), None).gate();
    table.register("a", a.clone());
    table.register("b", b.clone());
    let first = |table: &crate::RouteTable<Busy>| {
        table.route(&Route::default()).unwrap().candidates[0]
            .provider
            .clone()
    };
    let held = a.acquire("m", 1).await.unwrap();
    assert_eq!(first(&table), "b");
    drop(held);
    let _b1 = b.acquire("m", 1).await.unwrap();
    assert_eq!(first(&table), "a");
}

#[actix_rt::test]
async fn a_queued_wait_dropped_with_its_request_gives_the_admission_back() {
    let mut limited = limits(1, 4);
    limited.rpm = Some(2);
    let gate = ProviderActor::new("p", limited, None).gate();
    let held = gate.acquire("m", 1).await.unwrap();
    // The second caller is admitted (rpm charged) and queues; its request is then dropped.
    let waiting = tokio::time::timeout(Duration::from_millis(20), gate.acquire("m", 1)).await;
    assert!(waiting.is_err(), "it was still waiting for the slot");
    assert_eq!(gate.status().waiting, 0);
    drop(held);
    // Its rpm charge came back: a third call fits in the minute's quota of two.
    assert!(gate.acquire("m", 1).await.is_ok());
}

#[actix_rt::test]
async fn a_dropped_waiter_does_not_keep_the_half_open_probe() {
    let gate = ProviderActor::new("p", limits(1, 4), None).gate();
    let mut held = gate.acquire("m", 1).await.unwrap();
    // Two failures open the breaker; after the cooldown one probe may pass.
    held.report(ReportOutcome::Failure);
    drop(held);
    let mut second = gate.acquire("m", 1).await.unwrap();
    second.report(ReportOutcome::Failure);
    tokio::time::pause();
    tokio::time::advance(Duration::from_secs(61)).await;
    drop(second);
    let blocker = gate.slots.clone().try_acquire_owned().unwrap();
    // The probe's caller queues behind the blocker, then its request is dropped.
    let probe = tokio::time::timeout(Duration::from_millis(20), gate.acquire("m", 1)).await;
    assert!(probe.is_err());
    drop(blocker);
    assert!(
        gate.acquire("m", 1).await.is_ok(),
        "the probe was given back, so the next caller may probe"
    );
}

/// Collects every trip a gate reports to the fleet.
#[derive(Default)]
struct TripSpy(Arc<Mutex<Vec<Tripped>>>);

impl Actor for TripSpy {
    type Context = Context<Self>;
}

impl Handler<Tripped> for TripSpy {
    type Result = ();

    fn handle(&mut self, msg: Tripped, _: &mut Self::Context) {
        self.0.lock().unwrap().push(msg);
    }
}

#[actix_rt::test]
async fn trips_are_reported_to_the_fleet_and_remote_trips_apply_without_echo() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let gate = ProviderGate::new("p", limits(4, 4), None);
    gate.share_trips(TripSpy(seen.clone()).start().recipient());
    gate.record(&ReportOutcome::RateLimited {
        model: "m".into(),
        retry_after: Some(Duration::from_secs(30)),
    });
    gate.record(&ReportOutcome::Failure);
    gate.record(&ReportOutcome::Failure);
    gate.record(&ReportOutcome::Failure); // already open: no second report
    settle().await;
    let trips: Vec<Trip> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|t| t.trip.clone())
        .collect();
    assert_eq!(
        trips,
        [Trip::Cooling { model: "m".into() }, Trip::BreakerOpen]
    );
    assert_eq!(seen.lock().unwrap()[1].lasts, Duration::from_secs(60));

    let other = ProviderGate::new("q", limits(4, 4), None);
    other.share_trips(TripSpy(seen.clone()).start().recipient());
    other.apply_trip(&Trip::Cooling { model: "m".into() }, Duration::from_secs(5));
    assert!(matches!(
        other.acquire("m", 1).await,
        Err(AdmissionError::RateLimited { .. })
    ));
    assert!(other.acquire("n", 1).await.is_ok(), "only that model cools");
    other.apply_trip(&Trip::BreakerOpen, Duration::from_secs(5));
    assert!(matches!(
        other.acquire("n", 1).await,
        Err(AdmissionError::CircuitOpen { .. })
    ));
    settle().await;
    assert_eq!(
        seen.lock().unwrap().len(),
        2,
        "applied trips are not re-published"
    );
}

#[actix_rt::test]
async fn fleet_limits_come_from_the_lease_pool_and_refusals_give_back() {
    let pool = Arc::new(LeasePool::new(
        Some(10),
        None,
        0.2,
        Duration::from_millis(50),
    ));
    let lease = pool.lease_now(Instant::now()).unwrap();
    assert_eq!(lease.requests, 2);
    pool.granted(lease, lease, Duration::ZERO, Instant::now());
    let gate = ProviderGate::new(
        "p",
        ProviderLimits {
            rpm: Some(10),
            fleet: Some(pool.clone()),
            ..limits(1, 0)
        },
        None,
    );
    let held = gate.acquire("m", 1).await.unwrap();
    // No free slot and no queue: refused, and the pool gets its unit back.
    assert!(matches!(
        gate.acquire("m", 1).await,
        Err(AdmissionError::QueueFull { .. })
    ));
    drop(held);
    assert!(gate.acquire("m", 1).await.is_ok(), "the second unit");
    // The pool is empty and nobody leases: refused after the bounded wait.
    assert!(matches!(
        gate.acquire("m", 1).await,
        Err(AdmissionError::RateLimited { .. })
    ));
}
