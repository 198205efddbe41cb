//! Alerts: which of the core's own signals deserve one (`signals.rs`), at which level,
//! and whether to send it now — a `threshold` of occurrences per level, service and kind,
//! then repeats held back for `cooldown` and counted; which alerts are still firing, so a
//! recovery can resolve them (`firing.rs`); and the state a restart of Phoenix keeps
//! (`saved.rs`). Pure: it sees the actions a step produced and the time it is given;
//! delivery (exec, webhook) and the file are the shell's.

mod firing;
mod payload;
mod saved;
mod signals;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::unit::{AlertSettings, LevelPolicy};

pub use firing::Firing;
pub use payload::{alertmanager_body, alertmanager_resolution, alertname, json_body};
pub use saved::{AlertsState, SavedTally};
pub use signals::Occurrence;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Critical,
    Warning,
    Info,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Critical => "critical",
            Level::Warning => "warning",
            Level::Info => "info",
        }
    }
}

/// What an alert is about; each kind has one level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// The service is failed for good (budget exhausted with `stop`, a permanent failure).
    Failed,
    /// A critical unit's recovery ran out and escalated.
    Escalated,
    /// The budget ran out and the circuit opened (cooldown).
    CircuitOpen,
    /// A recovery ladder step beyond a restart was taken.
    RecoveryStep,
    Unhealthy,
    Hung,
    /// An incident closed with the service recovered.
    Recovered,
    /// A `[[disk]]` path went over its warning threshold.
    DiskWarning,
    /// A `[[disk]]` path went over its critical threshold.
    DiskCritical,
    /// A file of the state directory was found corrupt at start and moved aside.
    CorruptFile,
    /// Lines of a service's captured output were dropped.
    LogsDropped,
}

impl Kind {
    pub const ALL: [Kind; 11] = [
        Kind::Failed,
        Kind::Escalated,
        Kind::DiskCritical,
        Kind::CircuitOpen,
        Kind::RecoveryStep,
        Kind::Unhealthy,
        Kind::Hung,
        Kind::DiskWarning,
        Kind::CorruptFile,
        Kind::LogsDropped,
        Kind::Recovered,
    ];

    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Failed => "failed",
            Kind::Escalated => "escalated",
            Kind::CircuitOpen => "circuit-open",
            Kind::RecoveryStep => "recovery-step",
            Kind::Unhealthy => "unhealthy",
            Kind::Hung => "hung",
            Kind::Recovered => "recovered",
            Kind::DiskWarning => "disk-warning",
            Kind::DiskCritical => "disk-critical",
            Kind::CorruptFile => "corrupt-file",
            Kind::LogsDropped => "logs-dropped",
        }
    }

    pub fn level(self) -> Level {
        match self {
            Kind::Failed | Kind::Escalated | Kind::DiskCritical => Level::Critical,
            Kind::CircuitOpen
            | Kind::RecoveryStep
            | Kind::Unhealthy
            | Kind::Hung
            | Kind::DiskWarning
            | Kind::CorruptFile
            | Kind::LogsDropped => Level::Warning,
            Kind::Recovered => Level::Info,
        }
    }
}

/// One alert to deliver.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    pub level: Level,
    pub service: String,
    pub kind: Kind,
    pub summary: String,
    /// When the core saw it; the shell turns it into wall-clock time.
    pub at: Instant,
    /// The incident it belongs to, if any.
    pub incident: Option<u64>,
    /// An incident that closed: the alert is its resolution.
    pub resolved: bool,
    /// With `Recovered`: from the failure to the run verified good.
    pub time_to_recover: Option<Duration>,
    /// Repeats held back by the cooldown since the last one sent.
    pub suppressed: u64,
}

/// Occurrences of one (kind, service): how many, when one was last sent, how many were
/// held back since.
#[derive(Clone, Debug, Default, PartialEq)]
struct Tally {
    count: u32,
    last_sent: Option<Instant>,
    suppressed: u64,
}

/// The alert bookkeeping of one supervisor.
#[derive(Clone, Debug, Default)]
pub struct Alerts {
    settings: AlertSettings,
    tallies: BTreeMap<(Kind, String), Tally>,
    /// Incidents already alerted on, per service: (the last opened as hung, the last
    /// closed), so a record written again is not a second occurrence.
    seen: BTreeMap<String, (u64, u64)>,
    /// Alerts sent at critical or warning and not resolved yet, oldest first.
    firing: Vec<Firing>,
    /// Occurrences found outside a step (corrupt files at start), raised with the next.
    deferred: Vec<Occurrence>,
    /// Whether the tallies or the firing alerts changed since the state was last taken.
    changed: bool,
}

impl Alerts {
    pub fn new(settings: AlertSettings) -> Alerts {
        Alerts {
            settings,
            ..Alerts::default()
        }
    }

    fn policy(&self, level: Level) -> LevelPolicy {
        match level {
            Level::Critical => self.settings.critical,
            Level::Warning => self.settings.warning,
            Level::Info => self.settings.info,
        }
    }

    /// One occurrence: the alert to send now, or none (under the threshold, or held
    /// back by the cooldown). The threshold counts from the first occurrence; once it
    /// is reached, every occurrence is either sent or suppressed.
    pub fn raise(&mut self, occurrence: Occurrence, now: Instant) -> Option<Alert> {
        if !self.settings.has_channel() {
            return None;
        }
        let policy = self.policy(occurrence.kind.level());
        let tally = self
            .tallies
            .entry((occurrence.kind, occurrence.service.clone()))
            .or_default();
        tally.count = tally.count.saturating_add(1);
        self.changed = true;
        if tally.count < policy.threshold {
            return None;
        }
        let cooling = tally
            .last_sent
            .is_some_and(|sent| now.saturating_duration_since(sent) < policy.cooldown);
        if cooling {
            tally.suppressed = tally.suppressed.saturating_add(1);
            log::info!(
                "{}: {} alert held back by the cooldown ({} since the last one sent)",
                occurrence.service,
                occurrence.kind.name(),
                tally.suppressed
            );
            return None;
        }
        tally.last_sent = Some(now);
        let suppressed = std::mem::take(&mut tally.suppressed);
        let alert = Alert {
            level: occurrence.kind.level(),
            service: occurrence.service,
            kind: occurrence.kind,
            summary: occurrence.summary,
            at: now,
            incident: occurrence.incident,
            resolved: occurrence.resolved,
            time_to_recover: occurrence.time_to_recover,
            suppressed,
        };
        if alert.level != Level::Info {
            self.fire(&alert);
        }
        Some(alert)
    }

    /// An occurrence seen outside a step, raised with the next step's.
    pub fn defer(&mut self, occurrence: Occurrence) {
        self.deferred.push(occurrence);
    }

    /// Whether anything worth saving changed since the last call.
    pub fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }
}
