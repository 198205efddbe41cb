//! A fixed-bucket histogram of seconds, as Prometheus exposes them: counts per bucket
//! (kept per bucket, written cumulative), the sum and the count. Pure.

use std::time::Duration;

/// Upper bounds for probe latency, in seconds.
pub const PROBE_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Upper bounds for time to detect and to recover, in seconds.
pub const INCIDENT_BUCKETS: &[f64] = &[
    0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
];

#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    bounds: &'static [f64],
    /// Observations per bucket (not cumulative); those above every bound are only in
    /// `count`.
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: vec![0; bounds.len()],
            sum: 0.0,
            count: 0,
        }
    }

    pub fn observe(&mut self, value: Duration) {
        let seconds = value.as_secs_f64();
        if let Some(at) = self.bounds.iter().position(|&bound| seconds <= bound) {
            if let Some(count) = self.counts.get_mut(at) {
                *count += 1;
            }
        }
        self.sum += seconds;
        self.count += 1;
    }

    /// (upper bound, observations in that bucket alone), smallest bound first.
    pub fn buckets(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        self.bounds.iter().copied().zip(self.counts.iter().copied())
    }

    pub fn sum(&self) -> f64 {
        self.sum
    }

    pub fn count(&self) -> u64 {
        self.count
    }
}
