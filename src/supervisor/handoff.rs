//! The supervisor across a re-exec (DESIGN.md §9): every service's handoff, the next
//! incident id and a shutdown under way, written by the old image; in the new one, the
//! same units are loaded again and each service carries on from its record — same pid,
//! nothing restarted. Pure: the shell serialises it and performs the exec.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::core::Action;
use crate::service::{ServiceHandoff, SpawnKind, spawn_token};
use crate::unit::ReadyCheck;

use super::Supervisor;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupervisorHandoff {
    pub services: Vec<ServiceHandoff>,
    pub next_incident_id: u64,
    pub shutting_down: bool,
    pub exit_code: u8,
    /// The power action a shutdown under way ends with (an older image wrote none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power: Option<crate::power::PowerAction>,
}

impl Supervisor {
    /// Everything the next image needs, at `now`.
    pub fn hand_off(&self, now: Instant) -> SupervisorHandoff {
        SupervisorHandoff {
            services: self
                .services
                .iter()
                .filter(|service| !service.removed)
                .map(|service| service.hand_off(now))
                .collect(),
            next_incident_id: self.incident_ids.peek(),
            shutting_down: self.shutting_down,
            exit_code: self.exit_code,
            power: self.power,
        }
    }

    /// The core starts from `handoff` instead of from scratch.
    pub fn resume_from(&mut self, handoff: SupervisorHandoff) {
        self.resume = Some(handoff);
    }

    /// Carries every service on from its record; the shell adopts the live programs
    /// (their notify sockets, their s6 directories).
    pub(super) fn resume(&mut self, handoff: SupervisorHandoff, now: Instant) -> Vec<Action> {
        self.incident_ids
            .set_next(handoff.next_incident_id.max(self.incident_ids.peek()));
        let mut actions = Vec::new();
        for record in &handoff.services {
            let Some(&index) = self.by_name.get(&record.name) else {
                if let Some(pid) = record.pid {
                    log::warn!(
                        "{}: no longer a unit; its pid {pid} is left to exit and be reaped",
                        record.name
                    );
                }
                continue;
            };
            let Some(service) = self.services.get_mut(index) else {
                continue;
            };
            actions.extend(service.resume(record, now));
            if let Some(pid) = service.pid {
                self.pids.insert(pid, (index, SpawnKind::Program));
                let unit = &service.unit;
                actions.push(Action::AdoptProgram {
                    token: spawn_token(index, SpawnKind::Program),
                    name: unit.name.clone(),
                    pid,
                    notify_socket: unit.ready.check == ReadyCheck::Notify
                        || unit.watchdog.is_some(),
                    s6_service_dir: unit.s6.as_ref().map(|_| unit.source.clone()),
                    output: crate::service::spec::output_of(service),
                });
                log::info!("{}: carried on as pid {pid} ({})", unit.name, service.state);
            }
        }
        if handoff.shutting_down {
            actions.extend(self.begin_shutdown(handoff.exit_code, now));
            if let Some(action) = handoff.power {
                actions.extend(self.request_power(action, "carried over a re-exec", now));
            }
        }
        actions
    }
}
