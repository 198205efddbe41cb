//! Control requests: status snapshots and an administrator's commands. An explicit start or
//! restart bypasses backoff and budget (DESIGN.md §5) and makes the service wanted; a stop
//! makes it unwanted until started again. Every request gets exactly one reply.

use std::time::{Duration, Instant};

use crate::control::protocol::{DeathRecord, Reply, Request, ServiceStatus};
use crate::core::{Action, ClientId, Target};
use crate::power::PowerAction;
use crate::service::{AfterStop, Circuit, Service, State, Verdict};
use crate::unit::{Signal, StopMode};

use super::Supervisor;

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl Supervisor {
    pub(super) fn on_control(
        &mut self,
        client: ClientId,
        request: Request,
        now: Instant,
    ) -> Vec<Action> {
        log::debug!("control request from client {client}: {request:?}");
        let mut actions = Vec::new();
        let reply = match request {
            Request::Status { name } => self.status(name.as_deref(), now),
            Request::Reload => {
                actions.push(Action::LoadUnits);
                Reply::Ok {
                    message: "reloading units".to_string(),
                }
            }
            Request::Reexec => {
                actions.push(Action::Reexec {
                    reason: "requested with phoenixctl reexec".to_string(),
                });
                Reply::Ok {
                    message: "re-executing".to_string(),
                }
            }
            Request::Shutdown => {
                actions.extend(self.begin_shutdown(0, now));
                Reply::Ok {
                    message: "shutting down".to_string(),
                }
            }
            Request::Reboot | Request::Poweroff | Request::Halt => {
                let action = match request {
                    Request::Reboot => PowerAction::Reboot,
                    Request::Halt => PowerAction::Halt,
                    _ => PowerAction::Poweroff,
                };
                actions.extend(self.request_power(action, "phoenixctl", now));
                Reply::Ok {
                    message: format!("{action}: shutting down"),
                }
            }
            Request::Events { .. } | Request::Incidents { .. } | Request::Logs { .. } => {
                Reply::Error {
                    message: "events, incidents and logs are served by the socket server"
                        .to_string(),
                }
            }
            Request::Heal { name } => {
                self.command(&name, now, &mut actions, |service, now| service.heal(now))
            }
            Request::Start { name } => self.command(&name, now, &mut actions, |service, _| {
                service.wanted_by_request = Some(true);
                if service.is_live() && service.state != State::Stopping {
                    return (
                        Vec::new(),
                        format!("{} is already {}", service.unit.name, service.state),
                    );
                }
                (
                    service.start_explicitly(),
                    format!("starting {}", service.unit.name),
                )
            }),
            Request::Stop { name } => self.command(&name, now, &mut actions, |service, now| {
                service.wanted_by_request = Some(false);
                let mut actions = service.give_up_incident("stopped by request", now);
                actions.extend(service.stop(AfterStop::Down, "stopped by request", now));
                (actions, format!("stopping {}", service.unit.name))
            }),
            Request::Restart { name } => self.command(&name, now, &mut actions, |service, now| {
                service.wanted_by_request = Some(true);
                // A service ending leftovers or running `finish` restarts once it is done.
                let actions = if service.is_live() {
                    service.stop(
                        AfterStop::Restart("restarting by request"),
                        "restart requested",
                        now,
                    )
                } else {
                    service.start_explicitly()
                };
                (actions, format!("restarting {}", service.unit.name))
            }),
            Request::Reset { name } => self.command(&name, now, &mut actions, |service, now| {
                (
                    service.reset(now),
                    format!("{}: tally cleared, circuit closed", service.unit.name),
                )
            }),
            Request::Signal { name, signal } => self.signal(&name, &signal, &mut actions),
        };
        actions.push(Action::Reply { client, reply });
        actions
    }

    /// Runs `act` on the named service unless it is unknown or Phoenix is shutting down.
    fn command(
        &mut self,
        name: &str,
        now: Instant,
        actions: &mut Vec<Action>,
        act: impl FnOnce(&mut Service, Instant) -> (Vec<Action>, String),
    ) -> Reply {
        if self.shutting_down {
            return Reply::Error {
                message: "Phoenix is shutting down".to_string(),
            };
        }
        let Some(service) = self
            .by_name
            .get(name)
            .and_then(|&i| self.services.get_mut(i))
            .filter(|s| !s.removed)
        else {
            return self.unknown(name);
        };
        let (more, message) = act(service, now);
        actions.extend(more);
        self.refresh_graph();
        Reply::Ok { message }
    }

    fn unknown(&self, name: &str) -> Reply {
        match self.invalid.get(name) {
            Some(error) => Reply::Error {
                message: format!("{name} is an invalid unit: {error}"),
            },
            None => Reply::Error {
                message: format!("unknown service '{name}'"),
            },
        }
    }

    fn signal(&mut self, name: &str, signal: &str, actions: &mut Vec<Action>) -> Reply {
        let signal = match signal.parse::<Signal>() {
            Ok(signal) => signal,
            Err(error) => {
                return Reply::Error {
                    message: error.to_string(),
                };
            }
        };
        let Some(service) = self
            .by_name
            .get(name)
            .and_then(|&i| self.services.get(i))
            .filter(|s| !s.removed)
        else {
            return self.unknown(name);
        };
        let Some(pid) = service.pid else {
            return Reply::Error {
                message: format!("{name} is not running (it is {})", service.state),
            };
        };
        let target = match service.unit.stop.mode {
            StopMode::Group => Target::Group(pid),
            StopMode::Process => Target::Process(pid),
        };
        actions.push(Action::Signal { target, signal });
        Reply::Ok {
            message: format!("sent {signal} to {name} (pid {pid})"),
        }
    }

    pub(super) fn status(&self, name: Option<&str>, now: Instant) -> Reply {
        let visible = |s: &&Service| !s.removed;
        match name {
            None => {
                let mut services: Vec<ServiceStatus> = self
                    .services
                    .iter()
                    .filter(visible)
                    .map(|s| service_status(s, now, false))
                    .collect();
                services.extend(
                    self.invalid
                        .iter()
                        .map(|(name, error)| invalid_status(name, &error.to_string())),
                );
                services.sort_by(|a, b| a.name.cmp(&b.name));
                Reply::Status { services }
            }
            Some(name) => match self
                .by_name
                .get(name)
                .and_then(|&i| self.services.get(i))
                .filter(|s| !s.removed)
            {
                Some(service) => Reply::Status {
                    services: vec![service_status(service, now, true)],
                },
                None => match self.invalid.get(name) {
                    Some(error) => Reply::Status {
                        services: vec![invalid_status(name, &error.to_string())],
                    },
                    None => self.unknown(name),
                },
            },
        }
    }
}

fn service_status(service: &Service, now: Instant, with_deaths: bool) -> ServiceStatus {
    let circuit = match service.budget.circuit {
        Circuit::Closed => "closed",
        Circuit::Open { .. } => "open",
        Circuit::HalfOpen { .. } => "half-open",
    };
    let deaths = with_deaths.then(|| {
        service
            .deaths
            .iter()
            .map(|death| DeathRecord {
                ago_ms: millis(now.saturating_duration_since(death.at)),
                status: death.status.to_string(),
                uptime_ms: millis(death.uptime),
                verdict: match death.verdict {
                    Verdict::Success => "success",
                    Verdict::Failure => "failure",
                    Verdict::Permanent => "permanent",
                }
                .to_string(),
                reason: death.reason.clone(),
                last_lines: death.last_lines.clone(),
            })
            .collect()
    });
    ServiceStatus {
        name: service.unit.name.clone(),
        state: service.state.to_string(),
        pid: service.pid,
        uptime_ms: service
            .started_at
            .filter(|_| service.pid.is_some())
            .map(|at| millis(now.saturating_duration_since(at))),
        restarts: service.restarts,
        last_exit: service.last_exit.map(|status| status.to_string()),
        next_attempt_ms: service
            .next_attempt
            .map(|at| millis(at.saturating_duration_since(now))),
        circuit: circuit.to_string(),
        failures_in_window: u32::try_from(
            service
                .budget
                .failures_in_window(&service.unit.restart, now),
        )
        .unwrap_or(u32::MAX),
        description: service.unit.description.clone(),
        deaths,
        health: service
            .watch
            .health
            .as_ref()
            .map(|tracker| tracker.health().to_string())
            .or_else(|| service.unit.health.as_ref().map(|_| "unknown".to_string())),
        status_text: service.watch.status_text.clone(),
        recovery: service.ladder.describe(&service.unit.recovery),
        mode: service.ladder.mode_name(),
        incident: service.incident.as_ref().map(|incident| incident.id),
        wanted: Some(service.wanted),
        ready: Some(service.is_ready()),
    }
}

fn invalid_status(name: &str, error: &str) -> ServiceStatus {
    ServiceStatus {
        name: name.to_string(),
        state: State::Failed.to_string(),
        pid: None,
        uptime_ms: None,
        restarts: 0,
        last_exit: None,
        next_attempt_ms: None,
        circuit: "closed".to_string(),
        failures_in_window: 0,
        description: Some(format!("invalid unit: {error}")),
        deaths: None,
        health: None,
        status_text: None,
        recovery: None,
        mode: None,
        incident: None,
        wanted: None,
        ready: Some(false),
    }
}
