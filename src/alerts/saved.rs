//! What of the alert bookkeeping outlives Phoenix (DESIGN.md §7: "alert state persists"):
//! per kind and service the occurrences counted, when one was last sent and how many were
//! held back since, and the alerts still firing. A restart within a cooldown does not send
//! the same alert again, and a recovery after the restart still resolves what was fired
//! before it. Pure: instants here; the shell's `alert_state.rs` turns them into wall-clock
//! time on disk.

use std::time::Instant;

use super::{Alerts, Firing, Kind, Tally};

/// One (kind, service)'s tally.
#[derive(Clone, Debug, PartialEq)]
pub struct SavedTally {
    pub kind: Kind,
    pub service: String,
    pub count: u32,
    pub last_sent: Option<Instant>,
    pub suppressed: u64,
}

/// Everything the alerts keep across a restart of Phoenix.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AlertsState {
    pub tallies: Vec<SavedTally>,
    pub firing: Vec<Firing>,
}

impl Alerts {
    /// What to save now.
    pub fn state(&self) -> AlertsState {
        AlertsState {
            tallies: self
                .tallies
                .iter()
                .map(|((kind, service), tally)| SavedTally {
                    kind: *kind,
                    service: service.clone(),
                    count: tally.count,
                    last_sent: tally.last_sent,
                    suppressed: tally.suppressed,
                })
                .collect(),
            firing: self.firing.clone(),
        }
    }

    /// Takes back what an earlier run saved (before the first step).
    pub fn restore(&mut self, state: AlertsState) {
        for saved in state.tallies {
            self.tallies.insert(
                (saved.kind, saved.service),
                Tally {
                    count: saved.count,
                    last_sent: saved.last_sent,
                    suppressed: saved.suppressed,
                },
            );
        }
        for firing in state.firing {
            self.keep_firing(firing);
        }
        self.changed = false;
    }
}
