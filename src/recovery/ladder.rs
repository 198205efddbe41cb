//! The recovery ladder of one service (DESIGN.md §4.4): plain restarts are rung 0; when
//! the restart budget runs out, the unit's steps are climbed one start at a time, each
//! followed by `verify`. Pure.

use crate::unit::{RecoveryConfig, RecoveryStep};

use super::incident::Rung;

/// How the service is being run, other than its unit says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    #[default]
    Normal,
    /// With the `safe-mode` command and/or environment.
    SafeMode,
    /// On the last-known-good definition (the unit changed since it was verified good).
    RolledBack,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ladder {
    /// Steps of `[recovery] steps` already taken in this climb; the next is at this index.
    pub next: usize,
    /// The rung whose start is waiting for `verify`.
    pub trying: Option<Rung>,
    pub mode: Mode,
    /// The `restart-dependencies` step waits for the supervisor to restart them.
    pub restart_dependencies: bool,
}

impl Ladder {
    /// The step being tried, for `status`: "safe-mode (step 1 of 3), verifying".
    pub fn describe(&self, config: &RecoveryConfig) -> Option<String> {
        match self.trying? {
            Rung::Restart => None,
            Rung::Step(step) => Some(format!(
                "{step} (step {} of {})",
                self.next,
                config.steps.len()
            )),
        }
    }

    pub fn mode_name(&self) -> Option<String> {
        match self.mode {
            Mode::Normal => None,
            Mode::SafeMode => Some("safe mode".to_string()),
            Mode::RolledBack => Some("rolled back to the last-known-good definition".to_string()),
        }
    }

    /// The next configured step, if the ladder has one left.
    pub fn next_step(&self, config: &RecoveryConfig) -> Option<RecoveryStep> {
        config.steps.get(self.next).copied()
    }
}
