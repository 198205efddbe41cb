//! The recovery ladder and supervision groups as a unit and `phoenix.toml` describe them
//! (DESIGN.md §4.4, §4.5): plain values with their defaults. Parsing lives in `parse.rs`
//! and `settings.rs`; the decisions that use these values live in `crate::recovery`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::model::{Command, OnExhausted};

/// One rung of the ladder after plain restarts, in the order a unit lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecoveryStep {
    /// Start with the `safe-mode` command and/or environment.
    SafeMode,
    /// Put back the `rollback-files` snapshot, and the last-known-good definition when the
    /// unit changed since it was verified good.
    Rollback,
    /// Restart what the unit `requires` or is `after`, wait for them, then start it.
    RestartDependencies,
    /// Run the `restore` hook to completion, then start the service.
    Restore,
}

impl RecoveryStep {
    pub fn name(self) -> &'static str {
        match self {
            RecoveryStep::SafeMode => "safe-mode",
            RecoveryStep::Rollback => "rollback",
            RecoveryStep::RestartDependencies => "restart-dependencies",
            RecoveryStep::Restore => "restore",
        }
    }

    pub const ALL: [RecoveryStep; 4] = [
        RecoveryStep::SafeMode,
        RecoveryStep::Rollback,
        RecoveryStep::RestartDependencies,
        RecoveryStep::Restore,
    ];
}

impl fmt::Display for RecoveryStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `safe-mode = { command = …, environment = { … } }`: what differs in safe mode.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SafeMode {
    /// Replaces the unit's command; `None` keeps it.
    pub command: Option<Command>,
    /// Added to (and overriding) the unit's environment.
    pub environment: BTreeMap<String, String>,
}

/// The `[recovery]` table; every unit has one, with these defaults when it is absent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecoveryConfig {
    /// The ladder after plain restarts, in order; empty: restarts, then `on-exhausted`.
    pub steps: Vec<RecoveryStep>,
    /// A start worked when the service is ready (and healthy, with `[health]`) this long.
    pub verify: Duration,
    pub safe_mode: Option<SafeMode>,
    /// Snapshotted whenever the service is verified good; put back by `rollback`.
    pub rollback_files: Vec<PathBuf>,
    /// The `restore` hook's argv (PATH lookup) or shell line.
    pub restore: Option<Command>,
    /// The hook is killed after this, which fails the step.
    pub restore_timeout: Duration,
}

impl Default for RecoveryConfig {
    fn default() -> RecoveryConfig {
        RecoveryConfig {
            steps: Vec::new(),
            verify: Duration::from_secs(30),
            safe_mode: None,
            rollback_files: Vec::new(),
            restore: None,
            restore_timeout: Duration::from_secs(600),
        }
    }
}

/// Erlang/OTP's restart strategies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum Strategy {
    /// Only the member that failed is restarted.
    #[serde(rename = "one_for_one")]
    OneForOne,
    /// Every member is restarted when one fails.
    #[serde(rename = "one_for_all")]
    OneForAll,
    /// The failed member and the members after it in start order are restarted.
    #[serde(rename = "rest_for_one")]
    RestForOne,
}

impl Strategy {
    pub fn name(self) -> &'static str {
        match self {
            Strategy::OneForOne => "one_for_one",
            Strategy::OneForAll => "one_for_all",
            Strategy::RestForOne => "rest_for_one",
        }
    }
}

/// `[groups.NAME]` in `phoenix.toml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupConfig {
    pub strategy: Strategy,
    /// The group's own budget: failures of its members …
    pub max_failures: u32,
    /// … within this sliding window.
    pub window: Duration,
    pub on_exhausted: OnExhausted,
    /// How long an exhausted group with `on-exhausted = "cooldown"` stays down.
    pub cooldown: Duration,
}

impl Default for GroupConfig {
    fn default() -> GroupConfig {
        GroupConfig {
            strategy: Strategy::OneForOne,
            max_failures: 5,
            window: Duration::from_secs(60),
            on_exhausted: OnExhausted::Escalate,
            cooldown: Duration::from_secs(300),
        }
    }
}
