//! Routing strategies: pure functions that order a model group's targets. No clock, no I/O, no
//! global randomness: live statistics come in as arguments and randomness from a [`SplitMix64`]
//! the caller seeds (the router's own generator, or one seeded by a conversation's sticky key).

use std::time::Duration;

/// One place to send a request: a provider instance and the upstream model name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Provider instance name.
    pub provider: String,
    /// Model (or deployment) name to send upstream.
    pub model: String,
}

/// How a model group picks among its targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// In declared order; the next one only on failure.
    #[default]
    Priority,
    /// A random split by weight (sticky for a conversation), the rest as fallbacks.
    Weighted,
    /// Fewest calls in flight first.
    LeastBusy,
    /// Lowest recent time to first byte (an exponentially weighted average) first.
    Latency,
    /// Cheapest estimated cost first.
    Cost,
}

impl Strategy {
    /// Every strategy with its config name.
    pub const ALL: [(&'static str, Strategy); 5] = [
        ("priority", Strategy::Priority),
        ("weighted", Strategy::Weighted),
        ("least_busy", Strategy::LeastBusy),
        ("latency", Strategy::Latency),
        ("cost", Strategy::Cost),
    ];

    /// Parses a config name (`priority`, `weighted`, `least_busy`, `latency`, `cost`).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, strategy)| *strategy)
    }
}

/// Price of a model in USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    /// Per million input tokens.
    pub input: f64,
    /// Per million output tokens.
    pub output: f64,
}

/// One target of a model group.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Where to send the request.
    pub candidate: Candidate,
    /// Share of traffic under `weighted` (0 = only as a fallback).
    pub weight: u32,
    /// Price used by `cost` (`None` sorts after every priced target).
    pub price: Option<Price>,
}

/// What the router knows about one provider instance right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InstanceStats {
    /// Calls holding a permit.
    pub in_flight: usize,
    /// Recent time to first byte; `None` before the first success.
    pub ttfb: Option<Duration>,
}

/// The size of a request, for the `cost` strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Demand {
    /// Estimated input tokens.
    pub input_tokens: u64,
    /// Expected output tokens.
    pub output_tokens: u64,
}

/// A small, fast, seedable generator (SplitMix64); good enough for traffic splits.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A number in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A stable 64-bit hash of a sticky key (FNV-1a): the same on every replica and release.
pub fn sticky_hash(key: &str) -> u64 {
    key.bytes().fold(0xCBF2_9CE4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01B3)
    })
}

/// The order in which to try `targets` (indices into it) under `strategy`. Ties keep the
/// declared order; `stats` gives the live view of a provider instance by name.
pub fn order(
    strategy: Strategy,
    targets: &[Target],
    stats: &dyn Fn(&str) -> InstanceStats,
    demand: Demand,
    rng: &mut SplitMix64,
) -> Vec<usize> {
    // Each key is read once, before sorting: live stats change while other requests run, and
    // a comparison that reads them again could see an inconsistent order (which `sort` may
    // answer with a panic).
    let keyed = |key: &dyn Fn(&Target) -> u128| -> Vec<usize> {
        let mut keys: Vec<(u128, usize)> = targets
            .iter()
            .enumerate()
            .map(|(i, t)| (key(t), i))
            .collect();
        // Stable, and the index breaks ties: the declared order.
        keys.sort_unstable();
        keys.into_iter().map(|(_, i)| i).collect()
    };
    match strategy {
        Strategy::Priority => (0..targets.len()).collect(),
        Strategy::Weighted => weighted(targets, rng),
        Strategy::LeastBusy => keyed(&|t| stats(&t.candidate.provider).in_flight as u128),
        // Unmeasured instances count as fastest, so every target gets measured.
        Strategy::Latency => keyed(&|t| {
            stats(&t.candidate.provider)
                .ttfb
                .unwrap_or(Duration::ZERO)
                .as_nanos()
        }),
        Strategy::Cost => {
            let costs: Vec<f64> = targets.iter().map(|t| cost(t, demand)).collect();
            let mut indices: Vec<usize> = (0..targets.len()).collect();
            indices.sort_by(|&a, &b| costs[a].total_cmp(&costs[b]).then(a.cmp(&b)));
            indices
        }
    }
}

/// Estimated cost of `demand` on `target` (infinite when its price is unknown).
pub fn cost(target: &Target, demand: Demand) -> f64 {
    target.price.map_or(f64::INFINITY, |p| {
        (p.input * demand.input_tokens as f64 + p.output * demand.output_tokens as f64) / 1e6
    })
}

/// Weighted sampling without replacement: the first index is drawn by weight, then the next
/// among the rest, and so on; zero-weight targets follow in declared order.
fn weighted(targets: &[Target], rng: &mut SplitMix64) -> Vec<usize> {
    let mut left: Vec<usize> = (0..targets.len())
        .filter(|&i| targets[i].weight > 0)
        .collect();
    let mut out = Vec::with_capacity(targets.len());
    while !left.is_empty() {
        let total: u64 = left.iter().map(|&i| u64::from(targets[i].weight)).sum();
        let mut point = rng.below(total);
        let mut pick = left.len() - 1;
        for (at, &i) in left.iter().enumerate() {
            let weight = u64::from(targets[i].weight);
            if point < weight {
                pick = at;
                break;
            }
            point -= weight;
        }
        out.push(left.remove(pick));
    }
    out.extend((0..targets.len()).filter(|&i| targets[i].weight == 0));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(provider: &str, weight: u32, price: Option<(f64, f64)>) -> Target {
        Target {
            candidate: Candidate {
                provider: provider.into(),
                model: "m".into(),
            },
            weight,
            price: price.map(|(input, output)| Price { input, output }),
        }
    }

    fn no_stats(_: &str) -> InstanceStats {
        InstanceStats::default()
    }

    fn run(
        strategy: Strategy,
        targets: &[Target],
        stats: &dyn Fn(&str) -> InstanceStats,
    ) -> Vec<usize> {
        order(
            strategy,
            targets,
            stats,
            Demand::default(),
            &mut SplitMix64::new(1),
        )
    }

    #[test]
    fn priority_keeps_the_declared_order() {
        let t = [
            target("a", 1, None),
            target("b", 1, None),
            target("c", 1, None),
        ];
        assert_eq!(run(Strategy::Priority, &t, &no_stats), [0, 1, 2]);
    }

    #[test]
    fn weighted_90_10_lands_within_one_point_over_10000_draws() {
        let t = [target("a", 90, None), target("b", 10, None)];
        let mut rng = SplitMix64::new(42);
        let firsts = (0..10_000)
            .filter(|_| {
                order(
                    Strategy::Weighted,
                    &t,
                    &no_stats,
                    Demand::default(),
                    &mut rng,
                )[0] == 0
            })
            .count();
        let share = firsts as f64 / 100.0;
        assert!((share - 90.0).abs() <= 1.0, "a got {share}%");
    }

    #[test]
    fn weighted_lists_every_target_once_and_zero_weights_last() {
        let t = [
            target("a", 0, None),
            target("b", 3, None),
            target("c", 1, None),
        ];
        for seed in 0..50 {
            let got = order(
                Strategy::Weighted,
                &t,
                &no_stats,
                Demand::default(),
                &mut SplitMix64::new(seed),
            );
            assert_eq!(got.len(), 3);
            assert_eq!(got[2], 0, "zero weight is only a fallback");
        }
    }

    #[test]
    fn a_sticky_key_always_picks_the_same_first_target() {
        let t = [target("a", 50, None), target("b", 50, None)];
        let pick = |key: &str| {
            order(
                Strategy::Weighted,
                &t,
                &no_stats,
                Demand::default(),
                &mut SplitMix64::new(sticky_hash(key)),
            )[0]
        };
        for key in ["conv-1", "conv-2", "conv-3"] {
            assert!((0..20).all(|_| pick(key) == pick(key)));
        }
        let spread: std::collections::BTreeSet<usize> =
            (0..64).map(|i| pick(&format!("conv-{i}"))).collect();
        assert_eq!(spread.len(), 2, "different conversations spread over both");
    }

    #[test]
    fn least_busy_prefers_fewest_in_flight_with_stable_ties() {
        let t = [
            target("a", 1, None),
            target("b", 1, None),
            target("c", 1, None),
        ];
        let stats = |p: &str| InstanceStats {
            in_flight: match p {
                "a" => 5,
                "b" => 1,
                _ => 1,
            },
            ttfb: None,
        };
        assert_eq!(run(Strategy::LeastBusy, &t, &stats), [1, 2, 0]);
    }

    #[test]
    fn latency_prefers_the_fastest_and_tries_unmeasured_first() {
        let t = [
            target("a", 1, None),
            target("b", 1, None),
            target("c", 1, None),
        ];
        let stats = |p: &str| InstanceStats {
            in_flight: 0,
            ttfb: match p {
                "a" => Some(Duration::from_millis(900)),
                "b" => Some(Duration::from_millis(200)),
                _ => None,
            },
        };
        assert_eq!(run(Strategy::Latency, &t, &stats), [2, 1, 0]);
    }

    #[test]
    fn cost_prefers_the_cheapest_for_this_request_and_unpriced_last() {
        let t = [
            target("pricey", 1, Some((3.0, 15.0))),
            target("unknown", 1, None),
            target("cheap-out", 1, Some((5.0, 5.0))),
        ];
        let input_heavy = Demand {
            input_tokens: 100_000,
            output_tokens: 100,
        };
        let output_heavy = Demand {
            input_tokens: 100,
            output_tokens: 100_000,
        };
        let mut rng = SplitMix64::new(0);
        assert_eq!(
            order(Strategy::Cost, &t, &no_stats, input_heavy, &mut rng),
            [0, 2, 1]
        );
        assert_eq!(
            order(Strategy::Cost, &t, &no_stats, output_heavy, &mut rng),
            [2, 0, 1]
        );
    }

    #[test]
    fn keys_read_once_per_target_so_changing_stats_cannot_upset_the_sort() {
        use std::cell::Cell;
        // Stats that change on every read (as live in-flight counts do under load).
        let reads = Cell::new(0usize);
        let flapping = |_: &str| {
            reads.set(reads.get() + 1);
            InstanceStats {
                in_flight: (reads.get() * 7919) % 13,
                ttfb: Some(Duration::from_millis(((reads.get() * 104_729) % 17) as u64)),
            }
        };
        let targets: Vec<Target> = (0..200)
            .map(|i| target(&format!("p{i}"), 1, None))
            .collect();
        let mut rng = SplitMix64::new(1);
        for strategy in [Strategy::LeastBusy, Strategy::Latency] {
            reads.set(0);
            let got = order(strategy, &targets, &flapping, Demand::default(), &mut rng);
            assert_eq!(reads.get(), targets.len(), "one read per target");
            let mut sorted = got.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..200).collect::<Vec<_>>(), "a permutation");
        }
    }

    #[test]
    fn strategies_parse_by_name() {
        assert_eq!(Strategy::parse("least_busy"), Some(Strategy::LeastBusy));
        assert_eq!(Strategy::parse("random"), None);
    }
}
