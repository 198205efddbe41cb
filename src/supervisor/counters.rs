//! What `/metrics` counts that no service keeps: failures by reason, closed incidents by
//! outcome with their times to detect and recover, ladder steps by outcome, probe
//! latencies, orphans reaped, and when each service entered its state. Updated in one
//! place, `Supervisor::step`, from the event before it is routed and from what routing
//! produced (judged failures, closed incidents, transitions). Pure. Counts start at zero
//! with each Phoenix image (a re-exec resets them, as a restart would).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::core::{Action, Event, Pid};
use crate::exit_status::ExitStatus;
use crate::metrics::Histogram;
use crate::metrics::histogram::{INCIDENT_BUCKETS, PROBE_BUCKETS};
use crate::recovery::{Detection, Incident};
use crate::service::{Service, SpawnKind, Transition};

use super::Supervisor;

/// The reason classes of `phoenix_service_failures_total`.
pub const FAILURE_REASONS: [&str; 6] = [
    "exit",
    "signal",
    "unhealthy",
    "hung",
    "start-timeout",
    "spawn",
];

/// One service's counts, by its index.
#[derive(Clone, Debug)]
pub struct ServiceCounters {
    /// By reason class (`FAILURE_REASONS`).
    pub failures: BTreeMap<&'static str, u64>,
    /// Closed incidents by outcome.
    pub incidents: BTreeMap<&'static str, u64>,
    /// Steps of closed incidents by (rung, outcome).
    pub steps: BTreeMap<(&'static str, &'static str), u64>,
    pub probe_duration: Histogram,
    /// When it entered its current state.
    pub state_since: Option<Instant>,
    /// Captured output lines dropped (console or file could not keep up).
    pub log_lines_dropped: u64,
    last_closed: Option<u64>,
}

impl Default for ServiceCounters {
    fn default() -> ServiceCounters {
        ServiceCounters {
            failures: BTreeMap::new(),
            incidents: BTreeMap::new(),
            steps: BTreeMap::new(),
            probe_duration: Histogram::new(PROBE_BUCKETS),
            state_since: None,
            log_lines_dropped: 0,
            last_closed: None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Counters {
    services: Vec<ServiceCounters>,
    pub orphans_reaped: u64,
    /// Over closed incidents, of every service.
    pub time_to_detect: Histogram,
    /// Over recovered incidents, of every service.
    pub time_to_recover: Histogram,
    pub alerts_sent: u64,
    pub alerts_failed: u64,
}

impl Default for Counters {
    fn default() -> Counters {
        Counters {
            services: Vec::new(),
            orphans_reaped: 0,
            time_to_detect: Histogram::new(INCIDENT_BUCKETS),
            time_to_recover: Histogram::new(INCIDENT_BUCKETS),
            alerts_sent: 0,
            alerts_failed: 0,
        }
    }
}

/// The class a judged failure counts under: how it was detected, an exit split into a
/// code and a signal. `None`: a heal request, which opens an incident but is no failure.
pub fn failure_reason(detection: Detection, status: Option<ExitStatus>) -> Option<&'static str> {
    match detection {
        Detection::Exit => match status {
            Some(ExitStatus::Signal(_)) => Some("signal"),
            _ => Some("exit"),
        },
        Detection::Request => None,
        other => Some(other.name()),
    }
}

impl Counters {
    /// The counts of the service at `index` (zero for one never counted).
    pub fn service(&self, index: usize) -> Option<&ServiceCounters> {
        self.services.get(index)
    }

    fn service_mut(&mut self, index: usize) -> Option<&mut ServiceCounters> {
        if self.services.len() <= index {
            self.services
                .resize_with(index + 1, ServiceCounters::default);
        }
        self.services.get_mut(index)
    }

    /// One alert delivery ended.
    pub fn count_alert(&mut self, ok: bool) {
        if ok {
            self.alerts_sent += 1;
        } else {
            self.alerts_failed += 1;
        }
    }

    /// Lines of the service at `index` dropped by the shell's output capture.
    pub fn count_log_drops(&mut self, index: usize, dropped: u64) {
        if let Some(counts) = self.service_mut(index) {
            counts.log_lines_dropped = counts.log_lines_dropped.saturating_add(dropped);
        }
    }

    /// Every service enters its first state now.
    pub fn start(&mut self, services: &[Service], now: Instant) {
        for service in services {
            if let Some(counts) = self.service_mut(service.index) {
                counts.state_since = Some(now);
            }
        }
    }

    fn observe_probe(&mut self, service: &Service, latency: Duration) {
        if let Some(counts) = self.service_mut(service.index) {
            counts.probe_duration.observe(latency);
        }
    }

    /// A closed incident counts once: its outcome, its steps, its times.
    fn observe_incident(&mut self, index: usize, incident: &Incident) {
        let Some(outcome) = incident.outcome else {
            return;
        };
        let Some(counts) = self.service_mut(index) else {
            return;
        };
        if counts.last_closed == Some(incident.id) {
            return;
        }
        counts.last_closed = Some(incident.id);
        *counts.incidents.entry(outcome.name()).or_default() += 1;
        for step in &incident.steps {
            *counts
                .steps
                .entry((step.rung.name(), step.outcome.name()))
                .or_default() += 1;
        }
        self.time_to_detect.observe(incident.time_to_detect);
        if let Some(recovered) = incident.time_to_recover {
            self.time_to_recover.observe(recovered);
        }
    }

    fn observe_transition(&mut self, index: usize, transition: &Transition, now: Instant) {
        let is_state_change = transition.health.is_none() && transition.step.is_none();
        if let Some(counts) = self.service_mut(index).filter(|_| is_state_change) {
            counts.state_since = Some(now);
        }
    }
}

impl Supervisor {
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Before routing: what the event says that routing forgets (an orphan's pid, how
    /// long a probe took).
    pub(super) fn count_event(&mut self, event: &Event, now: Instant) {
        match event {
            Event::Exited { pid, .. } => self.count_exit(*pid, now),
            Event::ProbeFinished { probe, outcome } => {
                let index = crate::service::decode_probe_id(*probe);
                let Some(service) = index.and_then(|i| self.services.get(i)) else {
                    return;
                };
                if let Some(elapsed) = health_probe_time(service, now) {
                    let latency = outcome.as_ref().map_or(elapsed, |latency| *latency);
                    self.counters.observe_probe(service, latency);
                }
            }
            _ => {}
        }
    }

    fn count_exit(&mut self, pid: Pid, now: Instant) {
        match self.pids.get(&pid) {
            None => self.counters.orphans_reaped += 1,
            Some(&(index, SpawnKind::Probe)) => {
                let Some(service) = self.services.get(index) else {
                    return;
                };
                if let Some(elapsed) = health_probe_time(service, now) {
                    if !service.watch.probe_stale {
                        self.counters.observe_probe(service, elapsed);
                    }
                }
            }
            Some(_) => {}
        }
    }

    /// After routing: failures judged, incidents closed.
    pub(super) fn count_outcomes(&mut self, actions: &[Action]) {
        for service in &mut self.services {
            for (detection, status) in std::mem::take(&mut service.judged_failures) {
                let Some(reason) = failure_reason(detection, status) else {
                    continue;
                };
                if let Some(counts) = self.counters.service_mut(service.index) {
                    *counts.failures.entry(reason).or_default() += 1;
                }
            }
        }
        for action in actions {
            if let Action::RecordIncident(incident) = action {
                if let Some(&index) = self.by_name.get(&incident.service) {
                    self.counters.observe_incident(index, incident);
                }
            }
        }
    }

    /// Each service's changes since the last event, as records; state changes restart
    /// its time in state.
    pub(super) fn collect_transitions(&mut self, now: Instant) -> Vec<Action> {
        let mut actions = Vec::new();
        for service in &mut self.services {
            for transition in service.take_transitions(now) {
                self.counters
                    .observe_transition(service.index, &transition, now);
                actions.push(Action::Record(transition));
            }
        }
        actions
    }
}

/// How long the health probe in flight has taken, if one is and it is a health probe
/// (the service is up; readiness probes are not counted).
fn health_probe_time(service: &Service, now: Instant) -> Option<Duration> {
    let started = service.watch.probe_started?;
    let counted = service.state.is_up() && service.pid.is_some() && service.unit.health.is_some();
    counted.then(|| now.saturating_duration_since(started))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unit::Signal;

    #[test]
    fn failures_are_classed_by_how_they_were_detected() {
        let rows = [
            (Detection::Exit, Some(ExitStatus::Code(1)), Some("exit")),
            (
                Detection::Exit,
                Some(ExitStatus::Signal(Signal::KILL)),
                Some("signal"),
            ),
            (Detection::Exit, None, Some("exit")),
            (
                Detection::Unhealthy,
                Some(ExitStatus::Signal(Signal::TERM)),
                Some("unhealthy"),
            ),
            (Detection::Hung, None, Some("hung")),
            (Detection::StartTimeout, None, Some("start-timeout")),
            (Detection::Spawn, Some(ExitStatus::Code(127)), Some("spawn")),
            (Detection::Request, None, None),
        ];
        for (detection, status, expected) in rows {
            assert_eq!(failure_reason(detection, status), expected, "{detection:?}");
            if let Some(reason) = expected {
                assert!(FAILURE_REASONS.contains(&reason));
            }
        }
    }
}
