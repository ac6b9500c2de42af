//! Percentiles over microsecond samples, and the `key=value` lines `bench.sh` parses.

use std::fmt::Write as _;

/// Sorted samples in microseconds.
#[derive(Debug, Default)]
pub struct Samples(Vec<u64>);

impl Samples {
    /// Sorts `values` into a sample set.
    pub fn new(mut values: Vec<u64>) -> Self {
        values.sort_unstable();
        Self(values)
    }

    /// The `p`th percentile (nearest rank), 0 when empty.
    pub fn percentile(&self, p: f64) -> u64 {
        if self.0.is_empty() {
            return 0;
        }
        let rank = (p / 100.0 * self.0.len() as f64).ceil() as usize;
        self.0[rank.clamp(1, self.0.len()) - 1]
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `prefix_p50=… prefix_p90=… prefix_p99=… prefix_max=… prefix_n=…`.
    pub fn report(&self, prefix: &str) -> String {
        let mut out = String::new();
        for (name, p) in [("p50", 50.0), ("p90", 90.0), ("p99", 99.0)] {
            let _ = write!(out, "{prefix}_{name}={} ", self.percentile(p));
        }
        let _ = write!(
            out,
            "{prefix}_max={} {prefix}_n={}",
            self.0.last().copied().unwrap_or(0),
            self.0.len()
        );
        out
    }
}

/// Writes one report line to stdout (the workspace denies `println!` outside tests).
pub fn emit(line: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let samples = Samples::new((1..=100).rev().collect());
        assert_eq!(samples.percentile(50.0), 50);
        assert_eq!(samples.percentile(99.0), 99);
        assert_eq!(samples.percentile(100.0), 100);
        assert_eq!(Samples::default().percentile(50.0), 0);
    }
}
