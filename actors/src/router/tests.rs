//! Router tests: availability filtering (updates through the actor, routes from its table),
//! strategies, the weighted split.

use super::*;
use crate::strategy::Price;

struct Rules;

fn target(provider: &str, weight: u32) -> Target {
    Target {
        candidate: Candidate {
            provider: provider.into(),
            model: "m".into(),
        },
        weight,
        price: None,
    }
}

impl Resolve for Rules {
    fn resolve(&self, model: &str, _: Option<&str>) -> Result<Plan, RouteError> {
        let (strategy, targets) = match model {
            "unknown" => return Err(RouteError::UnknownModel("no".into())),
            "split" => (Strategy::Weighted, vec![target("a", 90), target("b", 10)]),
            "busy" => (Strategy::LeastBusy, vec![target("a", 1), target("b", 1)]),
            "fast" => (Strategy::Latency, vec![target("a", 1), target("b", 1)]),
            "cheap" => {
                let mut a = target("a", 1);
                a.price = Some(Price {
                    input: 5.0,
                    output: 15.0,
                });
                let mut b = target("b", 1);
                b.price = Some(Price {
                    input: 0.15,
                    output: 0.6,
                });
                (Strategy::Cost, vec![a, b])
            }
            _ => (Strategy::Priority, vec![target("a", 1), target("b", 1)]),
        };
        Ok(Plan {
            strategy,
            targets,
            fallbacks: vec![Candidate {
                provider: "fallback".into(),
                model: "f".into(),
            }],
        })
    }
}

fn route(model: &str) -> Route {
    Route {
        model: model.into(),
        ..Route::default()
    }
}

fn update(provider: &str, f: impl FnOnce(&mut Availability)) -> InstanceUpdate {
    let mut availability = Availability::default();
    f(&mut availability);
    InstanceUpdate {
        provider: provider.into(),
        availability,
    }
}

/// Routes `msg` the way the request path does: from the table the actor keeps.
async fn providers(table: &RouteTable<Rules>, msg: Route) -> Vec<String> {
    table
        .route(&msg)
        .unwrap()
        .candidates
        .into_iter()
        .map(|c| c.provider)
        .collect()
}

#[actix_rt::test]
async fn open_breakers_cooling_models_and_limits_are_skipped() {
    let actor = RouterActor::new(Rules);
    let table = actor.table();
    let router = actor.start();
    let later = Instant::now() + Duration::from_secs(30);
    router
        .send(update("a", |a| a.open_until = Some(later)))
        .await
        .unwrap();
    let routed = table.route(&route("m")).unwrap();
    assert_eq!(
        routed.skipped_open.map(|w| w > Duration::from_secs(29)),
        Some(true)
    );
    assert_eq!(routed.skipped_limited, None);
    assert_eq!(providers(&table, route("m")).await, ["b", "fallback"]);
    router
        .send(update("b", |a| a.cooling = vec![("m".into(), later)]))
        .await
        .unwrap();
    router
        .send(update("fallback", |a| a.limited_until = Some(later)))
        .await
        .unwrap();
    let err = table.route(&route("m")).unwrap_err();
    let RouteError::AllUnavailable {
        retry_after,
        rate_limited,
    } = err
    else {
        panic!("{err:?}")
    };
    assert!(rate_limited, "cooling and limits are rate limits");
    assert!(retry_after <= Duration::from_secs(30) && retry_after > Duration::from_secs(29));
    router.send(update("a", |_| {})).await.unwrap();
    assert_eq!(providers(&table, route("m")).await, ["a"]);
}

#[actix_rt::test]
async fn only_open_breakers_are_not_a_rate_limit() {
    let actor = RouterActor::new(Rules);
    let table = actor.table();
    let router = actor.start();
    let soon = Instant::now() + Duration::from_secs(5);
    let later = Instant::now() + Duration::from_secs(50);
    for (p, until) in [("a", later), ("b", soon), ("fallback", later)] {
        router
            .send(update(p, |a| a.open_until = Some(until)))
            .await
            .unwrap();
    }
    let err = table.route(&route("m")).unwrap_err();
    let RouteError::AllUnavailable {
        retry_after,
        rate_limited,
    } = err
    else {
        panic!("{err:?}")
    };
    assert!(!rate_limited);
    assert!(
        retry_after <= Duration::from_secs(5),
        "the soonest: {retry_after:?}"
    );
}

#[actix_rt::test]
async fn a_cooling_model_does_not_block_other_models_on_the_instance() {
    let actor = RouterActor::new(Rules);
    let table = actor.table();
    let router = actor.start();
    let later = Instant::now() + Duration::from_secs(30);
    router
        .send(update("fallback", |a| {
            a.cooling = vec![("other".into(), later)]
        }))
        .await
        .unwrap();
    assert_eq!(providers(&table, route("m")).await, ["a", "b", "fallback"]);
}

#[actix_rt::test]
async fn weighted_90_10_over_10000_routing_decisions_lands_within_one_point() {
    let table = RouterActor::with_seed(Rules, 7).table();
    let mut first_a = 0;
    for _ in 0..10_000 {
        if providers(&table, route("split")).await[0] == "a" {
            first_a += 1;
        }
    }
    let share = f64::from(first_a) / 100.0;
    assert!((share - 90.0).abs() <= 1.0, "a got {share}%");
}

#[actix_rt::test]
async fn weighted_is_sticky_per_conversation() {
    let table = RouterActor::new(Rules).table();
    for key in 0..20u64 {
        let sticky = Route {
            sticky: Some(strategy::sticky_hash(&format!("resp_{key}"))),
            ..route("split")
        };
        let first = providers(&table, sticky.clone()).await;
        for _ in 0..10 {
            assert_eq!(providers(&table, sticky.clone()).await, first);
        }
    }
}

#[actix_rt::test]
async fn least_busy_and_latency_use_the_reported_stats() {
    let actor = RouterActor::new(Rules);
    let table = actor.table();
    let router = actor.start();
    router
        .send(update("a", |a| {
            a.stats = InstanceStats {
                in_flight: 7,
                ttfb: Some(Duration::from_millis(100)),
            }
        }))
        .await
        .unwrap();
    router
        .send(update("b", |a| {
            a.stats = InstanceStats {
                in_flight: 2,
                ttfb: Some(Duration::from_millis(800)),
            }
        }))
        .await
        .unwrap();
    assert_eq!(
        providers(&table, route("busy")).await,
        ["b", "a", "fallback"]
    );
    assert_eq!(
        providers(&table, route("fast")).await,
        ["a", "b", "fallback"]
    );
    let sized = Route {
        demand: Demand {
            input_tokens: 1_000,
            output_tokens: 1_000,
        },
        ..route("cheap")
    };
    assert_eq!(providers(&table, sized).await, ["b", "a", "fallback"]);
}

#[actix_rt::test]
async fn unknown_models_are_reported() {
    let table = RouterActor::new(Rules).table();
    let err = table.route(&route("unknown")).unwrap_err();
    assert!(matches!(err, RouteError::UnknownModel(_)));
}
