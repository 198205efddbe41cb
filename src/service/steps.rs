//! The steps of the recovery ladder (DESIGN.md §4.4): climbed one start at a time when
//! the restart budget runs out or a step failed, `rollback` and its files, the `restore`
//! hook with its timeout, `heal` and the way back to the unit's own definition. Part of
//! `Service`; pure — hooks and file restores are actions, their outcomes events.

use std::time::{Duration, Instant};

use crate::core::{Action, Pid, SpawnError, Target};
use crate::exit_status::ExitStatus;
use crate::recovery::{Detection, Mode, Outcome, Rung, StepOutcome};
use crate::unit::{OnExhausted, RecoveryStep, Signal, format_duration};

use super::{AfterStop, Service, SpawnKind, State, TimerKind, probe_id, spawn_token, spec};

impl Service {
    /// The budget is spent, or a ladder step failed: the next step, or — the ladder done —
    /// `on-exhausted`.
    pub(super) fn climb_or_exhaust(
        &mut self,
        detail: &str,
        budget: &str,
        now: Instant,
    ) -> Vec<Action> {
        if !self.hold {
            if let Some(actions) = self.climb(detail, now) {
                return actions;
            }
        }
        self.ladder.next = 0;
        self.ladder.trying = None;
        let steps = if self.unit.recovery.steps.is_empty() {
            String::new()
        } else {
            ", recovery steps exhausted".to_string()
        };
        match self.unit.restart.on_exhausted {
            OnExhausted::Cooldown => {
                let mut actions =
                    self.close_incident(Outcome::Cooldown, &format!("{budget}{steps}"), now);
                actions.extend(self.enter_cooldown(&format!("{detail}, {budget}{steps}"), now));
                actions
            }
            OnExhausted::Stop => {
                let actions = self.close_incident(
                    Outcome::Failed,
                    &format!("{budget}{steps}, giving up"),
                    now,
                );
                self.set_state(
                    State::Failed,
                    &format!("{detail}, {budget}{steps}, giving up"),
                );
                actions
            }
            OnExhausted::Escalate => {
                let actions = self.close_incident(
                    Outcome::Escalated,
                    &format!("{budget}{steps}, escalating"),
                    now,
                );
                self.escalated = true;
                self.set_state(
                    State::Failed,
                    &format!("{detail}, {budget}{steps}, escalating"),
                );
                actions
            }
        }
    }

    /// Takes the next configured step, skipping `rollback` while there is nothing to roll
    /// back to; `None` when no step is left.
    fn climb(&mut self, detail: &str, now: Instant) -> Option<Vec<Action>> {
        let mut actions = Vec::new();
        while let Some(step) = self.ladder.next_step(&self.unit.recovery) {
            self.ladder.next += 1;
            if step == RecoveryStep::Rollback && self.known_good.is_none() {
                let why = "nothing to roll back to: no verified run yet";
                log::warn!("{}: recovery step rollback skipped: {why}", self.unit.name);
                self.note_step("rollback", "skipped", why);
                if let Some(incident) = &mut self.incident {
                    incident.begin_step(Rung::Step(step), StepOutcome::Skipped, why, now);
                    actions.push(Action::RecordIncident(Box::new(incident.clone())));
                }
                continue;
            }
            actions.extend(self.take_step(step, detail, now));
            return Some(actions);
        }
        None
    }

    fn take_step(&mut self, step: RecoveryStep, detail: &str, now: Instant) -> Vec<Action> {
        let total = self.unit.recovery.steps.len();
        let position = self.ladder.next;
        log::warn!(
            "{}: recovery step {position} of {total}: {step} ({detail})",
            self.unit.name
        );
        let from = self.ladder.trying.map_or("restart", Rung::name).to_string();
        self.note_step(
            &from,
            step.name(),
            &format!("step {position} of {total}: {detail}"),
        );
        self.ladder.trying = Some(Rung::Step(step));
        let mut actions = Vec::new();
        if let Some(incident) = &mut self.incident {
            incident.begin_step(Rung::Step(step), StepOutcome::Trying, detail, now);
            actions.push(Action::RecordIncident(Box::new(incident.clone())));
        }
        self.restarts += 1;
        self.dirty = true;
        actions.extend(match step {
            RecoveryStep::SafeMode => {
                self.ladder.mode = Mode::SafeMode;
                self.start("recovery: safe mode")
            }
            RecoveryStep::Rollback if !self.unit.recovery.rollback_files.is_empty() => {
                let count = self.unit.recovery.rollback_files.len();
                self.set_state(
                    State::Recovering,
                    &format!("recovery: restoring {count} rollback file(s)"),
                );
                vec![Action::RestoreFiles {
                    probe: probe_id(self.index),
                    service: self.unit.name.clone(),
                    files: self.unit.recovery.rollback_files.clone(),
                }]
            }
            RecoveryStep::Rollback => self.start_rolled_back(),
            RecoveryStep::RestartDependencies => {
                self.ladder.restart_dependencies = true;
                self.set_state(State::Down, "recovery: restarting its dependencies");
                Vec::new()
            }
            RecoveryStep::Restore => self.run_restore_hook(now),
        });
        actions
    }

    /// Starts on the last-known-good definition when the unit changed since it was
    /// verified good; the unit file on disk is left as it is.
    fn start_rolled_back(&mut self) -> Vec<Action> {
        if let Some(good) = self.known_good.clone().filter(|good| **good != self.unit) {
            log::warn!(
                "{}: running the last-known-good definition; {} on disk is left as it is",
                self.unit.name,
                self.unit.source.display()
            );
            let loaded = std::mem::replace(&mut self.unit, *good);
            self.loaded.get_or_insert(Box::new(loaded));
            self.ladder.mode = Mode::RolledBack;
        }
        self.start("recovery: rollback")
    }

    /// The `rollback` step's files were put back (or could not be): the start follows.
    pub fn on_files_restored(
        &mut self,
        result: Result<usize, String>,
        _now: Instant,
    ) -> Vec<Action> {
        let rolling_back = self.ladder.trying == Some(Rung::Step(RecoveryStep::Rollback));
        if !rolling_back || self.state != State::Recovering || self.is_live() || self.hold {
            return Vec::new();
        }
        match result {
            Ok(count) => {
                log::info!("{}: rollback: restored {count} file(s)", self.unit.name);
                self.note_step("rollback", "rollback", &format!("restored {count} file(s)"));
            }
            Err(error) => {
                log::warn!("{}: rollback: {error}", self.unit.name);
                self.note_step("rollback", "rollback", &error);
            }
        }
        self.start_rolled_back()
    }

    fn run_restore_hook(&mut self, now: Instant) -> Vec<Action> {
        let Some(command) = self.unit.recovery.restore.clone() else {
            // The parser refuses `restore` without a hook; a step that cannot run fails.
            return self.fail_step("no restore hook", now);
        };
        self.set_state(State::Recovering, "recovery: running the restore hook");
        let incident = self.incident.as_ref().map_or(0, |incident| incident.id);
        vec![
            Action::Spawn {
                token: spawn_token(self.index, SpawnKind::Hook),
                spec: spec::hook_spec(self, &command, incident, RecoveryStep::Restore),
            },
            Action::ArmTimer {
                timer: self.timer(TimerKind::HookKill),
                deadline: now + self.unit.recovery.restore_timeout,
            },
        ]
    }

    pub fn on_hook_spawned(&mut self, pid: Pid) -> Vec<Action> {
        self.hook_pid = Some(pid);
        Vec::new()
    }

    pub fn on_hook_spawn_failed(&mut self, error: &SpawnError, now: Instant) -> Vec<Action> {
        log::warn!(
            "{}: unable to run the restore hook: {}",
            self.unit.name,
            error.message
        );
        let mut actions = vec![Action::CancelTimer {
            timer: self.timer(TimerKind::HookKill),
        }];
        actions.extend(self.fail_step(&format!("restore hook: {}", error.message), now));
        actions
    }

    pub fn on_hook_exit(&mut self, status: ExitStatus, now: Instant) -> Vec<Action> {
        let timed_out = std::mem::take(&mut self.hook_timed_out);
        let mut actions = vec![Action::CancelTimer {
            timer: self.timer(TimerKind::HookKill),
        }];
        // A hook is over when it exits: whatever it left in its process group (its own
        // session) goes with it, so a later restore never runs beside an earlier one's
        // leftovers (found by the supervisor's property test).
        if let Some(pid) = self.hook_pid.take() {
            actions.push(Action::Signal {
                target: Target::Group(pid),
                signal: Signal::KILL,
            });
        }
        let restoring = self.ladder.trying == Some(Rung::Step(RecoveryStep::Restore));
        if !restoring || self.state != State::Recovering || self.hold {
            return actions;
        }
        if status.is_success() {
            log::info!("{}: restore hook succeeded, starting", self.unit.name);
            self.note_step("restore", "restore", "restore hook succeeded");
            actions.extend(self.start("recovery: restored"));
            return actions;
        }
        let reason = if timed_out {
            format!(
                "restore hook killed after {}",
                format_duration(self.unit.recovery.restore_timeout)
            )
        } else {
            format!("restore hook {status}")
        };
        log::warn!("{}: {reason}", self.unit.name);
        actions.extend(self.fail_step(&reason, now));
        actions
    }

    /// The restore hook ran out of time.
    pub(super) fn kill_hook(&mut self) -> Vec<Action> {
        let Some(pid) = self.hook_pid else {
            return Vec::new();
        };
        self.hook_timed_out = true;
        vec![Action::Signal {
            target: Target::Group(pid),
            signal: Signal::KILL,
        }]
    }

    /// A step failed before its start: the next one, or `on-exhausted`.
    fn fail_step(&mut self, reason: &str, now: Instant) -> Vec<Action> {
        let mut actions = Vec::new();
        if let Some(incident) = &mut self.incident {
            incident.end_step(StepOutcome::Failed, reason);
            actions.push(Action::RecordIncident(Box::new(incident.clone())));
        }
        self.ladder.trying = None;
        let budget = self.budget_text();
        actions.extend(self.climb_or_exhaust(reason, &budget, now));
        actions
    }

    /// `phoenixctl heal`: the next step now. A running program is stopped first; its death
    /// climbs instead of being judged.
    pub fn heal(&mut self, now: Instant) -> (Vec<Action>, String) {
        let name = self.unit.name.clone();
        let steps = self.unit.recovery.steps.len();
        if steps == 0 {
            return (
                Vec::new(),
                format!("{name} has no [recovery] steps to climb"),
            );
        }
        if self.hold {
            return (Vec::new(), "shutting down".to_string());
        }
        if self.hook_pid.is_some() || self.stop_intent.is_some() || self.is_sweeping() {
            return (
                Vec::new(),
                format!("{name} is busy with a step; try again when it is done"),
            );
        }
        let Some(next) = self.ladder.next_step(&self.unit.recovery) else {
            return (
                Vec::new(),
                format!("{name} has tried every recovery step; it is {}", self.state),
            );
        };
        let mut actions = Vec::new();
        if self.incident.is_none() {
            self.failure_detection = Some((Detection::Request, Duration::ZERO));
            actions.extend(self.note_failure("heal requested", now));
        } else if let Some(incident) = &mut self.incident {
            incident.end_step(StepOutcome::Failed, "healed past by request");
            self.ladder.trying = None;
        }
        let position = self.ladder.next + 1;
        if self.pid.is_some() {
            actions.extend(self.stop(AfterStop::Climb, "heal requested", now));
            return (
                actions,
                format!("stopping {name}, then {next} (step {position} of {steps})"),
            );
        }
        actions.push(Action::CancelTimer {
            timer: self.timer(TimerKind::Restart),
        });
        self.next_attempt = None;
        let budget = self.budget_text();
        actions.extend(self.climb_or_exhaust("heal requested", &budget, now));
        (
            actions,
            format!("{name}: {next} (step {position} of {steps})"),
        )
    }

    /// Back to the unit's own definition and command (`reset`, or a reload that changed
    /// the unit): a running service restarts on it.
    pub(super) fn leave_recovery_mode(&mut self, detail: &str, now: Instant) -> Vec<Action> {
        self.ladder.next = 0;
        self.ladder.trying = None;
        if self.ladder.mode == Mode::Normal {
            return Vec::new();
        }
        self.ladder.mode = Mode::Normal;
        if let Some(loaded) = self.loaded.take() {
            self.unit = *loaded;
        }
        if self.pid.is_some() {
            return self.stop(
                AfterStop::Restart("back to its own definition"),
                detail,
                now,
            );
        }
        Vec::new()
    }
}
