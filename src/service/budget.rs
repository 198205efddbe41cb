//! The restart budget of one service: a sliding window of failures, the consecutive
//! failure count that drives the backoff curve, and the circuit breaker (closed → open →
//! half-open) that takes over when the budget runs out. Pure arithmetic on instants it is
//! given.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::unit::RestartConfig;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Circuit {
    Closed,
    /// No restarts until `until`; `cooldown` is the length of this opening.
    Open {
        until: Instant,
        cooldown: Duration,
    },
    /// One trial run is on; surviving `reset-after` closes the circuit.
    HalfOpen {
        cooldown: Duration,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Budget {
    /// Failure times within the window, oldest first.
    failures: VecDeque<Instant>,
    /// Failures since the last reset (a run of `reset-after`, or an administrator's reset).
    pub consecutive: u32,
    pub circuit: Circuit,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget {
            failures: VecDeque::new(),
            consecutive: 0,
            circuit: Circuit::Closed,
        }
    }
}

impl Budget {
    pub fn restore(failures: Vec<Instant>, consecutive: u32, circuit: Circuit) -> Budget {
        Budget {
            failures: failures.into(),
            consecutive,
            circuit,
        }
    }

    pub fn failures(&self) -> impl Iterator<Item = &Instant> {
        self.failures.iter()
    }

    /// Counts a failure at `now`; returns whether the budget is now exhausted.
    pub fn record_failure(&mut self, config: &RestartConfig, now: Instant) -> bool {
        self.prune(config, now);
        self.failures.push_back(now);
        self.consecutive = self.consecutive.saturating_add(1);
        self.failures.len() >= config.max_failures as usize
    }

    /// Failures still inside the window at `now`.
    pub fn failures_in_window(&self, config: &RestartConfig, now: Instant) -> usize {
        self.failures
            .iter()
            .filter(|&&at| now.saturating_duration_since(at) < config.window)
            .count()
    }

    fn prune(&mut self, config: &RestartConfig, now: Instant) {
        while self
            .failures
            .front()
            .is_some_and(|&at| now.saturating_duration_since(at) >= config.window)
        {
            self.failures.pop_front();
        }
    }

    /// A run long enough to forget earlier trouble.
    pub fn forget_consecutive(&mut self) {
        self.consecutive = 0;
    }

    /// `reset`: clears the tally and closes the circuit.
    pub fn reset(&mut self) {
        *self = Budget::default();
    }

    /// The delay before the next start. A first failure after a good run (at least
    /// `min-uptime`) restarts at once; otherwise the curve, with jitter.
    pub fn restart_delay(&self, config: &RestartConfig, ran_well: bool, seed: &str) -> Duration {
        if ran_well && self.consecutive <= 1 {
            return Duration::ZERO;
        }
        let base = config.delay_for(self.consecutive);
        apply_jitter(base, config.jitter, seed, self.consecutive)
    }

    /// Opens the circuit: the first opening lasts `cooldown`, each failed trial doubles it up
    /// to `max-cooldown`.
    pub fn open_circuit(&mut self, config: &RestartConfig, now: Instant) -> Instant {
        let cooldown = match self.circuit {
            Circuit::HalfOpen { cooldown } | Circuit::Open { cooldown, .. } => {
                cooldown.saturating_mul(2).min(config.max_cooldown)
            }
            Circuit::Closed => config.cooldown.min(config.max_cooldown),
        };
        let until = now + cooldown;
        self.circuit = Circuit::Open { until, cooldown };
        until
    }

    /// The cooldown ended: allow one trial.
    pub fn half_open(&mut self) {
        if let Circuit::Open { cooldown, .. } = self.circuit {
            self.circuit = Circuit::HalfOpen { cooldown };
        }
    }

    /// The trial survived `reset-after`: close the circuit, clear the tally.
    pub fn close_circuit(&mut self) {
        self.reset();
    }

    pub fn is_trial(&self) -> bool {
        matches!(self.circuit, Circuit::HalfOpen { .. })
    }
}

/// Spreads `base` by ± `jitter`, deterministically from the service name and attempt so the
/// core stays a pure function, yet services restarting together spread out.
fn apply_jitter(base: Duration, jitter: f64, seed: &str, attempt: u32) -> Duration {
    if jitter <= 0.0 || base.is_zero() {
        return base;
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in seed.bytes().chain(attempt.to_le_bytes()) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let unit = (hash % 20_001) as f64 / 10_000.0 - 1.0;
    base.mul_f64((1.0 + jitter * unit).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unit::Kind;

    fn config() -> RestartConfig {
        let mut config = RestartConfig::defaults(Kind::Daemon, false);
        config.max_failures = 3;
        config.window = Duration::from_secs(60);
        config.cooldown = Duration::from_secs(10);
        config.max_cooldown = Duration::from_secs(25);
        config
    }

    #[test]
    fn exhausts_within_the_window_only() {
        let config = config();
        let start = crate::testing::now();
        let mut budget = Budget::default();
        assert!(!budget.record_failure(&config, start));
        assert!(!budget.record_failure(&config, start + Duration::from_secs(1)));
        assert!(budget.record_failure(&config, start + Duration::from_secs(2)));
        let mut spread = Budget::default();
        for minute in 0..5 {
            assert!(!spread.record_failure(&config, start + Duration::from_secs(61 * minute)));
        }
        assert_eq!(spread.consecutive, 5);
    }

    #[test]
    fn first_failure_after_a_good_run_restarts_at_once() {
        let config = config();
        let mut budget = Budget::default();
        budget.record_failure(&config, crate::testing::now());
        assert_eq!(budget.restart_delay(&config, true, "web"), Duration::ZERO);
        assert_eq!(
            budget.restart_delay(&config, false, "web"),
            Duration::from_secs(1)
        );
        budget.record_failure(&config, crate::testing::now());
        assert_eq!(
            budget.restart_delay(&config, true, "web"),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn cooldown_doubles_up_to_its_cap() {
        let config = config();
        let now = crate::testing::now();
        let mut budget = Budget::default();
        assert_eq!(
            budget.open_circuit(&config, now),
            now + Duration::from_secs(10)
        );
        budget.half_open();
        assert!(budget.is_trial());
        assert_eq!(
            budget.open_circuit(&config, now),
            now + Duration::from_secs(20)
        );
        budget.half_open();
        assert_eq!(
            budget.open_circuit(&config, now),
            now + Duration::from_secs(25)
        );
        budget.close_circuit();
        assert_eq!(budget.circuit, Circuit::Closed);
        assert_eq!(budget.consecutive, 0);
    }

    #[test]
    fn jitter_stays_within_its_fraction() {
        let base = Duration::from_secs(10);
        for attempt in 0..200 {
            let jittered = apply_jitter(base, 0.2, "svc", attempt);
            assert!(jittered >= Duration::from_secs(8) && jittered <= Duration::from_secs(12));
        }
        assert_eq!(apply_jitter(base, 0.0, "svc", 1), base);
    }
}
