//! SIGHUP: the services directory read again and diffed against what runs. New units
//! start, removed ones stop, changed ones restart with their new definition, unchanged ones
//! are not touched; a unit that became invalid keeps its old definition running. A changed
//! unit starts with a fresh budget and a closed circuit, wherever the old one stood.

use std::time::Instant;

use crate::core::Action;
use crate::service::AfterStop;
use crate::unit::LoadReport;

use super::Supervisor;

impl Supervisor {
    pub(super) fn reload(&mut self, report: LoadReport, now: Instant) -> Vec<Action> {
        if self.shutting_down {
            return Vec::new();
        }
        let mut actions = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for unit in report.units {
            seen.insert(unit.name.clone());
            match self.by_name.get(&unit.name).copied() {
                Some(index) => actions.extend(self.replace(index, unit, now)),
                None => {
                    log::info!("{}: new unit", unit.name);
                    self.add(unit);
                }
            }
        }
        self.invalid.clear();
        for (name, error) in report.invalid {
            seen.insert(name.clone());
            if self.by_name.contains_key(&name) {
                log::error!(
                    "{name}: keeping the running definition, the new one is invalid: {error}"
                );
            } else {
                log::error!("{name}: not started, invalid unit: {error}");
                self.invalid.insert(name, error);
            }
        }
        for service in &mut self.services {
            if !service.removed && !service.foreground && !seen.contains(&service.unit.name) {
                log::info!("{}: unit removed", service.unit.name);
                service.removed = true;
                actions.extend(service.stop(AfterStop::Down, "unit removed", now));
            }
        }
        self.refresh_graph();
        actions
    }

    fn replace(&mut self, index: usize, unit: crate::unit::Unit, now: Instant) -> Vec<Action> {
        let Some(service) = self.services.get_mut(index) else {
            return Vec::new();
        };
        // Compared with what was loaded, not with a last-known-good definition it runs.
        let loaded = service.loaded.as_deref().unwrap_or(&service.unit);
        if *loaded == unit && !service.removed {
            return Vec::new();
        }
        log::info!("{}: unit changed", unit.name);
        service.removed = false;
        service.loaded = None;
        service.ladder.mode = crate::recovery::Mode::Normal;
        // A service still ending its leftovers (or running `finish`) takes the intent along.
        let was_live = service.is_live();
        service.unit = unit;
        // A new definition is not judged by the old one's failures.
        let mut actions = service.renew_budget();
        if was_live && service.unit.enabled {
            actions.extend(service.stop(
                AfterStop::Restart("restarting with the changed unit"),
                "unit changed",
                now,
            ));
        } else if was_live {
            actions.extend(service.stop(AfterStop::Down, "unit changed, now disabled", now));
        }
        actions
    }
}
