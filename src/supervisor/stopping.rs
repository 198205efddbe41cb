//! Orderly shutdown (DESIGN.md §6): services stop in reverse dependency order — a service
//! stops once nothing that depends on it is still alive — independent ones in parallel;
//! then leftovers get SIGTERM and SIGKILL after `grace`. A service is alive until the rest
//! of its process group is gone too. `shutdown-timeout` caps it all.

use std::time::Instant;

use crate::core::Action;
use crate::service::{AfterStop, State};

use super::{SHUTDOWN_CAP_TIMER, Supervisor};

impl Supervisor {
    pub(super) fn begin_shutdown(&mut self, code: u8, now: Instant) -> Vec<Action> {
        if self.shutting_down {
            return Vec::new();
        }
        self.shutting_down = true;
        self.exit_code = code;
        self.default_power_end();
        let mut actions = Vec::new();
        for service in &mut self.services {
            service.hold = true;
            if matches!(service.state, State::Backoff | State::Cooldown) {
                actions.extend(service.stop(AfterStop::Down, "shutdown", now));
            }
        }
        let deadline = now + self.config.settings.shutdown_timeout;
        actions.push(Action::ArmTimer {
            timer: SHUTDOWN_CAP_TIMER,
            deadline,
        });
        actions
    }

    /// Stops every live service nothing live depends on; hands over to the leftovers phase
    /// once no service process is left.
    pub(super) fn progress_shutdown(&mut self, now: Instant) -> Vec<Action> {
        let ready: Vec<usize> = self
            .services
            .iter()
            .filter(|s| s.pid.is_some() && s.state != State::Stopping)
            .filter(|s| !self.has_live_dependents(&s.unit.name))
            .map(|s| s.index)
            .collect();
        let mut actions = Vec::new();
        for index in ready {
            if let Some(service) = self.services.get_mut(index) {
                actions.extend(service.stop(AfterStop::Down, "shutdown", now));
            }
        }
        if !self.leftovers.is_active() && !self.services.iter().any(|s| s.is_live()) {
            self.leftovers.begin(self.exit_code);
            if let Some(children_remain) = self.last_drain {
                actions.extend(self.leftovers.on_drained(children_remain, now));
            }
        }
        actions
    }

    fn has_live_dependents(&self, name: &str) -> bool {
        self.services.iter().any(|s| {
            s.is_live()
                && (s.unit.after.iter().any(|n| n == name)
                    || s.unit.requires.iter().any(|n| n == name))
        })
    }
}
