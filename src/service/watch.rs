//! What Phoenix watches while a service runs (DESIGN.md §4.1–§4.3): readiness (a notify
//! `READY=1`, a line on its readiness descriptor, or a probe that succeeds, within the ready
//! timeout), health (a probe every interval, judged by `health::HealthTracker`), and hangs
//! (`WATCHDOG=1` pings or a heartbeat file's mtime within the watchdog timeout). A start
//! timeout, an unhealthy verdict with `on-unhealthy = "restart"` and a hang all end the same
//! way: the service is stopped and its death is a failure with that reason. Part of
//! `Service`; pure — the shell runs the probes and brings back their outcomes. What the
//! service itself sends (notify datagrams, readiness lines) is judged in `notified.rs`.

use std::time::{Duration, Instant};

use crate::core::{Action, Pid, SpawnError, Target};
use crate::exit_status::ExitStatus;
use crate::health::{Health, HealthChange, HealthTracker, ProbeOutcome, Thresholds};
use crate::recovery::Detection;
use crate::unit::{OnUnhealthy, Probe, ReadyCheck, Signal, format_duration};

use super::{AfterStop, Service, SpawnKind, State, TimerKind, probe_id, spawn_token, spec};

/// The watching of one run of the program; a new start begins afresh.
#[derive(Clone, Debug, Default)]
pub struct Watch {
    /// `[health]`, once the service is ready.
    pub health: Option<HealthTracker>,
    /// The last `STATUS=` the service sent.
    pub status_text: Option<String>,
    /// The last `ERRNO=` the service sent.
    pub errno: Option<i32>,
    /// An exec probe's process, while it runs.
    pub probe_pid: Option<Pid>,
    /// A probe (exec, tcp or http) is in flight since then.
    pub probe_started: Option<Instant>,
    /// The exec probe in flight was killed at its timeout.
    pub probe_timed_out: bool,
    /// The exec probe still running belongs to an earlier run: its outcome is ignored.
    pub probe_stale: bool,
    /// The last `WATCHDOG=1` (or the moment the watchdog started).
    pub last_ping: Option<Instant>,
    /// When the start times out (`EXTEND_TIMEOUT_USEC` only ever moves it later).
    pub ready_deadline: Option<Instant>,
    /// Ready (and healthy, with `[health]`) since then: verified good after `verify`.
    pub verify_since: Option<Instant>,
    /// The first of the current run of failed health probes.
    pub first_failed_probe: Option<Instant>,
}

impl Service {
    /// The program runs: ready at once without a check, or `starting` until its check
    /// says so within the ready timeout.
    pub(super) fn await_ready(&mut self, pid: Pid, now: Instant) -> Vec<Action> {
        let ready = self.unit.ready.clone();
        let how = match &ready.check {
            ReadyCheck::None => return self.become_ready(now, &format!("pid {pid}")),
            ReadyCheck::Notify => "READY=1".to_string(),
            ReadyCheck::Fd(fd) => format!("a line on fd {fd}"),
            ReadyCheck::Probe(probe) => probe.describe(),
        };
        log::info!(
            "{}: pid {pid} started, waiting up to {} for {how}",
            self.unit.name,
            format_duration(ready.timeout)
        );
        self.watch.ready_deadline = Some(now + ready.timeout);
        let mut actions = vec![Action::ArmTimer {
            timer: self.timer(TimerKind::ReadyTimeout),
            deadline: now + ready.timeout,
        }];
        if matches!(ready.check, ReadyCheck::Probe(_)) {
            actions.push(Action::ArmTimer {
                timer: self.timer(TimerKind::Probe),
                deadline: now,
            });
        }
        actions
    }

    /// Ready: `running` from now on; health probes and the watchdog begin.
    pub(super) fn become_ready(&mut self, now: Instant, detail: &str) -> Vec<Action> {
        // A ladder step's run stays `recovering` until it is verified.
        let on_step = matches!(self.ladder.trying, Some(crate::recovery::Rung::Step(_)));
        let state = if on_step {
            State::Recovering
        } else {
            State::Running
        };
        self.set_state(state, detail);
        self.was_ready = true;
        let mut actions = vec![Action::CancelTimer {
            timer: self.timer(TimerKind::ReadyTimeout),
        }];
        if self.unit.health.is_none() {
            actions.extend(self.arm_verify(now));
        }
        if let Some(health) = &self.unit.health {
            let thresholds = Thresholds::of(health);
            self.watch.health = Some(HealthTracker::new(thresholds, now));
            actions.push(Action::ArmTimer {
                timer: self.timer(TimerKind::Probe),
                deadline: now + health.interval,
            });
        }
        if let Some(watchdog) = &self.unit.watchdog {
            self.watch.last_ping = Some(now);
            actions.push(Action::ArmTimer {
                timer: self.timer(TimerKind::Watchdog),
                deadline: now + watchdog.timeout,
            });
        }
        actions
    }

    /// What a new start must forget of the last run, and the timers it must cancel.
    pub(super) fn end_watch(&mut self) -> Vec<Action> {
        let in_flight = self.watch.probe_started.is_some() && self.watch.probe_pid.is_none();
        let probe_pid = self.watch.probe_pid;
        // An exec probe still running is killed; until it is reaped no new probe starts,
        // and what it says is ignored.
        self.watch = Watch {
            probe_pid,
            probe_started: probe_pid.and(self.watch.probe_started),
            probe_stale: probe_pid.is_some(),
            ..Watch::default()
        };
        let mut actions: Vec<Action> = [
            TimerKind::ReadyTimeout,
            TimerKind::Probe,
            TimerKind::Watchdog,
            TimerKind::Verify,
        ]
        .into_iter()
        .map(|kind| Action::CancelTimer {
            timer: self.timer(kind),
        })
        .collect();
        if in_flight {
            actions.push(Action::CancelProbe {
                probe: probe_id(self.index),
            });
        }
        if let Some(pid) = probe_pid {
            actions.push(Action::Signal {
                target: Target::Group(pid),
                signal: Signal::KILL,
            });
        }
        actions
    }

    /// Stops the running program for `reason`; its death will be a failure with it.
    pub(super) fn fail_running(
        &mut self,
        reason: String,
        signal: Signal,
        detection: (Detection, Duration),
        now: Instant,
    ) -> Vec<Action> {
        // Only a start or a run can fail so: a stop already under way keeps its intent (an
        // administrator's stop, a removed unit) and its reason.
        if !(self.state == State::Starting || self.state.is_up()) || self.stop_intent.is_some() {
            return Vec::new();
        }
        log::warn!("{}: {reason}, stopping it", self.unit.name);
        self.failure_reason = Some(reason.clone());
        self.failure_detection = Some(detection);
        let mut actions = self.end_watch();
        actions.extend(self.stop_with(signal, AfterStop::Judge, &reason, now));
        actions
    }

    /// A watch timer fired (`ReadyTimeout`, `Probe`, `ProbeKill`, `Watchdog`).
    pub(super) fn on_watch_timer(&mut self, kind: TimerKind, now: Instant) -> Vec<Action> {
        let live = self.pid.is_some();
        match (kind, self.state) {
            (TimerKind::ReadyTimeout, State::Starting) if live => {
                // The deadline that passed, extended or not, counted from the start.
                let waited = match (self.started_at, self.watch.ready_deadline) {
                    (Some(start), Some(deadline)) => deadline.saturating_duration_since(start),
                    _ => self.unit.ready.timeout,
                };
                let reason = format!("not ready after {}", format_duration(waited));
                let detection = (Detection::StartTimeout, Duration::ZERO);
                self.fail_running(reason, self.unit.stop.signal, detection, now)
            }
            (TimerKind::Probe, state) if live && (state == State::Starting || state.is_up()) => {
                self.start_probe(now)
            }
            (TimerKind::ProbeKill, _) => match self.watch.probe_pid {
                Some(pid) => {
                    self.watch.probe_timed_out = true;
                    vec![Action::Signal {
                        target: Target::Group(pid),
                        signal: Signal::KILL,
                    }]
                }
                None => Vec::new(),
            },
            (TimerKind::Watchdog, state) if live && state.is_up() => self.check_watchdog(now),
            _ => Vec::new(),
        }
    }

    /// The probe of this moment: readiness while starting, health while running.
    fn current_probe(&self) -> Option<(Probe, Duration)> {
        match (self.state, &self.unit.ready.check, &self.unit.health) {
            (State::Starting, ReadyCheck::Probe(probe), _) => {
                // Each readiness probe gets the polling period or 2s, whichever is longer,
                // and never more than the ready timeout.
                let timeout = self
                    .unit
                    .ready
                    .interval
                    .max(Duration::from_secs(2))
                    .min(self.unit.ready.timeout);
                Some((probe.clone(), timeout))
            }
            (state, _, Some(health)) if state.is_up() => {
                Some((health.probe.clone(), health.timeout))
            }
            _ => None,
        }
    }

    fn start_probe(&mut self, now: Instant) -> Vec<Action> {
        // At most one probe in flight (the one running arms the next when it ends), and
        // none once shutdown began.
        if self.watch.probe_started.is_some() || self.hold {
            return Vec::new();
        }
        let Some((probe, timeout)) = self.current_probe() else {
            return Vec::new();
        };
        self.watch.probe_started = Some(now);
        self.watch.probe_timed_out = false;
        match probe {
            Probe::Target(target) => vec![Action::StartProbe {
                probe: probe_id(self.index),
                target,
                timeout,
            }],
            Probe::Exec(command) => vec![
                Action::Spawn {
                    token: spawn_token(self.index, SpawnKind::Probe),
                    spec: spec::probe_spec(self, &command),
                },
                Action::ArmTimer {
                    timer: self.timer(TimerKind::ProbeKill),
                    deadline: now + timeout,
                },
            ],
        }
    }

    pub fn on_probe_spawned(&mut self, pid: Pid) -> Vec<Action> {
        self.watch.probe_pid = Some(pid);
        Vec::new()
    }

    pub fn on_probe_spawn_failed(&mut self, error: &SpawnError, now: Instant) -> Vec<Action> {
        self.on_probe_finished(Err(error.message.clone()), now)
    }

    /// An exec probe ended: exit 0 is success.
    pub fn on_probe_exit(&mut self, status: ExitStatus, now: Instant) -> Vec<Action> {
        self.watch.probe_pid = None;
        let mut actions = vec![Action::CancelTimer {
            timer: self.timer(TimerKind::ProbeKill),
        }];
        if std::mem::take(&mut self.watch.probe_stale) {
            self.watch.probe_started = None;
            // The current run may be waiting for this one to end before its first probe.
            actions.extend(self.next_probe(now, Duration::ZERO));
            return actions;
        }
        let outcome = match status {
            ExitStatus::Code(0) => Ok(self.probe_latency(now)),
            _ if self.watch.probe_timed_out => {
                let timeout = self.current_probe().map_or(Duration::ZERO, |(_, t)| t);
                Err(format!("timed out after {}", format_duration(timeout)))
            }
            status => Err(status.to_string()),
        };
        actions.extend(self.on_probe_finished(outcome, now));
        actions
    }

    fn probe_latency(&self, now: Instant) -> Duration {
        self.watch
            .probe_started
            .map_or(Duration::ZERO, |at| now.saturating_duration_since(at))
    }

    /// A probe's outcome: readiness while starting, health while running.
    pub fn on_probe_finished(&mut self, outcome: ProbeOutcome, now: Instant) -> Vec<Action> {
        if self.watch.probe_started.take().is_none() || self.pid.is_none() {
            return Vec::new();
        }
        match self.state {
            State::Starting => match (outcome, self.current_probe()) {
                (Ok(_), Some((probe, _))) => {
                    self.become_ready(now, &format!("ready: {}", probe.describe()))
                }
                (Err(reason), _) => {
                    log::debug!("{}: not ready yet: {reason}", self.unit.name);
                    self.next_probe(now, self.unit.ready.interval)
                }
                (Ok(_), None) => Vec::new(),
            },
            state if state.is_up() => self.judge_health(outcome, now),
            _ => Vec::new(),
        }
    }

    fn next_probe(&self, now: Instant, interval: Duration) -> Vec<Action> {
        vec![Action::ArmTimer {
            timer: self.timer(TimerKind::Probe),
            deadline: now + interval,
        }]
    }

    fn judge_health(&mut self, outcome: ProbeOutcome, now: Instant) -> Vec<Action> {
        let Some(config) = self.unit.health.clone() else {
            return Vec::new();
        };
        if outcome.is_ok() {
            self.watch.first_failed_probe = None;
        } else {
            self.watch.first_failed_probe.get_or_insert(now);
        }
        let change = self
            .watch
            .health
            .as_mut()
            .and_then(|tracker| tracker.record(outcome, now));
        let Some(change) = change else {
            return self.next_probe(now, config.interval);
        };
        self.record_health(&change);
        if change.to == Health::Unhealthy && config.on_unhealthy == OnUnhealthy::Restart {
            let reason = format!("unhealthy ({})", change.reason);
            let since = self.watch.first_failed_probe.unwrap_or(now);
            let detection = (Detection::Unhealthy, now.saturating_duration_since(since));
            return self.fail_running(reason, self.unit.stop.signal, detection, now);
        }
        let mut actions = match (change.from, change.to) {
            (_, Health::Healthy) => self.arm_verify(now),
            (Health::Healthy, _) => self.suspend_verify(),
            _ => Vec::new(),
        };
        actions.extend(self.next_probe(now, config.interval));
        actions
    }

    fn record_health(&mut self, change: &HealthChange) {
        log::info!(
            "{}: {} → {} ({})",
            self.unit.name,
            change.from,
            change.to,
            change.reason
        );
        self.health_changes.push(change.clone());
    }

    /// The watchdog's time is up: a heartbeat file is looked at; missed pings are a hang.
    fn check_watchdog(&mut self, now: Instant) -> Vec<Action> {
        let Some(watchdog) = self.unit.watchdog.clone() else {
            return Vec::new();
        };
        if let Some(path) = watchdog.heartbeat_file {
            return vec![Action::CheckHeartbeat {
                probe: probe_id(self.index),
                path,
            }];
        }
        let silence = self
            .watch
            .last_ping
            .map_or(watchdog.timeout, |at| now.saturating_duration_since(at));
        let reason = format!("hung (no heartbeat for {})", format_duration(silence));
        self.fail_running(reason, watchdog.signal, (Detection::Hung, silence), now)
    }

    /// The heartbeat file's age: young enough re-arms the watchdog, else a hang.
    pub fn on_heartbeat(&mut self, age: Result<Duration, String>, now: Instant) -> Vec<Action> {
        let Some(watchdog) = self.unit.watchdog.clone() else {
            return Vec::new();
        };
        if !self.state.is_up() || self.pid.is_none() {
            return Vec::new();
        }
        match age {
            Ok(age) if age < watchdog.timeout => vec![Action::ArmTimer {
                timer: self.timer(TimerKind::Watchdog),
                deadline: now + (watchdog.timeout - age),
            }],
            Ok(age) => {
                let reason = format!("hung (no heartbeat for {})", format_duration(age));
                self.fail_running(reason, watchdog.signal, (Detection::Hung, age), now)
            }
            Err(error) => {
                let detection = (Detection::Hung, Duration::ZERO);
                self.fail_running(format!("hung ({error})"), watchdog.signal, detection, now)
            }
        }
    }
}

#[cfg(test)]
mod tests;
