//! Latency samples in fixed memory.

use std::time::Duration;

/// Latency histogram in microseconds with log-linear buckets (64 per power of two, < 1.6% error), so
/// memory stays fixed however long the run.
#[derive(Clone)]
pub(super) struct Histogram {
    counts: Vec<u64>,
    total: u64,
    sum_us: u128,
    max_us: u64,
}

const SUB_BITS: u32 = 6;
const SUB: u64 = 1 << SUB_BITS;

impl Histogram {
    pub(super) fn new() -> Self {
        Histogram { counts: vec![0; Self::index(u64::MAX) + 1], total: 0, sum_us: 0, max_us: 0 }
    }

    fn index(us: u64) -> usize {
        if us < SUB {
            return us as usize;
        }
        let exp = 63 - us.leading_zeros(); // >= SUB_BITS
        let mantissa = (us >> (exp - SUB_BITS)) & (SUB - 1);
        ((exp - SUB_BITS + 1) as u64 * SUB + mantissa) as usize
    }

    /// The smallest value that falls into bucket `i`.
    fn lower_bound(i: usize) -> u64 {
        let i = i as u64;
        if i < SUB {
            return i;
        }
        let exp = (i / SUB) as u32 + SUB_BITS - 1;
        (1 << exp) | ((i % SUB) << (exp - SUB_BITS))
    }

    pub(super) fn record(&mut self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.counts[Self::index(us)] += 1;
        self.total += 1;
        self.sum_us += us as u128;
        self.max_us = self.max_us.max(us);
    }

    pub(super) fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
        self.sum_us += other.sum_us;
        self.max_us = self.max_us.max(other.max_us);
    }

    /// Nearest-rank quantile, reported as the midpoint of its bucket (capped by the maximum seen).
    pub(super) fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let lo = Self::lower_bound(i);
                let hi = Self::lower_bound(i + 1).saturating_sub(1).max(lo);
                return (lo + (hi - lo) / 2).min(self.max_us);
            }
        }
        self.max_us
    }

    pub(super) fn mean(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.sum_us as f64 / self.total as f64
        }
    }

    pub(super) fn max(&self) -> u64 {
        self.max_us
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_contiguous_and_tight() {
        let mut prev = 0;
        for us in (0..200_000u64).chain([u32::MAX as u64, u64::MAX / 2, u64::MAX]) {
            let i = Histogram::index(us);
            assert!(i >= prev || us > 200_000, "index is monotonic");
            prev = i;
            let lo = Histogram::lower_bound(i);
            assert!(lo <= us, "{us} in bucket {i} starting at {lo}");
            if i + 1 < Histogram::new().counts.len() {
                assert!(us < Histogram::lower_bound(i + 1), "{us} below the next bucket");
            }
            assert!((us - lo) as f64 <= us as f64 / SUB as f64 + 1.0, "bucket width for {us}");
        }
    }

    #[test]
    fn histogram_quantiles() {
        let mut h = Histogram::new();
        assert_eq!(h.quantile(0.5), 0);
        for ms in 1..=100u64 {
            h.record(Duration::from_millis(ms));
        }
        let p50 = h.quantile(0.5) as f64;
        let p99 = h.quantile(0.99) as f64;
        assert!((p50 - 50_000.0).abs() / 50_000.0 < 0.02, "{p50}");
        assert!((p99 - 99_000.0).abs() / 99_000.0 < 0.02, "{p99}");
        assert_eq!(h.max(), 100_000);
        assert!((h.mean() - 50_500.0).abs() < 1.0);
        let mut other = Histogram::new();
        other.record(Duration::from_secs(5));
        h.merge(&other);
        assert_eq!(h.total, 101);
        assert_eq!(h.quantile(1.0), 5_000_000);
    }
}
