//! The supervisor's side of alerts: after each step, the records it produced are offered
//! to the alert bookkeeping (`crate::alerts`), and the alerts it decides to send leave as
//! `Action::SendAlert`. Pure.

use std::time::Instant;

use crate::core::Action;

use super::Supervisor;

impl Supervisor {
    pub(super) fn raise_alerts(&mut self, actions: &[Action], now: Instant) -> Vec<Action> {
        let occurrences = self.alerts.occurrences(actions);
        occurrences
            .into_iter()
            .filter_map(|occurrence| self.alerts.raise(occurrence, now))
            .map(|alert| Action::SendAlert(Box::new(alert)))
            .collect()
    }
}
