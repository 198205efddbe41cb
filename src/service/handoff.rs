//! One service across a re-exec of Phoenix (DESIGN.md §9): what the new image needs to
//! carry on as if nothing happened — its pid, state, budget and circuit, health, open
//! incident, ladder position, and its timers as remaining durations. Instants become
//! milliseconds before or after the moment of the handoff, so the record is plain data.
//! Pure: the shell writes and reads it.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::core::{Action, Pid};
use crate::exit_status::ExitStatus;
use crate::health::{Health, HealthTracker, Thresholds};
use crate::recovery::{Detection, Incident, Mode, Rung, StepOutcome, StepTaken};
use crate::unit::{RecoveryStep, Signal};

use super::{AfterStop, Budget, Circuit, Death, Service, State, TimerKind, Verdict};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceHandoff {
    pub name: String,
    pub state: String,
    pub pid: Option<Pid>,
    pub started_ms_ago: Option<u64>,
    pub was_ready: bool,
    pub restarts: u32,
    pub last_exit: Option<ExitHandoff>,
    pub consecutive: u32,
    pub failures_ms_ago: Vec<u64>,
    pub circuit: CircuitHandoff,
    pub next_attempt_in_ms: Option<u64>,
    pub wanted_by_request: Option<bool>,
    /// "down", "restart", "judge", "climb" while stopping.
    pub stop_intent: Option<String>,
    pub stop_kill_in_ms: Option<u64>,
    pub killed: bool,
    pub ready_in_ms: Option<u64>,
    pub failure_reason: Option<String>,
    pub health: Option<String>,
    pub status_text: Option<String>,
    pub verify_since_ms_ago: Option<u64>,
    pub incident: Option<IncidentHandoff>,
    pub ladder_next: usize,
    pub ladder_trying: Option<String>,
    pub mode: String,
    pub rolled_back: bool,
    pub deaths: Vec<DeathHandoff>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExitHandoff {
    pub code: Option<u8>,
    pub signal: Option<i32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CircuitHandoff {
    /// "closed", "open", "half-open".
    pub state: String,
    pub until_in_ms: Option<u64>,
    pub cooldown_ms: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentHandoff {
    pub id: u64,
    pub detected_by: String,
    pub reason: String,
    pub opened_ms_ago: u64,
    pub time_to_detect_ms: u64,
    pub steps: Vec<StepHandoff>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepHandoff {
    pub rung: String,
    pub started_ms_ago: u64,
    pub outcome: String,
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeathHandoff {
    pub ms_ago: u64,
    pub status: ExitHandoff,
    pub uptime_ms: u64,
    pub verdict: String,
    pub reason: String,
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn ago(at: Instant, now: Instant) -> u64 {
    millis(now.saturating_duration_since(at))
}

fn until(at: Instant, now: Instant) -> u64 {
    millis(at.saturating_duration_since(now))
}

fn back(ms_ago: u64, now: Instant) -> Instant {
    now.checked_sub(Duration::from_millis(ms_ago))
        .unwrap_or(now)
}

fn ahead(ms: u64, now: Instant) -> Instant {
    now.checked_add(Duration::from_millis(ms)).unwrap_or(now)
}

fn exit_of(status: ExitStatus) -> ExitHandoff {
    match status {
        ExitStatus::Code(code) => ExitHandoff {
            code: Some(code),
            signal: None,
        },
        ExitStatus::Signal(signal) => ExitHandoff {
            code: None,
            signal: Some(signal.number()),
        },
    }
}

fn status_of(exit: &ExitHandoff) -> Option<ExitStatus> {
    match (exit.code, exit.signal) {
        (Some(code), _) => Some(ExitStatus::Code(code)),
        (None, Some(number)) => Signal::from_number(number).map(ExitStatus::Signal),
        (None, None) => None,
    }
}

fn rung_of(name: &str) -> Option<Rung> {
    if name == "restart" {
        return Some(Rung::Restart);
    }
    RecoveryStep::ALL
        .into_iter()
        .find(|step| step.name() == name)
        .map(Rung::Step)
}

impl Service {
    /// This service as the next image must see it.
    pub fn hand_off(&self, now: Instant) -> ServiceHandoff {
        let circuit = match self.budget.circuit {
            Circuit::Closed => CircuitHandoff {
                state: "closed".into(),
                until_in_ms: None,
                cooldown_ms: 0,
            },
            Circuit::Open {
                until: at,
                cooldown,
            } => CircuitHandoff {
                state: "open".into(),
                until_in_ms: Some(until(at, now)),
                cooldown_ms: millis(cooldown),
            },
            Circuit::HalfOpen { cooldown } => CircuitHandoff {
                state: "half-open".into(),
                until_in_ms: None,
                cooldown_ms: millis(cooldown),
            },
        };
        ServiceHandoff {
            name: self.unit.name.clone(),
            state: self.state.name().to_string(),
            pid: self.pid,
            started_ms_ago: self.started_at.map(|at| ago(at, now)),
            was_ready: self.was_ready,
            restarts: self.restarts,
            last_exit: self.last_exit.map(exit_of),
            consecutive: self.budget.consecutive,
            failures_ms_ago: self.budget.failures().map(|&at| ago(at, now)).collect(),
            circuit,
            next_attempt_in_ms: self.next_attempt.map(|at| until(at, now)),
            wanted_by_request: self.wanted_by_request,
            stop_intent: self.stop_intent.map(|intent| {
                match intent {
                    AfterStop::Down | AfterStop::Park(_) => "down",
                    AfterStop::Restart(_) => "restart",
                    AfterStop::Judge => "judge",
                    AfterStop::Climb => "climb",
                }
                .to_string()
            }),
            stop_kill_in_ms: self.stop_kill_at.map(|at| until(at, now)),
            killed: self.killed,
            ready_in_ms: self.watch.ready_deadline.map(|at| until(at, now)),
            failure_reason: self.failure_reason.clone(),
            health: self
                .watch
                .health
                .as_ref()
                .map(|tracker| tracker.health().to_string()),
            status_text: self.watch.status_text.clone(),
            verify_since_ms_ago: self.watch.verify_since.map(|at| ago(at, now)),
            incident: self.incident.as_ref().map(|incident| IncidentHandoff {
                id: incident.id,
                detected_by: incident.detected_by.name().to_string(),
                reason: incident.reason.clone(),
                opened_ms_ago: ago(incident.opened, now),
                time_to_detect_ms: millis(incident.time_to_detect),
                steps: incident
                    .steps
                    .iter()
                    .map(|step| StepHandoff {
                        rung: step.rung.name().to_string(),
                        started_ms_ago: ago(step.started, now),
                        outcome: step.outcome.name().to_string(),
                        detail: step.detail.clone(),
                    })
                    .collect(),
            }),
            ladder_next: self.ladder.next,
            ladder_trying: self.ladder.trying.map(|rung| rung.name().to_string()),
            mode: match self.ladder.mode {
                Mode::Normal => "normal",
                Mode::SafeMode => "safe-mode",
                Mode::RolledBack => "rolled-back",
            }
            .to_string(),
            rolled_back: self.loaded.is_some(),
            deaths: self
                .deaths
                .iter()
                .map(|death| DeathHandoff {
                    ms_ago: ago(death.at, now),
                    status: exit_of(death.status),
                    uptime_ms: millis(death.uptime),
                    verdict: death.verdict.name().to_string(),
                    reason: death.reason.clone(),
                })
                .collect(),
        }
    }

    /// Carries on from `handoff`: the program keeps its pid, nothing is restarted, and
    /// the timers its state needs are armed again. A state in the middle of something the
    /// handoff does not carry (leftovers being swept, `finish` or a hook running) resumes
    /// as `down`, so the service is started again once it is wanted.
    pub fn resume(&mut self, handoff: &ServiceHandoff, now: Instant) -> Vec<Action> {
        self.restarts = handoff.restarts;
        self.last_exit = handoff.last_exit.as_ref().and_then(status_of);
        self.wanted_by_request = handoff.wanted_by_request;
        self.budget = Budget::restore(
            handoff
                .failures_ms_ago
                .iter()
                .map(|&ms| back(ms, now))
                .collect(),
            handoff.consecutive,
            match handoff.circuit.state.as_str() {
                "open" => Circuit::Open {
                    until: ahead(handoff.circuit.until_in_ms.unwrap_or(0), now),
                    cooldown: Duration::from_millis(handoff.circuit.cooldown_ms),
                },
                "half-open" => Circuit::HalfOpen {
                    cooldown: Duration::from_millis(handoff.circuit.cooldown_ms),
                },
                _ => Circuit::Closed,
            },
        );
        self.deaths = handoff
            .deaths
            .iter()
            .filter_map(|death| {
                Some(Death {
                    at: back(death.ms_ago, now),
                    status: status_of(&death.status)?,
                    uptime: Duration::from_millis(death.uptime_ms),
                    verdict: Verdict::from_name(&death.verdict)?,
                    reason: death.reason.clone(),
                    last_lines: Vec::new(),
                })
            })
            .collect();
        self.incident = handoff
            .incident
            .as_ref()
            .map(|incident| self.resume_incident(incident, now));
        self.ladder.next = handoff.ladder_next.min(self.unit.recovery.steps.len());
        self.ladder.trying = handoff.ladder_trying.as_deref().and_then(rung_of);
        self.ladder.mode = match handoff.mode.as_str() {
            "safe-mode" => Mode::SafeMode,
            "rolled-back" => Mode::RolledBack,
            _ => Mode::Normal,
        };
        if handoff.rolled_back {
            if let Some(good) = self.known_good.clone() {
                let loaded = std::mem::replace(&mut self.unit, *good);
                self.loaded = Some(Box::new(loaded));
            } else {
                self.ladder.mode = Mode::Normal;
            }
        }
        self.resume_state(handoff, now)
    }

    fn resume_incident(&self, incident: &IncidentHandoff, now: Instant) -> Incident {
        let detected_by = Detection::from_name(&incident.detected_by).unwrap_or(Detection::Exit);
        let mut resumed = Incident::open(
            incident.id,
            &self.unit.name,
            detected_by,
            &incident.reason,
            Duration::from_millis(incident.time_to_detect_ms),
            back(incident.opened_ms_ago, now),
        );
        resumed.steps = incident
            .steps
            .iter()
            .filter_map(|step| {
                let outcome = StepOutcome::from_name(&step.outcome)?;
                Some(StepTaken {
                    rung: rung_of(&step.rung)?,
                    started: back(step.started_ms_ago, now),
                    outcome,
                    detail: step.detail.clone(),
                })
            })
            .collect();
        resumed
    }

    fn resume_state(&mut self, handoff: &ServiceHandoff, now: Instant) -> Vec<Action> {
        let state = State::from_name(&handoff.state).unwrap_or(State::Down);
        self.state = state;
        self.next_attempt = handoff.next_attempt_in_ms.map(|ms| ahead(ms, now));
        let mut actions = Vec::new();
        match (state, handoff.pid) {
            (State::Running | State::Recovering | State::Starting | State::Stopping, Some(pid)) => {
                self.pid = Some(pid);
                self.last_pgid = pid;
                self.started_at = handoff.started_ms_ago.map(|ms| back(ms, now));
                self.was_ready = handoff.was_ready;
                self.killed = handoff.killed;
                self.failure_reason = handoff.failure_reason.clone();
                self.watch.status_text = handoff.status_text.clone();
                actions.extend(self.resume_watch(handoff, now));
                if state == State::Stopping {
                    self.stop_intent = Some(match handoff.stop_intent.as_deref() {
                        Some("restart") => {
                            AfterStop::Restart("restarting (resumed after a re-exec)")
                        }
                        Some("judge") => AfterStop::Judge,
                        Some("climb") => AfterStop::Climb,
                        _ => AfterStop::Down,
                    });
                    let deadline = ahead(handoff.stop_kill_in_ms.unwrap_or(0), now);
                    self.stop_kill_at = Some(deadline);
                    actions.push(Action::ArmTimer {
                        timer: self.timer(TimerKind::StopKill),
                        deadline,
                    });
                }
            }
            (State::Backoff | State::Cooldown, _) => {
                let deadline = self.next_attempt.unwrap_or(now);
                self.next_attempt = Some(deadline);
                actions.push(Action::ArmTimer {
                    timer: self.timer(TimerKind::Restart),
                    deadline,
                });
            }
            (State::Failed | State::Exited | State::Down, _) => {}
            _ => {
                log::warn!(
                    "{}: was {} with nothing the handoff could carry; starting it again",
                    self.unit.name,
                    handoff.state
                );
                self.state = State::Down;
                self.ladder.trying = None;
            }
        }
        actions
    }

    /// The watching of a live program: the ready deadline while starting; health probes,
    /// the watchdog (a fresh window) and the rest of `verify` once ready.
    fn resume_watch(&mut self, handoff: &ServiceHandoff, now: Instant) -> Vec<Action> {
        let mut actions = Vec::new();
        if self.state == State::Starting {
            let deadline = ahead(handoff.ready_in_ms.unwrap_or(0), now);
            self.watch.ready_deadline = Some(deadline);
            actions.push(Action::ArmTimer {
                timer: self.timer(TimerKind::ReadyTimeout),
                deadline,
            });
            if matches!(self.unit.ready.check, crate::unit::ReadyCheck::Probe(_)) {
                actions.push(Action::ArmTimer {
                    timer: self.timer(TimerKind::Probe),
                    deadline: now,
                });
            }
            return actions;
        }
        if !self.state.is_up() {
            return actions;
        }
        if let Some(health) = &self.unit.health {
            let thresholds = Thresholds::of(health);
            let was = handoff
                .health
                .as_deref()
                .and_then(Health::from_name)
                .unwrap_or(Health::Unknown);
            let ready_at = self.started_at.unwrap_or(now);
            self.watch.health = Some(HealthTracker::resumed(thresholds, was, ready_at));
            actions.push(Action::ArmTimer {
                timer: self.timer(TimerKind::Probe),
                deadline: now,
            });
        }
        if let Some(watchdog) = &self.unit.watchdog {
            self.watch.last_ping = Some(now);
            actions.push(Action::ArmTimer {
                timer: self.timer(TimerKind::Watchdog),
                deadline: now + watchdog.timeout,
            });
        }
        if let Some(ms) = handoff.verify_since_ms_ago {
            let since = back(ms, now);
            self.watch.verify_since = Some(since);
            actions.push(Action::ArmTimer {
                timer: self.timer(TimerKind::Verify),
                deadline: (since + self.unit.recovery.verify).max(now),
            });
        }
        if self.budget.is_trial() {
            let deadline = self.started_at.unwrap_or(now) + self.unit.restart.reset_after;
            actions.push(Action::ArmTimer {
                timer: self.timer(TimerKind::TrialReset),
                deadline: deadline.max(now),
            });
        }
        actions
    }
}

#[cfg(test)]
mod tests;
