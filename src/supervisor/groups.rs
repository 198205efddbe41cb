//! What one service's recovery asks of the others: supervision groups (a member's failure
//! restarts its fellow members by the group's strategy, and the group's own budget can run
//! out) and the `restart-dependencies` step (what the unit `requires` or is `after` is
//! restarted; the unit starts once they are ready again).

use std::collections::BTreeMap;
use std::time::Instant;

use crate::core::Action;
use crate::recovery::{GroupBudget, GroupDecision, decide};
use crate::service::{AfterStop, Parked, State};
use crate::unit::OnExhausted;

use super::Supervisor;

/// The budgets of the supervision groups, by name.
#[derive(Debug, Default)]
pub(super) struct Groups {
    budgets: BTreeMap<String, GroupBudget>,
}

impl Supervisor {
    /// Members that failed since the last event: their group acts.
    pub(super) fn supervise_groups(&mut self, now: Instant) -> Vec<Action> {
        let failed: Vec<usize> = self
            .services
            .iter_mut()
            .filter_map(|service| std::mem::take(&mut service.failed_now).then_some(service.index))
            .collect();
        if self.shutting_down {
            return Vec::new();
        }
        let mut actions = Vec::new();
        for index in failed {
            actions.extend(self.on_member_failure(index, now));
        }
        actions
    }

    fn on_member_failure(&mut self, index: usize, now: Instant) -> Vec<Action> {
        let Some(failed) = self.services.get(index) else {
            return Vec::new();
        };
        let Some(group) = failed.unit.supervision_group.clone() else {
            return Vec::new();
        };
        let Some(config) = self.config.settings.groups.get(&group).cloned() else {
            return Vec::new();
        };
        let failed_name = failed.unit.name.clone();
        let members: Vec<usize> = self
            .order
            .iter()
            .copied()
            .filter(|&i| {
                self.services.get(i).is_some_and(|s| {
                    !s.removed && s.unit.supervision_group.as_deref() == Some(group.as_str())
                })
            })
            .collect();
        let budget = self.groups.budgets.entry(group.clone()).or_default();
        let mut actions = Vec::new();
        match decide(&config, budget, &members, &index, now) {
            GroupDecision::Restart(others) => {
                let reason = format!("{}: {failed_name} failed", config.strategy.name());
                for other in others {
                    let Some(service) = self.services.get_mut(other) else {
                        continue;
                    };
                    if service.pid.is_some() && service.state != State::Stopping {
                        log::info!(
                            "{}: restarting, group {group} ({reason})",
                            service.unit.name
                        );
                        actions.extend(service.stop(
                            AfterStop::Restart("group restart"),
                            &reason,
                            now,
                        ));
                    }
                }
            }
            GroupDecision::Exhausted(on_exhausted) => {
                let budget = format!(
                    "group {group}: {} failures in {}",
                    config.max_failures,
                    crate::unit::format_duration(config.window)
                );
                log::error!("{budget} (last: {failed_name}), on-exhausted = {on_exhausted:?}");
                let parked = match on_exhausted {
                    OnExhausted::Escalate => {
                        if let Some(service) = self.services.get_mut(index) {
                            actions.extend(service.escalate_for(&budget, now));
                        }
                        return actions;
                    }
                    OnExhausted::Stop => Parked::Failed,
                    OnExhausted::Cooldown => Parked::Cooldown(config.cooldown),
                };
                for member in members {
                    if let Some(service) = self.services.get_mut(member) {
                        actions.extend(service.park(parked, &budget, now));
                    }
                }
            }
        }
        actions
    }

    /// Services on their `restart-dependencies` step: what they require or are after is
    /// restarted; settling starts them once it is ready.
    pub(super) fn restart_dependencies(&mut self, now: Instant) -> Vec<Action> {
        let asking: Vec<usize> = self
            .services
            .iter_mut()
            .filter_map(|service| {
                std::mem::take(&mut service.ladder.restart_dependencies).then_some(service.index)
            })
            .collect();
        let mut actions = Vec::new();
        for index in asking {
            let Some(service) = self.services.get(index) else {
                continue;
            };
            let name = service.unit.name.clone();
            let dependencies: Vec<usize> = service
                .unit
                .after
                .iter()
                .chain(&service.unit.requires)
                .filter_map(|dependency| self.by_name.get(dependency).copied())
                .collect();
            if dependencies.is_empty() {
                log::warn!(
                    "{name}: restart-dependencies: it requires nothing and is after nothing"
                );
            }
            let reason = format!("restarted for {name}'s recovery");
            for dependency in dependencies {
                let Some(service) = self.services.get_mut(dependency) else {
                    continue;
                };
                if service.removed || self.shutting_down {
                    continue;
                }
                log::warn!("{}: {reason}", service.unit.name);
                if service.pid.is_some() && service.state != State::Stopping {
                    actions.extend(service.stop(
                        AfterStop::Restart("restarted for a dependent's recovery"),
                        &reason,
                        now,
                    ));
                } else if matches!(
                    service.state,
                    State::Failed | State::Cooldown | State::Backoff | State::Exited
                ) {
                    actions.extend(service.start_explicitly());
                }
            }
        }
        actions
    }
}
