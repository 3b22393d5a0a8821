//! Round-trip times kept in a fixed-size log-linear histogram, so that a day-long
//! run uses the same memory as a short one and every percentile is within 1/128
//! (0.8%) of the true value; the maximum is kept exactly.

use serde::Serialize;

/// Linear steps per power of two: values below `1 << SUB_BITS` ns are exact.
const SUB_BITS: u32 = 7;
const HALF: usize = 1 << (SUB_BITS - 1);
/// Enough buckets for any u64.
const BUCKETS: usize = (64 - SUB_BITS as usize + 1) * HALF + HALF;

/// Round-trip times in nanoseconds.
pub(super) struct Rtt {
    counts: Box<[u64]>,
    total: u64,
    max: u64,
}

/// The percentiles the summary reports, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub(super) struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Rtt {
    pub(super) fn new() -> Rtt {
        Rtt {
            counts: vec![0; BUCKETS].into_boxed_slice(),
            total: 0,
            max: 0,
        }
    }

    pub(super) fn record(&mut self, ns: u64) {
        if let Some(c) = self.counts.get_mut(bucket(ns)) {
            *c += 1;
            self.total += 1;
            self.max = self.max.max(ns);
        }
    }

    /// The value at or below which `percent` of the samples lie.
    fn percentile_ns(&self, percent: u64) -> u64 {
        // The smallest rank that covers `percent`, never below the first sample.
        let rank = (self.total * percent).div_ceil(100).max(1);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                // Clamped so a bucket's middle never passes the true maximum.
                return middle(i).min(self.max);
            }
        }
        self.max
    }

    /// p50, p90, p99 and max, or `None` before the first sample.
    pub(super) fn percentiles(&self) -> Option<Percentiles> {
        if self.total == 0 {
            return None;
        }
        // Whole nanoseconds over a thousand print as short decimals in JSON.
        #[allow(clippy::cast_precision_loss)]
        let us = |ns: u64| ns as f64 / 1000.0;
        Some(Percentiles {
            p50: us(self.percentile_ns(50)),
            p90: us(self.percentile_ns(90)),
            p99: us(self.percentile_ns(99)),
            max: us(self.max),
        })
    }
}

fn bucket(ns: u64) -> usize {
    let bits = u64::BITS - ns.leading_zeros();
    if bits <= SUB_BITS {
        return usize::try_from(ns).unwrap_or(0);
    }
    let shift = bits - SUB_BITS;
    // The top SUB_BITS bits, from HALF to 2 * HALF - 1.
    let mantissa = usize::try_from(ns >> shift).unwrap_or(0);
    usize::try_from(shift).unwrap_or(0) * HALF + mantissa
}

/// The middle of bucket `i`, in nanoseconds.
fn middle(i: usize) -> u64 {
    let i = u64::try_from(i).unwrap_or(u64::MAX);
    let half = HALF as u64;
    if i < 2 * half {
        return i;
    }
    let shift = i / half - 1;
    let mantissa = i % half + half;
    (mantissa << shift) + (1 << shift) / 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_close() {
        let mut last = 0;
        for ns in (0..5000).chain([1 << 20, 1 << 40, u64::MAX / 3, u64::MAX]) {
            let b = bucket(ns);
            assert!(b < BUCKETS, "{ns}");
            assert!(b >= last, "{ns}");
            assert!(b <= last + 1 || ns > 5000, "{ns}");
            last = b;
            let m = middle(b);
            let err = m.abs_diff(ns);
            assert!(err <= ns / 128 + 1, "{ns} -> {m}");
        }
        assert_eq!(bucket(127), 127);
        assert_eq!(bucket(128), 128);
    }

    #[test]
    fn percentiles_are_ordered_and_near() {
        let mut rtt = Rtt::new();
        assert_eq!(rtt.percentiles(), None);
        for us in 1..=1000 {
            rtt.record(us * 1000);
        }
        let p = rtt.percentiles().expect("samples");
        assert!((p.p50 - 500.0).abs() < 5.0, "{p:?}");
        assert!((p.p90 - 900.0).abs() < 8.0, "{p:?}");
        assert!((p.p99 - 990.0).abs() < 8.0, "{p:?}");
        assert!((p.max - 1000.0).abs() < f64::EPSILON, "{p:?}");
        assert!(p.p50 <= p.p90 && p.p90 <= p.p99 && p.p99 <= p.max);
    }

    #[test]
    fn one_sample_is_every_percentile() {
        let mut rtt = Rtt::new();
        rtt.record(52_345);
        let p = rtt.percentiles().expect("a sample");
        assert!(p.p50 <= p.max && p.p99 <= p.max);
        assert!((p.max - 52.345).abs() < 1e-9);
    }
}
