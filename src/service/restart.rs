//! After a death: the sweep of its process group, the s6 `finish` step, then the verdict
//! of DESIGN.md §5 — restart at once, back off, open the circuit, fail, or escalate. Part
//! of `Service`; pure.

use std::time::{Duration, Instant};

use crate::core::{Action, Pid, SpawnError};
use crate::exit_status::ExitStatus;
use crate::recovery::Outcome;
use crate::unit::{Kind, RestartPolicy, StopMode, format_duration};

use super::death::{self, Death, Verdict};
use super::{AfterStop, Service, SpawnKind, State, TALLY_LENGTH, TimerKind, spawn_token, spec};

impl Service {
    /// The program exited (or was killed). In group mode the rest of its process group is
    /// ended first (see `sweep`); the death is judged once the group is empty.
    pub fn on_exit(&mut self, status: ExitStatus, now: Instant) -> Vec<Action> {
        self.pid = None;
        let uptime = self
            .started_at
            .map_or(Duration::ZERO, |at| now.saturating_duration_since(at));
        self.started_at = None;
        let mut death =
            death::classify(&self.unit, status, uptime, self.stop_intent.is_some(), now);
        if let Some(reason) = self.failure_reason.take() {
            death.verdict = Verdict::Failure;
            death.reason = reason;
        }
        death.last_lines = std::mem::take(&mut self.last_lines);
        let mut actions = vec![Action::CancelTimer {
            timer: self.timer(TimerKind::TrialReset),
        }];
        actions.extend(self.end_watch());
        if self.unit.stop.mode == StopMode::Group {
            // A stop's StopKill timer stays armed: it bounds the wait for the leftovers.
            actions.extend(self.begin_sweep(death));
            return actions;
        }
        actions.push(Action::CancelTimer {
            timer: self.timer(TimerKind::StopKill),
        });
        actions.extend(self.after_death(death, now));
        actions
    }

    /// Nothing of the program is left: its `finish` runs, or the death is judged.
    pub(super) fn after_death(&mut self, death: Death, now: Instant) -> Vec<Action> {
        let status = death.status;
        match spec::finish_spec(self, status).filter(|_| !self.hold) {
            Some(finish) => {
                self.pending = Some(death);
                self.set_state(State::Stopping, &format!("{status}, running finish"));
                vec![Action::Spawn {
                    token: spawn_token(self.index, SpawnKind::Finish),
                    spec: finish,
                }]
            }
            None => self.judge(death, now),
        }
    }

    pub fn on_finish_spawned(&mut self, pid: Pid, now: Instant) -> Vec<Action> {
        self.finish_pid = Some(pid);
        let deadline = now + self.s6_timeout_finish();
        vec![Action::ArmTimer {
            timer: self.timer(TimerKind::FinishKill),
            deadline,
        }]
    }

    pub fn on_finish_failed(&mut self, error: &SpawnError, now: Instant) -> Vec<Action> {
        log::warn!(
            "{}: unable to run finish: {}",
            self.unit.name,
            error.message
        );
        self.end_finish(None, now)
    }

    pub fn on_finish_exit(&mut self, status: ExitStatus, now: Instant) -> Vec<Action> {
        self.finish_pid = None;
        let mut actions = vec![Action::CancelTimer {
            timer: self.timer(TimerKind::FinishKill),
        }];
        actions.extend(self.end_finish(Some(status), now));
        actions
    }

    fn end_finish(&mut self, status: Option<ExitStatus>, now: Instant) -> Vec<Action> {
        let Some(mut death) = self.pending.take() else {
            return Vec::new();
        };
        if status == Some(ExitStatus::Code(death::PERMANENT_FAILURE)) {
            death.verdict = Verdict::Permanent;
            death.reason = "finish exited 125: permanent failure".to_string();
        }
        self.judge(death, now)
    }

    fn s6_timeout_finish(&self) -> Duration {
        self.unit
            .s6
            .as_ref()
            .map_or(Duration::from_secs(5), |s6| s6.timeout_finish)
    }

    /// Decides what follows a death: the heart of DESIGN.md §5.
    pub(super) fn judge(&mut self, death: Death, now: Instant) -> Vec<Action> {
        self.last_exit = Some(death.status);
        let detail = death.describe();
        let verdict = death.verdict;
        // A run that never became ready did not run well, however long it took.
        let ran_well = self.was_ready && death.uptime >= self.unit.restart.min_uptime;
        let long_run = death.uptime >= self.unit.restart.reset_after;
        self.remember(death);
        match self.stop_intent.take() {
            Some(AfterStop::Restart(reason)) if !self.hold => return self.start(reason),
            Some(AfterStop::Climb) if !self.hold => {
                let budget = self.budget_text();
                return self.climb_or_exhaust("heal requested", &budget, now);
            }
            Some(AfterStop::Park(parked)) if !self.hold => {
                return self.park(parked, "group exhausted", now);
            }
            Some(
                AfterStop::Restart(_) | AfterStop::Down | AfterStop::Climb | AfterStop::Park(_),
            ) => {
                self.set_state(State::Down, &detail);
                return Vec::new();
            }
            Some(AfterStop::Judge) | None => {}
        }
        if self.unit.main || self.hold {
            self.set_state(State::Exited, &detail);
            return Vec::new();
        }
        match verdict {
            Verdict::Success => self.after_success(&detail, now),
            Verdict::Permanent => {
                self.failed_now = true;
                let mut actions = self.note_failure(&detail, now);
                actions.extend(self.close_incident(Outcome::Failed, "permanent failure", now));
                self.set_state(State::Failed, &detail);
                actions
            }
            Verdict::Failure => {
                self.failed_now = true;
                let mut actions = self.note_failure(&detail, now);
                actions.extend(self.after_failure(&detail, ran_well, long_run, now));
                actions
            }
        }
    }

    fn remember(&mut self, death: Death) {
        if self.deaths.len() == TALLY_LENGTH {
            self.deaths.pop_front();
        }
        self.deaths.push_back(death);
    }

    fn after_success(&mut self, detail: &str, now: Instant) -> Vec<Action> {
        let daemon = self.unit.kind == Kind::Daemon;
        if daemon && self.unit.restart.policy == RestartPolicy::Always {
            self.restarts += 1;
            self.dirty = true;
            return self.start(&format!("{detail}, policy always"));
        }
        self.set_state(State::Exited, detail);
        if daemon {
            return Vec::new();
        }
        // A oneshot that succeeds is verified good: its incident is over.
        let mut actions = Vec::new();
        if let Some(mut incident) = self.incident.take() {
            incident.recover(now, now);
            log::info!("{}: incident {} recovered", self.unit.name, incident.id);
            self.note_step(
                "restart",
                "recovered",
                &format!("incident {}: recovered", incident.id),
            );
            actions.push(Action::RecordIncident(Box::new(incident)));
        }
        self.ladder.next = 0;
        self.ladder.trying = None;
        if self.ladder.mode == crate::recovery::Mode::Normal {
            actions.extend(self.keep_known_good());
        }
        actions
    }

    fn after_failure(
        &mut self,
        detail: &str,
        ran_well: bool,
        long_run: bool,
        now: Instant,
    ) -> Vec<Action> {
        let config = self.unit.restart.clone();
        self.dirty = true;
        if long_run {
            self.budget.forget_consecutive();
        }
        if self.budget.is_trial() {
            self.budget.record_failure(&config, now);
            // After a cooldown the ladder is tried again; once it is done, the circuit
            // opens for longer.
            return self.climb_or_exhaust(detail, "trial failed", now);
        }
        let exhausted = self.budget.record_failure(&config, now);
        if config.policy == RestartPolicy::Never {
            let actions = self.close_incident(Outcome::Failed, "policy never", now);
            self.set_state(State::Failed, &format!("{detail}, policy never"));
            return actions;
        }
        // A failure while a ladder step is being climbed climbs on, budget or not.
        if exhausted || self.ladder.next > 0 {
            let budget = self.budget_text();
            return self.climb_or_exhaust(detail, &budget, now);
        }
        let delay = self
            .budget
            .restart_delay(&config, ran_well, &self.unit.name);
        self.restarts += 1;
        if delay.is_zero() {
            return self.start(&format!("{detail}, restarting at once"));
        }
        let deadline = now + delay;
        self.next_attempt = Some(deadline);
        self.set_state(
            State::Backoff,
            &format!("{detail}, retry in {}", format_duration(delay)),
        );
        vec![Action::ArmTimer {
            timer: self.timer(TimerKind::Restart),
            deadline,
        }]
    }

    pub(super) fn enter_cooldown(&mut self, detail: &str, now: Instant) -> Vec<Action> {
        let until = self.budget.open_circuit(&self.unit.restart, now);
        self.next_attempt = Some(until);
        let length = format_duration(until.saturating_duration_since(now));
        self.set_state(
            State::Cooldown,
            &format!("{detail}, circuit open for {length}"),
        );
        vec![Action::ArmTimer {
            timer: self.timer(TimerKind::Restart),
            deadline: until,
        }]
    }
}
