//! Which of the core's own records are alert occurrences: a state change into failed or
//! cooldown, a change of health to unhealthy, a recovery step beyond a restart, a disk's
//! change of level up to warning or critical, and incidents (opened as hung, closed
//! escalated or recovered); and which end what was firing: an incident closed recovered,
//! a run verified good (its last-known-good kept: after a cooldown's trial start, or an
//! operator's start of a failed service), a disk back to ok. Pure.

use std::time::Duration;

use crate::core::Action;
use crate::health::Health;
use crate::recovery::{Detection, Incident, Outcome};
use crate::service::{State, Transition};

use super::{Alerts, Kind};

/// Something that happened once to one service.
#[derive(Clone, Debug, PartialEq)]
pub struct Occurrence {
    pub kind: Kind,
    pub service: String,
    pub summary: String,
    pub incident: Option<u64>,
    pub resolved: bool,
    pub time_to_recover: Option<Duration>,
}

impl Occurrence {
    /// A file of the state directory found corrupt at start (`summary` says which).
    pub fn corrupt_file(summary: String) -> Occurrence {
        Occurrence::new(Kind::CorruptFile, "phoenix", summary)
    }

    /// Lines of a service's captured output dropped (its console did not keep up).
    pub fn logs_dropped(service: String, dropped: u64) -> Occurrence {
        let summary = format!("{service}: {dropped} line(s) of output dropped");
        Occurrence::new(Kind::LogsDropped, &service, summary)
    }

    fn new(kind: Kind, service: &str, summary: String) -> Occurrence {
        Occurrence {
            kind,
            service: service.to_string(),
            summary,
            incident: None,
            resolved: false,
            time_to_recover: None,
        }
    }
}

/// Ladder steps that are more than a restart, by the name a step transition moves to.
const RECOVERY_STEPS: [&str; 4] = ["safe-mode", "rollback", "restore", "restart-dependencies"];

/// The name a disk's records carry before its path (`disk:/var`).
const DISK_PREFIX: &str = "disk:";

/// A disk's change of level (its hook's end is a "change" to the same level).
fn of_disk(transition: &Transition) -> Option<Occurrence> {
    let (from, to) = transition.step.as_ref().filter(|(from, to)| from != to)?;
    let kind = match to.as_str() {
        "warning" => Kind::DiskWarning,
        "critical" => Kind::DiskCritical,
        _ => return None,
    };
    let path = transition.service.strip_prefix(DISK_PREFIX)?;
    Some(Occurrence::new(
        kind,
        &transition.service,
        format!("disk {path}: {to} (was {from}), {}", transition.reason),
    ))
}

fn of_transition(transition: &Transition) -> Option<Occurrence> {
    let name = &transition.service;
    let reason = &transition.reason;
    if name.starts_with(DISK_PREFIX) {
        return of_disk(transition);
    }
    if let Some((_, to)) = &transition.step {
        return RECOVERY_STEPS.contains(&to.as_str()).then(|| {
            Occurrence::new(
                Kind::RecoveryStep,
                name,
                format!("{name}: recovery step {to} ({reason})"),
            )
        });
    }
    if let Some((_, to)) = transition.health {
        return (to == Health::Unhealthy).then(|| {
            Occurrence::new(
                Kind::Unhealthy,
                name,
                format!("{name}: unhealthy ({reason})"),
            )
        });
    }
    if transition.from == transition.to {
        return None;
    }
    match transition.to {
        State::Failed => Some(Occurrence::new(
            Kind::Failed,
            name,
            format!("{name}: failed ({reason})"),
        )),
        State::Cooldown => Some(Occurrence::new(
            Kind::CircuitOpen,
            name,
            format!("{name}: circuit open ({reason})"),
        )),
        _ => None,
    }
}

impl Alerts {
    fn of_incident(&mut self, incident: &Incident) -> Option<Occurrence> {
        let name = &incident.service;
        let seen = self.seen.entry(name.clone()).or_default();
        let (kind, summary) = match incident.outcome {
            None if incident.detected_by == Detection::Hung && seen.0 != incident.id => {
                seen.0 = incident.id;
                (Kind::Hung, format!("{name}: hung ({})", incident.reason))
            }
            Some(outcome) if seen.1 != incident.id => {
                seen.1 = incident.id;
                match outcome {
                    Outcome::Recovered => {
                        let after = incident.time_to_recover.map_or_else(String::new, |t| {
                            format!(" in {}", crate::unit::format_duration(t))
                        });
                        (
                            Kind::Recovered,
                            format!("{name}: recovered{after} (incident {})", incident.id),
                        )
                    }
                    Outcome::Escalated => (
                        Kind::Escalated,
                        format!(
                            "{name}: recovery exhausted, escalated (incident {})",
                            incident.id
                        ),
                    ),
                    Outcome::Failed | Outcome::Cooldown => return None,
                }
            }
            _ => return None,
        };
        Some(Occurrence {
            incident: Some(incident.id),
            resolved: incident.outcome.is_some(),
            time_to_recover: incident.time_to_recover,
            ..Occurrence::new(kind, name, summary)
        })
    }

    /// The occurrences among one step's actions, in order, after any deferred ones.
    pub fn occurrences(&mut self, actions: &[Action]) -> Vec<Occurrence> {
        let mut found = std::mem::take(&mut self.deferred);
        found.extend(actions.iter().filter_map(|action| match action {
            Action::Record(transition) => of_transition(transition),
            Action::RecordIncident(incident) => self.of_incident(incident),
            _ => None,
        }));
        found
    }

    /// The services (or `disk:PATH`s) whose firing alerts one step's actions end: an
    /// incident closed recovered, a run verified good, a disk back to ok.
    pub fn resolutions(actions: &[Action]) -> Vec<String> {
        actions
            .iter()
            .filter_map(|action| match action {
                Action::Record(transition) if transition.service.starts_with(DISK_PREFIX) => {
                    let (from, to) = transition.step.as_ref()?;
                    (to == "ok" && from != to).then(|| transition.service.clone())
                }
                Action::RecordIncident(incident)
                    if incident.outcome == Some(Outcome::Recovered) =>
                {
                    Some(incident.service.clone())
                }
                Action::SaveKnownGood { unit, .. } => Some(unit.name.clone()),
                _ => None,
            })
            .collect()
    }
}
