//! Alerts still firing: each one sent at critical or warning stays here until what it was
//! about is over — an incident of its service closed recovered, or its disk back under the
//! warning threshold — and then leaves as a resolution, which a receiver that keeps alert
//! state (Alertmanager) needs to close the alert it holds. Bounded: past `MAX_FIRING` the
//! oldest is forgotten (its receiver's own timeout resolves it). Pure.

use std::time::Instant;

use super::{Alert, Alerts, Kind};

/// Alerts kept as firing at most; a flapping fleet must not grow this without end.
const MAX_FIRING: usize = 1024;

/// An alert sent and not resolved: what identifies it to a receiver (kind, service,
/// incident) and when it started.
#[derive(Clone, Debug, PartialEq)]
pub struct Firing {
    pub kind: Kind,
    pub service: String,
    pub incident: Option<u64>,
    pub summary: String,
    pub started: Instant,
}

impl Firing {
    fn is_same(&self, other: &Firing) -> bool {
        (self.kind, &self.service, self.incident) == (other.kind, &other.service, other.incident)
    }
}

impl Alerts {
    /// Keeps `alert` as firing; one sent again replaces the earlier (same identity, so the
    /// receiver holds one alert).
    pub(super) fn fire(&mut self, alert: &Alert) {
        let firing = Firing {
            kind: alert.kind,
            service: alert.service.clone(),
            incident: alert.incident,
            summary: alert.summary.clone(),
            started: alert.at,
        };
        self.keep_firing(firing);
    }

    pub(super) fn keep_firing(&mut self, firing: Firing) {
        self.firing.retain(|kept| !kept.is_same(&firing));
        if self.firing.len() >= MAX_FIRING {
            self.firing.remove(0);
        }
        self.firing.push(firing);
        self.changed = true;
    }

    /// The alerts of `service` still firing, now resolved and no longer kept.
    pub fn resolve(&mut self, service: &str) -> Vec<Firing> {
        let (resolved, kept) = std::mem::take(&mut self.firing)
            .into_iter()
            .partition(|firing| firing.service == service);
        self.firing = kept;
        let resolved: Vec<Firing> = resolved;
        if !resolved.is_empty() {
            self.changed = true;
        }
        resolved
    }

    /// The alerts still firing, oldest first.
    pub fn firing(&self) -> &[Firing] {
        &self.firing
    }
}
