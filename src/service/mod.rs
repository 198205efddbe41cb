//! What a service does: one unit's lifecycle — start, death classification, the sweep of
//! its process group's leftovers, restart with backoff, budget, circuit breaker, stop with a
//! kill deadline, and the s6 `finish` step; incidents, `verify` and the recovery ladder's
//! steps (`recovering.rs`, `steps.rs`). Pure: it answers each input with `Action`s for the shell and never touches the OS.

pub mod budget;
pub mod death;
mod handoff;
pub mod ids;
mod notified;
pub mod record;
mod recovering;
mod restart;
pub mod spec;
pub mod state;
mod steps;
mod sweep;
#[cfg(test)]
mod tests;
mod transition;
mod watch;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::core::{Action, Pid, SpawnError, Target, TimerId};
use crate::exit_status::ExitStatus;
use crate::unit::{Signal, StopMode, Unit};

pub use budget::{Budget, Circuit};
pub use death::{Death, Verdict};
pub use handoff::ServiceHandoff;
pub use ids::{
    FIRST_SERVICE_TIMER, SpawnKind, TimerKind, decode_probe_id, decode_spawn_token, probe_id,
    spawn_token,
};
pub use state::State;
pub use transition::Transition;

use sweep::Sweep;
pub use sweep::{check_token, decode_check_token};

/// How many deaths a service remembers for `status`.
pub(super) const TALLY_LENGTH: usize = 32;

/// What a stop request wants afterwards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterStop {
    Down,
    /// Start again, with this reason on the start transition.
    Restart(&'static str),
    /// Judge the death as any other (a start timeout, unhealthy, hung: a failure that
    /// goes through the budget).
    Judge,
    /// Climb to the next recovery step (`phoenixctl heal`).
    Climb,
    /// Stay down: the supervision group's budget ran out.
    Park(Parked),
}

/// How a member of an exhausted supervision group is left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parked {
    Failed,
    /// The circuit opens for this long, then one trial start.
    Cooldown(Duration),
}

impl AfterStop {
    pub fn is_restart(self) -> bool {
        matches!(self, AfterStop::Restart(_))
    }
}

pub struct Service {
    pub index: usize,
    pub unit: Unit,
    pub state: State,
    pub pid: Option<Pid>,
    pub finish_pid: Option<Pid>,
    /// The process group of the last program run (its pid: services lead their session).
    pub last_pgid: Pid,
    pub started_at: Option<Instant>,
    pub budget: Budget,
    /// Automatic restarts since Phoenix first saw this service.
    pub restarts: u32,
    pub last_exit: Option<ExitStatus>,
    pub next_attempt: Option<Instant>,
    pub deaths: VecDeque<Death>,
    /// The last lines of captured output, for the next death (`Event::LastLines`).
    pub last_lines: Vec<String>,
    /// Run in the foreground process group with the terminal (the command-line main).
    pub foreground: bool,
    /// No automatic restarts and no `finish` (shutdown is under way).
    pub hold: bool,
    /// Started at boot and kept up: enabled, or pulled in by `requires`/`wants`.
    pub wanted: bool,
    /// Gone from the services directory; kept only until it is down.
    pub removed: bool,
    /// The dependency it last waited on, so "waiting" is logged once.
    pub blocked_on: Option<String>,
    /// Set when the budget ran out with `on-exhausted = "escalate"`.
    pub escalated: bool,
    /// The budget or circuit changed and should be saved.
    pub dirty: bool,
    /// For an s6 `log/` logger: the service whose output it reads.
    pub logger_for: Option<String>,
    /// An administrator's start or stop overrides `enabled` until the next reset.
    pub wanted_by_request: Option<bool>,
    /// State changes not yet collected by the supervisor: (from, to, reason).
    pub(super) changes: Vec<(State, State, String)>,
    pub(super) stop_intent: Option<AfterStop>,
    /// A death waiting for the sweep of its process group, then for `finish`, before it is
    /// judged.
    pub(super) pending: Option<Death>,
    /// Leftovers of the program's process group being ended (group mode).
    pub(super) sweep: Option<Sweep>,
    /// SIGKILL went to the program at the stop timeout.
    pub(super) killed: bool,
    /// When the stop timeout sends SIGKILL.
    pub(super) stop_kill_at: Option<Instant>,
    /// Readiness, health and watchdog of the current run.
    pub watch: watch::Watch,
    /// Phoenix stopped it for this reason (not ready, unhealthy, hung): its death is a
    /// failure with it.
    pub(super) failure_reason: Option<String>,
    /// The current (or last) run became ready: only a run that did can have "run well".
    pub(super) was_ready: bool,
    /// Health changes not yet collected by the supervisor.
    pub(super) health_changes: Vec<crate::health::HealthChange>,
    /// Where the service is on its recovery ladder.
    pub ladder: crate::recovery::Ladder,
    /// The open incident, from the first failure since it was last verified good.
    pub incident: Option<crate::recovery::Incident>,
    /// The definition it last ran verified good with, for `rollback`.
    pub known_good: Option<Box<Unit>>,
    /// While it runs the last-known-good definition: the one loaded from disk.
    pub loaded: Option<Box<Unit>>,
    /// The `restore` hook, while it runs.
    pub hook_pid: Option<Pid>,
    pub(super) hook_timed_out: bool,
    /// How the failure being stopped for was detected, and how long it took.
    pub(super) failure_detection: Option<(crate::recovery::Detection, Duration)>,
    /// The spawn error last logged, until a spawn succeeds: a fork failing on every retry
    /// (EAGAIN under a pids limit) is an error once, then debug lines.
    pub(super) spawn_error: Option<String>,
    pub incident_ids: crate::recovery::IncidentIds,
    /// Ladder steps and incident changes not yet collected: (from, to, reason).
    pub(super) step_changes: Vec<(String, String, String)>,
    /// Set when a failure was judged, for the supervision group; taken by the supervisor.
    pub failed_now: bool,
    /// Failures judged since the last event, how each was detected and the status it
    /// ended with; taken by the supervisor's counters.
    pub judged_failures: Vec<(crate::recovery::Detection, Option<ExitStatus>)>,
}

impl Service {
    pub fn new(index: usize, unit: Unit) -> Service {
        Service {
            index,
            unit,
            state: State::Down,
            pid: None,
            finish_pid: None,
            last_pgid: 0,
            started_at: None,
            budget: Budget::default(),
            restarts: 0,
            last_exit: None,
            next_attempt: None,
            deaths: VecDeque::new(),
            last_lines: Vec::new(),
            foreground: false,
            hold: false,
            wanted: false,
            removed: false,
            blocked_on: None,
            escalated: false,
            dirty: false,
            logger_for: None,
            wanted_by_request: None,
            changes: Vec::new(),
            stop_intent: None,
            pending: None,
            sweep: None,
            killed: false,
            stop_kill_at: None,
            watch: watch::Watch::default(),
            failure_reason: None,
            was_ready: false,
            health_changes: Vec::new(),
            ladder: crate::recovery::Ladder::default(),
            incident: None,
            known_good: None,
            loaded: None,
            hook_pid: None,
            hook_timed_out: false,
            failure_detection: None,
            spawn_error: None,
            incident_ids: crate::recovery::IncidentIds::default(),
            step_changes: Vec::new(),
            failed_now: false,
            judged_failures: Vec::new(),
        }
    }

    pub fn name(&self) -> &str {
        &self.unit.name
    }

    /// A process of this service (program, the rest of its process group, or `finish`)
    /// is alive.
    pub fn is_live(&self) -> bool {
        self.pid.is_some()
            || self.finish_pid.is_some()
            || self.hook_pid.is_some()
            || self.is_sweeping()
    }

    /// Dependents may start: a running daemon, or a oneshot that succeeded.
    pub fn is_ready(&self) -> bool {
        match self.unit.kind {
            crate::unit::Kind::Daemon => {
                let up = self.state == State::Running
                    || (self.state == State::Recovering && self.was_ready && self.pid.is_some());
                up && !self.is_sweeping()
            }
            crate::unit::Kind::Oneshot => {
                self.state == State::Exited && self.last_exit.is_some_and(ExitStatus::is_success)
            }
        }
    }

    /// Nothing more happens to it on its own for now: ready, failed, finished or cooling
    /// down. The command-line main waits for this, and so does `READY=1` upward.
    pub fn is_settled(&self) -> bool {
        self.is_ready() || matches!(self.state, State::Failed | State::Exited | State::Cooldown)
    }

    pub fn timer(&self, kind: TimerKind) -> TimerId {
        kind.id(self.index)
    }

    pub(super) fn set_state(&mut self, to: State, detail: &str) {
        if to != self.state {
            log::info!("{}: {} → {} ({detail})", self.unit.name, self.state, to);
            self.changes.push((self.state, to, detail.to_string()));
        }
        self.state = to;
    }

    /// Spawns the program now.
    pub fn start(&mut self, detail: &str) -> Vec<Action> {
        self.next_attempt = None;
        self.set_state(State::Starting, detail);
        vec![
            Action::CancelTimer {
                timer: self.timer(TimerKind::Restart),
            },
            Action::Spawn {
                token: spawn_token(self.index, SpawnKind::Program),
                spec: spec::process_spec(self),
            },
        ]
    }

    /// An administrator's start: bypasses delay and budget, and clears a failed state.
    pub fn start_explicitly(&mut self) -> Vec<Action> {
        if self.is_live() {
            // Its program died on its own and leftovers or `finish` remain: start once
            // they are gone, without the backoff the death would get.
            if self.pid.is_none() && self.stop_intent.is_none() {
                self.stop_intent = Some(AfterStop::Restart("started by request"));
            }
            return Vec::new();
        }
        if matches!(self.state, State::Failed | State::Cooldown) {
            self.budget.reset();
            self.dirty = true;
        }
        self.escalated = false;
        self.start("started by request")
    }

    pub fn on_spawned(&mut self, pid: Pid, now: Instant) -> Vec<Action> {
        if self.spawn_error.take().is_some() {
            log::info!("{}: spawned again (pid {pid})", self.unit.name);
        }
        self.pid = Some(pid);
        self.last_pgid = pid;
        self.killed = false;
        self.started_at = Some(now);
        self.was_ready = false;
        let mut actions = self.begin_restart_step(&format!("pid {pid}"), now);
        actions.extend(self.await_ready(pid, now));
        if self.budget.is_trial() {
            let deadline = now + self.unit.restart.reset_after;
            actions.push(Action::ArmTimer {
                timer: self.timer(TimerKind::TrialReset),
                deadline,
            });
        }
        actions
    }

    pub fn on_spawn_failed(&mut self, error: &SpawnError, now: Instant) -> Vec<Action> {
        if self.spawn_error.as_deref() == Some(error.message.as_str()) {
            log::debug!("unable to spawn '{}': {}", self.unit.name, error.message);
        } else {
            log::error!("unable to spawn '{}': {}", self.unit.name, error.message);
            self.spawn_error = Some(error.message.clone());
        }
        self.started_at = None;
        self.failure_detection = Some((crate::recovery::Detection::Spawn, Duration::ZERO));
        let status = ExitStatus::Code(error.exit_code());
        let death = Death {
            at: now,
            status,
            uptime: Duration::ZERO,
            verdict: Verdict::Failure,
            reason: error.message.clone(),
            last_lines: Vec::new(),
        };
        self.judge(death, now)
    }

    pub fn on_timer(&mut self, kind: TimerKind, now: Instant) -> Vec<Action> {
        match (kind, self.state) {
            (TimerKind::StopKill, _) if self.is_sweeping() => self.on_sweep_timer(now),
            (TimerKind::Restart, State::Backoff) if !self.hold => self.start("backoff over"),
            (TimerKind::Restart, State::Cooldown) if !self.hold => {
                self.budget.half_open();
                self.restarts += 1;
                self.dirty = true;
                self.start("cooldown over, trial start")
            }
            (TimerKind::StopKill, State::Stopping) => {
                let Some(pid) = self.pid else {
                    return Vec::new();
                };
                log::warn!(
                    "{}: still running {} after the stop signal, sending SIGKILL",
                    self.unit.name,
                    crate::unit::format_duration(self.unit.stop.timeout)
                );
                self.killed = true;
                vec![Action::Signal {
                    target: self.stop_target(pid),
                    signal: Signal::KILL,
                }]
            }
            (TimerKind::TrialReset, state) if state.is_up() && self.budget.is_trial() => {
                log::info!(
                    "{}: ran {} on trial, circuit closed",
                    self.unit.name,
                    crate::unit::format_duration(self.unit.restart.reset_after)
                );
                self.budget.close_circuit();
                self.dirty = true;
                Vec::new()
            }
            (TimerKind::FinishKill, _) => match self.finish_pid {
                Some(pid) => {
                    log::warn!("{}: finish ran too long, sending SIGKILL", self.unit.name);
                    vec![Action::Signal {
                        target: Target::Group(pid),
                        signal: Signal::KILL,
                    }]
                }
                None => Vec::new(),
            },
            (
                TimerKind::ReadyTimeout
                | TimerKind::Probe
                | TimerKind::ProbeKill
                | TimerKind::Watchdog,
                _,
            ) => self.on_watch_timer(kind, now),
            (TimerKind::Verify, _) => self.on_verified(now),
            (TimerKind::HookKill, _) => self.kill_hook(),
            _ => Vec::new(),
        }
    }

    fn stop_target(&self, pid: Pid) -> Target {
        match self.unit.stop.mode {
            StopMode::Group => Target::Group(pid),
            StopMode::Process => Target::Process(pid),
        }
    }

    /// Stops the service: its stop signal (+SIGCONT), SIGKILL at the stop timeout.
    pub fn stop(&mut self, intent: AfterStop, detail: &str, now: Instant) -> Vec<Action> {
        self.stop_with(self.unit.stop.signal, intent, detail, now)
    }

    /// Stops the service with `signal` (a hung one gets the watchdog's), SIGKILL at the
    /// stop timeout.
    pub(super) fn stop_with(
        &mut self,
        signal: Signal,
        intent: AfterStop,
        detail: &str,
        now: Instant,
    ) -> Vec<Action> {
        let mut actions = vec![Action::CancelTimer {
            timer: self.timer(TimerKind::Restart),
        }];
        self.next_attempt = None;
        if let Some(hook) = self.hook_pid {
            // A stop ends the restore hook too; its exit is then ignored.
            self.ladder.trying = None;
            actions.push(Action::Signal {
                target: Target::Group(hook),
                signal: Signal::KILL,
            });
        }
        match (self.pid, self.state) {
            // The death waits for its leftovers; the intent applies once they are gone.
            _ if self.is_sweeping() => self.stop_intent = Some(intent),
            (_, State::Stopping) => self.stop_intent = Some(intent),
            (Some(pid), _) => {
                self.stop_intent = Some(intent);
                let target = self.stop_target(pid);
                self.set_state(State::Stopping, detail);
                actions.push(Action::Signal { target, signal });
                actions.push(Action::Signal {
                    target,
                    signal: Signal::CONT,
                });
                let deadline = now + self.unit.stop.timeout;
                self.stop_kill_at = Some(deadline);
                actions.push(Action::ArmTimer {
                    timer: self.timer(TimerKind::StopKill),
                    deadline,
                });
            }
            (None, _) if intent.is_restart() && !self.hold => actions.extend(self.start(detail)),
            (None, State::Starting) => self.stop_intent = Some(intent),
            (None, _) => self.set_state(State::Down, detail),
        }
        actions
    }

    /// A changed definition: a fresh budget and a closed circuit. A service waiting out a
    /// delay or a cooldown, or failed, goes down, to be started again if it is wanted; the
    /// restart count and the death tally stay, as history.
    pub fn renew_budget(&mut self) -> Vec<Action> {
        self.ladder.next = 0;
        self.ladder.trying = None;
        self.budget.reset();
        self.escalated = false;
        self.dirty = true;
        if matches!(self.state, State::Failed | State::Cooldown | State::Backoff) {
            self.next_attempt = None;
            self.set_state(State::Down, "unit changed");
            return vec![Action::CancelTimer {
                timer: self.timer(TimerKind::Restart),
            }];
        }
        Vec::new()
    }

    /// `reset`: forget the restart count, the death tally and the failure window, and close
    /// the circuit. A failed or cooling-down service goes down, and is started again if it
    /// is wanted.
    pub fn reset(&mut self, now: Instant) -> Vec<Action> {
        self.budget.reset();
        self.restarts = 0;
        self.deaths.clear();
        self.escalated = false;
        self.dirty = true;
        let mut actions = self.leave_recovery_mode("reset", now);
        if matches!(self.state, State::Failed | State::Cooldown | State::Backoff) {
            self.next_attempt = None;
            self.set_state(State::Down, "reset");
            actions.push(Action::CancelTimer {
                timer: self.timer(TimerKind::Restart),
            });
        }
        actions
    }
}
