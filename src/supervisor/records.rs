//! What outlives Phoenix, on the core's side: saved records applied at start, circuits
//! that were open reopened with their remaining time, and changed budgets handed to the
//! shell to save.

use std::time::{Duration, Instant};

use crate::core::Action;
use crate::service::record::ServiceRecord;
use crate::service::{Circuit, State, TimerKind};

use super::Supervisor;

impl Supervisor {
    /// Applies what the last run saved, each record to the unit it was kept for; what was
    /// not applied now never is (a unit added by a reload starts fresh).
    pub(super) fn restore_records(&mut self, now: Instant) {
        for service in &mut self.services {
            self.records.restore(service, now);
        }
        self.records.saved.clear();
    }

    /// Reopens circuits that were open when Phoenix last stopped.
    pub(super) fn resume_circuits(&mut self, now: Instant) -> Vec<Action> {
        let mut actions = Vec::new();
        for service in &mut self.services {
            if let Circuit::Open { until, .. } = service.budget.circuit {
                let deadline = until.max(now);
                // Whole seconds, rounded up: "in 4m59s", not "in 298610ms".
                let when = match deadline - now {
                    left if left.is_zero() => "now".to_string(),
                    left => {
                        let seconds = left.as_secs() + u64::from(left.subsec_nanos() > 0);
                        let left = Duration::from_secs(seconds);
                        format!("in {}", crate::unit::format_duration(left))
                    }
                };
                log::info!(
                    "{}: circuit still open from the last run, trial start {when}",
                    service.unit.name
                );
                service.state = State::Cooldown;
                service.next_attempt = Some(deadline);
                actions.push(Action::ArmTimer {
                    timer: service.timer(TimerKind::Restart),
                    deadline,
                });
            }
        }
        actions
    }

    /// Saved records of services whose budget or circuit changed.
    pub(super) fn collect_dirty(&mut self) -> Vec<Action> {
        if !self.services.iter().any(|s| s.dirty) {
            return Vec::new();
        }
        for service in &mut self.services {
            service.dirty = false;
        }
        let records = self
            .services
            .iter()
            .filter(|s| !s.removed)
            .map(|s| ServiceRecord::of(s, &self.records.services_dir))
            .collect();
        vec![Action::SaveState(records)]
    }
}
