//! The shell's side of the recovery ladder: incidents appended and kept for `phoenixctl
//! incidents` (answered here, like `events`, from what the shell keeps), last-known-good
//! snapshots taken and put back. The decisions stay with the core; this only performs them
//! and sends the outcome of a restore back as an event.

use std::path::PathBuf;

use crate::control::server::ClientId;
use crate::core::{Event, ProbeId};
use crate::recovery::Incident;
use crate::service::{State, Transition};
use crate::unit::{LoadReport, Unit};

use super::EventLoop;

impl EventLoop {
    pub(super) fn record_incident(&mut self, incident: &Incident) {
        self.host.incidents.record(incident);
    }

    pub(super) fn serve_incidents(&mut self, client: ClientId, name: Option<&str>) {
        let reply = self.host.incidents.answer(name);
        if let Some(server) = &mut self.control {
            server.reply(client, &reply, self.poll.registry());
        }
    }

    /// Units read again: their names may be asked about, incidents or not.
    pub(super) fn note_services(&mut self, report: &LoadReport) {
        let units = report.units.iter().map(|unit| unit.name.clone());
        let invalid = report.invalid.iter().map(|(name, _)| name.clone());
        self.host.incidents.add_services(units.chain(invalid));
    }

    /// A rollback file that could not be kept is an event too, not only a warning.
    pub(super) fn save_known_good(&mut self, unit: &Unit, files: &[PathBuf]) {
        for problem in self.host.known_good.save(unit, files) {
            self.record(Transition {
                service: unit.name.clone(),
                from: State::Running,
                to: State::Running,
                reason: problem,
                exit: None,
                restarts: 0,
                next_attempt: None,
                health: None,
                step: Some(("snapshot".to_string(), "warning".to_string())),
            });
        }
    }

    pub(super) fn restore_files(&mut self, probe: ProbeId, service: &str, files: &[PathBuf]) {
        let result = self.host.known_good.restore(service, files);
        self.queue.push_back(Event::FilesRestored { probe, result });
    }
}
