use super::*;

fn pool(rpm: Option<u64>, tpm: Option<u64>) -> LeasePool {
    LeasePool::new(rpm, tpm, 0.1, Duration::from_millis(200))
}

#[test]
fn an_empty_pool_asks_for_a_batch_and_serves_from_it() {
    let t0 = Instant::now();
    let p = pool(Some(100), None);
    assert_eq!(p.try_take(0, t0), Take::Wait);
    let lease = p.lease_now(t0).unwrap();
    assert_eq!(lease.requests, 10);
    assert_eq!(p.lease_now(t0), None, "one lease at a time");
    p.granted(lease, lease, Duration::ZERO, t0);
    for _ in 0..10 {
        assert_eq!(p.try_take(0, t0), Take::Granted);
    }
    assert_eq!(p.try_take(0, t0), Take::Wait);
}

#[test]
fn an_empty_fleet_bucket_refuses_until_its_refill() {
    let t0 = Instant::now();
    let p = pool(Some(6), None);
    let lease = p.lease_now(t0).unwrap();
    p.granted(lease, Lease::default(), Duration::from_secs(10), t0);
    assert_eq!(
        p.try_take(0, t0 + Duration::from_secs(4)),
        Take::Refused(Duration::from_secs(6))
    );
    assert_eq!(p.lease_now(t0 + Duration::from_secs(4)), None);
    assert!(p.lease_now(t0 + Duration::from_secs(10)).is_some());
}

#[test]
fn a_large_request_leases_its_shortfall_and_overruns_are_owed() {
    let t0 = Instant::now();
    let p = pool(None, Some(10_000));
    assert_eq!(p.try_take(5_000, t0), Take::Wait);
    let lease = p.lease_now(t0).unwrap();
    assert_eq!(lease.tokens, 1_000 + 5_000);
    p.granted(lease, lease, Duration::ZERO, t0);
    assert_eq!(p.try_take(5_000, t0), Take::Granted);
    p.give_back(0, -2_000); // used 7,000
    assert_eq!(
        p.try_take(1, t0),
        Take::Wait,
        "1,000 left minus the overrun"
    );
}

#[test]
fn degraded_pools_enforce_the_local_share_and_recover_empty() {
    let t0 = Instant::now();
    let p = pool(Some(6), None);
    p.degrade(2, t0);
    for _ in 0..3 {
        assert_eq!(p.try_take(0, t0), Take::Granted);
    }
    assert_eq!(p.try_take(0, t0), Take::Refused(Duration::from_secs(20)));
    p.recover();
    assert_eq!(p.try_take(0, t0), Take::Wait);
}

#[test]
fn idle_leases_are_handed_back() {
    let t0 = Instant::now();
    let p = pool(Some(100), None);
    let lease = p.lease_now(t0).unwrap();
    p.granted(lease, lease, Duration::ZERO, t0);
    assert_eq!(p.take_idle(Duration::from_secs(5), t0), None);
    let idle = p.take_idle(Duration::from_secs(5), t0 + Duration::from_secs(6));
    assert_eq!(idle.map(|l| l.requests), Some(10));
    assert_eq!(p.drain(), Lease::default());
}

#[tokio::test(start_paused = true)]
async fn a_request_waits_for_a_lease_at_most_max_wait() {
    let p = std::sync::Arc::new(pool(Some(100), None));
    let taker = tokio::spawn({
        let p = p.clone();
        async move { p.take(0).await }
    });
    p.low().await;
    let lease = p.lease_now(Instant::now()).unwrap();
    p.granted(lease, lease, Duration::ZERO, Instant::now());
    assert_eq!(taker.await.unwrap(), Ok(()));
    // No lease comes: the request gives up after max_wait.
    let p = pool(Some(100), None);
    let started = Instant::now();
    assert_eq!(p.take(0).await, Err(LEASE_LATE_RETRY_AFTER));
    assert_eq!(started.elapsed(), Duration::from_millis(200));
}
