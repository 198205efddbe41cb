//! The dependency graph at work: which services are wanted (enabled, or pulled in by
//! `requires`/`wants`), in what order they start, when one may start (everything it is
//! `after` or `requires` is ready), and who follows a required service down.

use std::collections::HashMap;
use std::time::Instant;

use crate::core::Action;
use crate::service::{AfterStop, State};
use crate::unit::{Kind, start_order};

use super::Supervisor;

impl Supervisor {
    /// Recomputes start order and the wanted set after the set of units changed.
    pub(super) fn refresh_graph(&mut self) {
        let units: Vec<_> = self
            .services
            .iter()
            .filter(|s| !s.removed)
            .map(|s| s.unit.clone())
            .collect();
        self.order = match start_order(&units) {
            Ok(names) => names
                .iter()
                .filter_map(|name| self.by_name.get(name).copied())
                .collect(),
            Err(cycle) => {
                log::error!("{}", cycle.describe());
                (0..self.services.len()).collect()
            }
        };
        let loggers: HashMap<String, String> = self
            .services
            .iter()
            .filter_map(|s| Some((s.unit.s6.as_ref()?.logger.clone()?, s.unit.name.clone())))
            .collect();
        for service in &mut self.services {
            service.logger_for = loggers.get(&service.unit.name).cloned();
            service.wanted =
                service.wanted_by_request.unwrap_or(service.unit.enabled) && !service.removed;
        }
        loop {
            let pulled: Vec<usize> = self
                .services
                .iter()
                .filter(|s| s.wanted)
                .flat_map(|s| s.unit.requires.iter().chain(&s.unit.wants))
                .filter_map(|name| self.by_name.get(name).copied())
                .filter(|&index| {
                    // An administrator's stop outweighs a pull-in.
                    self.services.get(index).is_some_and(|s| {
                        !s.wanted && !s.removed && s.wanted_by_request != Some(false)
                    })
                })
                .collect();
            if pulled.is_empty() {
                break;
            }
            for index in pulled {
                if let Some(service) = self.services.get_mut(index) {
                    service.wanted = true;
                }
            }
        }
    }

    /// Why the service at `index` cannot start yet, or `None` when it can. The second
    /// value says whether the wait is final (a dependency failed or is invalid).
    pub(super) fn blocker(&self, index: usize) -> Option<(String, bool)> {
        let service = self.services.get(index)?;
        if service.foreground {
            return self.first_unsettled(index);
        }
        let after = service.unit.after.iter().map(|name| (name, false));
        let requires = service.unit.requires.iter().map(|name| (name, true));
        for (name, required) in after.chain(requires) {
            let Some(dependency) = self.by_name.get(name).and_then(|&i| self.services.get(i))
            else {
                if self.invalid.contains_key(name) {
                    return Some((format!("{name}, which is invalid"), true));
                }
                continue;
            };
            if dependency.removed || !(required || dependency.wanted) || dependency.is_ready() {
                continue;
            }
            let finished_cleanly = dependency.state == State::Exited
                && dependency.unit.kind == Kind::Daemon
                && dependency
                    .last_exit
                    .is_some_and(|status| status.is_success());
            if !required && finished_cleanly {
                continue;
            }
            let hopeless = matches!(dependency.state, State::Failed | State::Exited);
            return Some((format!("{name}, which is {}", dependency.state), hopeless));
        }
        None
    }

    /// The command-line main service starts once every other wanted service has settled
    /// (ready, failed, finished or cooling down), as s6-overlay starts CMD.
    fn first_unsettled(&self, index: usize) -> Option<(String, bool)> {
        self.services
            .iter()
            .filter(|s| s.index != index && s.wanted && !s.removed)
            .find(|s| !s.is_settled())
            .map(|s| (format!("{}, which is {}", s.unit.name, s.state), false))
    }

    /// Starts every wanted service whose dependencies are ready; during shutdown, moves
    /// the shutdown along instead.
    pub(super) fn settle(&mut self, now: Instant) -> Vec<Action> {
        if self.shutting_down {
            return self.progress_shutdown(now);
        }
        let mut actions = Vec::new();
        for position in 0..self.order.len() {
            let Some(&index) = self.order.get(position) else {
                continue;
            };
            let startable = self
                .services
                .get(index)
                .is_some_and(|s| s.wanted && !s.removed && s.state == State::Down);
            if !startable {
                continue;
            }
            let blocker = self.blocker(index);
            let Some(service) = self.services.get_mut(index) else {
                continue;
            };
            match blocker {
                None => {
                    service.blocked_on = None;
                    actions.extend(service.start("dependencies ready"));
                }
                Some((reason, hopeless)) => {
                    if service.blocked_on.as_ref() != Some(&reason) {
                        if hopeless {
                            log::warn!("{}: not starting: waiting for {reason}", service.unit.name);
                        } else {
                            log::debug!("{}: waiting for {reason}", service.unit.name);
                        }
                        service.blocked_on = Some(reason);
                    }
                }
            }
        }
        actions
    }

    /// The service at `index` went down: everything that `requires` it is stopped, to be
    /// started again once it is back.
    pub(super) fn stop_requirers(&mut self, index: usize, now: Instant) -> Vec<Action> {
        let Some(name) = self.services.get(index).map(|s| s.unit.name.clone()) else {
            return Vec::new();
        };
        let mut actions = Vec::new();
        for service in &mut self.services {
            // A sweep after a death of its own ends in a restart: it must go down instead.
            let restarting =
                service.is_sweeping() || matches!(service.state, State::Backoff | State::Cooldown);
            let live = service.pid.is_some() && service.state != State::Stopping;
            if (live || restarting) && service.unit.requires.contains(&name) {
                actions.extend(service.stop(
                    AfterStop::Down,
                    &format!("requires {name}, which went down"),
                    now,
                ));
            }
        }
        actions
    }
}
