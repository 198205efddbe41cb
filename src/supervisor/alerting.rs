//! The supervisor's side of alerts: after each step, the records it produced are offered
//! to the alert bookkeeping (`crate::alerts`); the alerts it decides to send leave as
//! `Action::SendAlert`, the firing ones a recovery ends as `Action::ResolveAlerts`, and a
//! changed bookkeeping as `Action::SaveAlerts`. Pure.

use std::time::Instant;

use crate::alerts::{Alerts, AlertsState, Occurrence};
use crate::core::Action;

use super::Supervisor;

impl Supervisor {
    pub(super) fn raise_alerts(&mut self, actions: &[Action], now: Instant) -> Vec<Action> {
        let occurrences = self.alerts.occurrences(actions);
        let mut raised: Vec<Action> = occurrences
            .into_iter()
            .filter_map(|occurrence| self.alerts.raise(occurrence, now))
            .map(|alert| Action::SendAlert(Box::new(alert)))
            .collect();
        for service in Alerts::resolutions(actions) {
            let resolved = self.alerts.resolve(&service);
            if !resolved.is_empty() {
                raised.push(Action::ResolveAlerts(resolved));
            }
        }
        if self.alerts.take_changed() {
            raised.push(Action::SaveAlerts(Box::new(self.alerts.state())));
        }
        raised
    }

    /// What an earlier run saved of the alerts; before `start`.
    pub fn restore_alerts(&mut self, state: AlertsState) {
        self.alerts.restore(state);
    }

    /// Lines of `service`'s captured output dropped: one occurrence, raised with this
    /// step's (the cooldown keeps a flood of drops to one alert).
    pub(super) fn alert_log_drops(&mut self, service: String, dropped: u64) {
        self.alerts
            .defer(Occurrence::logs_dropped(service, dropped));
    }

    /// Files of the state directory found corrupt at start, each `summary` one alert
    /// raised with the first step.
    pub fn alert_corrupt_files(&mut self, summaries: impl IntoIterator<Item = String>) {
        for summary in summaries {
            self.alerts.defer(Occurrence::corrupt_file(summary));
        }
    }
}
