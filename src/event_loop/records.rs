//! State changes as the outside sees them: each transition stamped with the wall clock,
//! announced in an s6 directory's `event/` fifodir, appended to the event log and
//! streamed to `events --follow` clients.

use std::time::SystemTime;

use crate::control::event_log::format_rfc3339;
use crate::control::protocol::{EventRecord, Reply};
use crate::service::Transition;

use super::EventLoop;

impl EventLoop {
    /// A transition: stamped with the wall clock, appended to the event log, streamed.
    pub(super) fn record(&mut self, transition: Transition) {
        if transition.health.is_none() && transition.step.is_none() {
            let events =
                crate::sys::s6_supervise::events_for(transition.from.name(), transition.to.name());
            self.s6.announce(&transition.service, events);
        }
        let (from, to, kind) = match (transition.health, transition.step) {
            (Some((from, to)), _) => (from.to_string(), to.to_string(), Some("health".to_string())),
            (None, Some((from, to))) if transition.service.starts_with("disk:") => {
                (from, to, Some("disk".to_string()))
            }
            (None, Some((from, to))) => (from, to, Some("recovery".to_string())),
            (None, None) => (transition.from.to_string(), transition.to.to_string(), None),
        };
        let record = EventRecord {
            time: format_rfc3339(SystemTime::now()),
            service: transition.service,
            from,
            to,
            kind,
            reason: transition.reason,
            exit: transition.exit.map(|status| status.to_string()),
            restarts: transition.restarts,
            next_attempt_ms: transition
                .next_attempt
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        };
        if let Some(log) = &mut self.host.event_log {
            log.append(&record);
        }
        if let Some(server) = &mut self.control {
            server.broadcast(&Reply::Event(record), self.poll.registry());
        }
    }
}
