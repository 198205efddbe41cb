//! The unit model: what a service is, as the supervisor sees it once every file has been
//! read and checked. Plain values with their defaults; no parsing and no I/O here.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::checks::{HealthConfig, ReadyConfig, WatchdogConfig};
use super::recovery::RecoveryConfig;
use super::signal::Signal;

/// One service, read from `NAME.toml` or from an s6-style directory `NAME/`.
#[derive(Clone, Debug, PartialEq)]
pub struct Unit {
    pub name: String,
    /// The `.toml` file or the s6 directory the unit was read from.
    pub source: PathBuf,
    pub description: Option<String>,
    pub command: Command,
    pub kind: Kind,
    /// False: known, but not started at boot (s6 `down`).
    pub enabled: bool,
    /// Its exit ends Phoenix with its status.
    pub main: bool,
    /// Its exhausted recovery triggers the system's critical-failure action.
    pub critical: bool,
    pub after: Vec<String>,
    pub requires: Vec<String>,
    pub wants: Vec<String>,
    pub working_directory: Option<PathBuf>,
    pub user: Option<String>,
    pub group: Option<String>,
    pub umask: Option<u32>,
    pub environment: BTreeMap<String, String>,
    pub environment_files: Vec<EnvironmentFile>,
    pub restart: RestartConfig,
    pub stop: StopConfig,
    pub ready: ReadyConfig,
    pub health: Option<HealthConfig>,
    pub watchdog: Option<WatchdogConfig>,
    /// Removed before each start when they name a dead pid or an unheld lock.
    pub stale_files: Vec<PathBuf>,
    /// The recovery ladder (`[recovery]`); defaults when the table is absent.
    pub recovery: RecoveryConfig,
    /// The `[groups.NAME]` of `phoenix.toml` this unit belongs to.
    pub supervision_group: Option<String>,
    /// `[limits]`: resource limits and privileges, applied between fork and exec.
    pub limits: super::Limits,
    /// `[log]`: Phoenix captures the output; none: the system default, or inherited.
    pub log: Option<super::log::LogConfig>,
    /// Only for s6-style directories.
    pub s6: Option<S6Extras>,
}

impl Unit {
    /// A daemon unit with every default, as an empty unit file with only `command` would
    /// give (used for the command-line main service).
    pub fn new(name: &str, source: PathBuf, command: Command) -> Unit {
        Unit {
            name: name.to_string(),
            source,
            description: None,
            command,
            kind: Kind::Daemon,
            enabled: true,
            main: false,
            critical: false,
            after: Vec::new(),
            requires: Vec::new(),
            wants: Vec::new(),
            working_directory: None,
            user: None,
            group: None,
            umask: None,
            environment: BTreeMap::new(),
            environment_files: Vec::new(),
            restart: RestartConfig::defaults(Kind::Daemon, false),
            stop: StopConfig::default(),
            ready: ReadyConfig::default(),
            health: None,
            watchdog: None,
            stale_files: Vec::new(),
            recovery: RecoveryConfig::default(),
            supervision_group: None,
            limits: super::Limits::default(),
            log: None,
            s6: None,
        }
    }

    /// Every unit this one names in `after`, `requires` or `wants`, in that order.
    pub fn dependencies(&self) -> impl Iterator<Item = &str> {
        self.after
            .iter()
            .chain(&self.requires)
            .chain(&self.wants)
            .map(String::as_str)
    }
}

/// What to run: an argv (PATH lookup) or a shell command line (`/bin/sh -c`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Argv(Vec<String>),
    Shell(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Runs until stopped.
    Daemon,
    /// Runs to completion; dependents wait for its success.
    Oneshot,
}

/// A file of `KEY=value` lines; `optional` when written with a leading `-`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvironmentFile {
    pub path: PathBuf,
    pub optional: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestartPolicy {
    Always,
    OnFailure,
    Never,
}

/// What happens when failures exceed `max-failures` within `window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnExhausted {
    /// Open the circuit: no restarts for `cooldown`, then one trial start.
    Cooldown,
    /// Give up: the service is `failed` until reset or started by hand.
    Stop,
    /// Hand the failure to the system (`on-critical-failure`, or end Phoenix for `main`).
    Escalate,
}

/// The `[restart]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct RestartConfig {
    pub policy: RestartPolicy,
    pub success_exit_codes: Vec<u8>,
    pub min_uptime: Duration,
    pub delay: Duration,
    pub multiplier: f64,
    pub max_delay: Duration,
    pub jitter: f64,
    pub reset_after: Duration,
    pub max_failures: u32,
    pub window: Duration,
    pub on_exhausted: OnExhausted,
    pub cooldown: Duration,
    pub max_cooldown: Duration,
}

impl RestartConfig {
    /// The defaults for a unit of this kind; `main` and `critical` units escalate.
    pub fn defaults(kind: Kind, escalates: bool) -> RestartConfig {
        RestartConfig {
            policy: match kind {
                Kind::Daemon => RestartPolicy::Always,
                Kind::Oneshot => RestartPolicy::Never,
            },
            success_exit_codes: vec![0],
            min_uptime: Duration::from_secs(1),
            delay: Duration::from_secs(1),
            multiplier: 2.0,
            max_delay: Duration::from_secs(60),
            jitter: 0.0,
            reset_after: Duration::from_secs(5 * 60),
            max_failures: 5,
            window: Duration::from_secs(10 * 60),
            on_exhausted: if escalates {
                OnExhausted::Escalate
            } else {
                OnExhausted::Cooldown
            },
            cooldown: Duration::from_secs(5 * 60),
            max_cooldown: Duration::from_secs(60 * 60),
        }
    }

    /// The restart delay after the n-th consecutive failure, before jitter:
    /// `delay × multiplier^(n-1)`, capped at `max-delay`; no failure, no delay.
    pub fn delay_for(&self, consecutive_failures: u32) -> Duration {
        // A zero delay stays zero: 0 × multiplier^n turns into NaN once the power overflows.
        if consecutive_failures == 0 || self.delay.is_zero() {
            return Duration::ZERO;
        }
        let exponent = i32::try_from(consecutive_failures - 1).unwrap_or(i32::MAX);
        let seconds = self.delay.as_secs_f64() * self.multiplier.powi(exponent);
        Duration::try_from_secs_f64(seconds)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }

    /// The least time in which `max-failures` failures can pile up: instant failures
    /// separated only by the restart delays between them.
    pub fn fastest_exhaustion(&self) -> Duration {
        // The curve only grows until it meets `max-delay`; every later term is the cap, so
        // the sum is closed-form from there (a budget of a million costs a few steps).
        let mut total = Duration::ZERO;
        for n in 1..self.max_failures {
            let delay = self.delay_for(n);
            if delay >= self.max_delay {
                let remaining = self.max_failures - n;
                return total.saturating_add(self.max_delay.saturating_mul(remaining));
            }
            total = total.saturating_add(delay);
        }
        total
    }

    /// False when the delay curve spaces failures so far apart that `window` can never
    /// hold `max-failures` of them, so `on-exhausted` would never happen.
    pub fn is_budget_reachable(&self) -> bool {
        self.fastest_exhaustion() <= self.window
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopMode {
    /// Signal the service's whole process group.
    Group,
    /// Signal the main pid only.
    Process,
}

/// The `[stop]` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StopConfig {
    pub signal: Signal,
    /// How long to wait after `signal` before SIGKILL.
    pub timeout: Duration,
    pub mode: StopMode,
}

impl Default for StopConfig {
    fn default() -> StopConfig {
        StopConfig {
            signal: Signal::TERM,
            timeout: Duration::from_secs(10),
            mode: StopMode::Group,
        }
    }
}

/// What an s6 service directory says beyond what every unit has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S6Extras {
    /// `finish`, run after each exit of `run`.
    pub finish: Option<PathBuf>,
    /// `finish` is killed after this long.
    pub timeout_finish: Duration,
    /// The descriptor `run` writes a line to when it is ready.
    pub notification_fd: Option<i32>,
    /// The `env/` envdir: `None` unsets the variable.
    pub env: BTreeMap<String, Option<String>>,
    /// The name of the logger unit made from `log/`, fed by this service's stdout.
    pub logger: Option<String>,
}

impl Default for S6Extras {
    fn default() -> S6Extras {
        S6Extras {
            finish: None,
            timeout_finish: Duration::from_millis(5000),
            notification_fd: None,
            env: BTreeMap::new(),
            logger: None,
        }
    }
}

/// Unit names match `[A-Za-z0-9_.@-]+`.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '@' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn restart(delay: u64, multiplier: f64, max_delay: u64) -> RestartConfig {
        RestartConfig {
            delay: Duration::from_secs(delay),
            multiplier,
            max_delay: Duration::from_secs(max_delay),
            ..RestartConfig::defaults(Kind::Daemon, false)
        }
    }

    #[test]
    fn delay_grows_geometrically_and_is_capped() {
        let config = restart(1, 2.0, 60);
        let delays: Vec<u64> = (0..10).map(|n| config.delay_for(n).as_secs()).collect();
        assert_eq!(delays, [0, 1, 2, 4, 8, 16, 32, 60, 60, 60]);
    }

    #[test]
    fn delay_survives_huge_failure_counts() {
        let config = restart(1, 2.0, 60);
        assert_eq!(config.delay_for(u32::MAX), Duration::from_secs(60));
    }

    #[test]
    fn delay_is_capped_even_when_the_base_exceeds_the_cap() {
        assert_eq!(restart(90, 1.0, 60).delay_for(1), Duration::from_secs(60));
    }

    #[test]
    fn fastest_exhaustion_sums_the_delays_between_failures() {
        // Five failures: delays 1 + 2 + 4 + 8 between them.
        assert_eq!(
            restart(1, 2.0, 60).fastest_exhaustion(),
            Duration::from_secs(15)
        );
        assert!(restart(1, 2.0, 60).is_budget_reachable());
        let slow = RestartConfig {
            window: Duration::from_secs(10),
            ..restart(1, 2.0, 60)
        };
        assert!(!slow.is_budget_reachable());
    }

    #[test]
    fn oneshots_do_not_restart_by_default_and_main_units_escalate() {
        assert_eq!(
            RestartConfig::defaults(Kind::Oneshot, false).policy,
            RestartPolicy::Never
        );
        assert_eq!(
            RestartConfig::defaults(Kind::Daemon, true).on_exhausted,
            OnExhausted::Escalate
        );
    }

    #[test]
    fn names() {
        for good in ["web", "getty@tty1", "a.b_c-d", "X9"] {
            assert!(is_valid_name(good), "{good}");
        }
        for bad in ["", "a b", "a/b", "été", "a:b"] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn zero_delay_stays_zero_however_many_failures() {
        let mut config = RestartConfig::defaults(Kind::Daemon, false);
        config.delay = Duration::ZERO;
        assert_eq!(config.delay_for(5000), Duration::ZERO);
    }

    #[test]
    fn a_huge_budget_is_summed_in_closed_form() {
        let mut config = RestartConfig::defaults(Kind::Daemon, false);
        config.max_failures = u32::MAX;
        // 1+2+4+8+16+32 = 63s, then 60s for each of the remaining failures.
        let expected = Duration::from_secs(63) + Duration::from_secs(60) * (u32::MAX - 7);
        assert_eq!(config.fastest_exhaustion(), expected);
    }
}
