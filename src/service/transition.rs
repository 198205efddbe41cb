//! State changes as records: each state change, change of health and ladder step of a
//! service becomes one `Transition`, which the shell logs, streams and appends to the
//! event log. Pure.

use std::time::{Duration, Instant};

use crate::exit_status::ExitStatus;

use super::{Service, State};

/// One state change, as the event log and `events --follow` show it.
#[derive(Clone, Debug, PartialEq)]
pub struct Transition {
    pub service: String,
    pub from: State,
    pub to: State,
    pub reason: String,
    pub exit: Option<ExitStatus>,
    pub restarts: u32,
    pub next_attempt: Option<Duration>,
    /// A change of health (from, to) rather than of state; `from`/`to` then hold the
    /// state it happened in.
    pub health: Option<(crate::health::Health, crate::health::Health)>,
    /// A step of the recovery ladder (from, to: rung names or the incident's outcome)
    /// rather than a change of state.
    pub step: Option<(String, String)>,
}

impl Service {
    /// The state and health changes since the last call, as records.
    pub fn take_transitions(&mut self, now: Instant) -> Vec<Transition> {
        let next_attempt = self
            .next_attempt
            .map(|at| at.saturating_duration_since(now));
        let mut transitions: Vec<Transition> = std::mem::take(&mut self.changes)
            .into_iter()
            .map(|(from, to, reason)| Transition {
                service: self.unit.name.clone(),
                from,
                to,
                reason,
                exit: self.last_exit,
                restarts: self.restarts,
                next_attempt: if to == self.state { next_attempt } else { None },
                health: None,
                step: None,
            })
            .collect();
        transitions.extend(
            std::mem::take(&mut self.health_changes)
                .into_iter()
                .map(|change| Transition {
                    service: self.unit.name.clone(),
                    from: self.state,
                    to: self.state,
                    reason: change.reason,
                    exit: self.last_exit,
                    restarts: self.restarts,
                    next_attempt: None,
                    health: Some((change.from, change.to)),
                    step: None,
                }),
        );
        transitions.extend(std::mem::take(&mut self.step_changes).into_iter().map(
            |(from, to, reason)| Transition {
                service: self.unit.name.clone(),
                from: self.state,
                to: self.state,
                reason,
                exit: self.last_exit,
                restarts: self.restarts,
                next_attempt: None,
                health: None,
                step: Some((from, to)),
            },
        ));
        transitions
    }
}
