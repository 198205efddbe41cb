//! Incidents and verification on one service (DESIGN.md §4.4): an incident opens at the
//! first failure since the service was last verified good; every start is followed by
//! `verify`; a verified run closes the incident, keeps the definition as last-known-good
//! and resets the ladder (whose steps are in `steps.rs`); a supervision group can park a
//! member. Part of `Service`; pure — file snapshots are actions.

use std::time::{Duration, Instant};

use crate::core::Action;
use crate::recovery::{Detection, Incident, Mode, Outcome, Rung, StepOutcome};
use crate::unit::format_duration;

use super::{AfterStop, Parked, Service, State, TimerKind};

impl Service {
    /// A failure was judged: the step being tried failed, and an incident opens if none
    /// is open.
    pub(super) fn note_failure(&mut self, detail: &str, now: Instant) -> Vec<Action> {
        let (detection, time_to_detect) = self
            .failure_detection
            .take()
            .unwrap_or((Detection::Exit, Duration::ZERO));
        self.judged_failures.push((detection, self.last_exit));
        if let Some(incident) = &mut self.incident {
            incident.end_step(StepOutcome::Failed, detail);
            self.ladder.trying = None;
            return vec![Action::RecordIncident(Box::new(incident.clone()))];
        }
        let id = self.incident_ids.next();
        log::warn!(
            "{}: incident {id} opened: {} ({detail})",
            self.unit.name,
            detection.name()
        );
        let mut incident =
            Incident::open(id, &self.unit.name, detection, detail, time_to_detect, now);
        if self.budget.is_trial() {
            // The trial start after a cooldown was this incident's first restart.
            let trial = "trial start after the cooldown";
            incident.begin_step(Rung::Restart, StepOutcome::Failed, trial, now);
        }
        self.note_step(
            "none",
            "incident",
            &format!("incident {id} opened: {detail}"),
        );
        self.ladder.trying = None;
        let action = Action::RecordIncident(Box::new(incident.clone()));
        self.incident = Some(incident);
        vec![action]
    }

    /// A start during an incident outside a ladder step is a plain restart: rung 0.
    pub(super) fn begin_restart_step(&mut self, detail: &str, now: Instant) -> Vec<Action> {
        let Some(incident) = &mut self.incident else {
            return Vec::new();
        };
        if self.ladder.trying.is_some() {
            return Vec::new();
        }
        self.ladder.trying = Some(Rung::Restart);
        incident.begin_step(Rung::Restart, StepOutcome::Trying, detail, now);
        vec![Action::RecordIncident(Box::new(incident.clone()))]
    }

    /// Closes the open incident with `outcome`.
    pub(super) fn close_incident(
        &mut self,
        outcome: Outcome,
        detail: &str,
        now: Instant,
    ) -> Vec<Action> {
        self.ladder.trying = None;
        let Some(mut incident) = self.incident.take() else {
            return Vec::new();
        };
        incident.close(outcome, now);
        log::warn!(
            "{}: incident {} closed: {} ({detail})",
            self.unit.name,
            incident.id,
            outcome.name()
        );
        self.note_step(
            "incident",
            outcome.name(),
            &format!("incident {}: {detail}", incident.id),
        );
        vec![Action::RecordIncident(Box::new(incident))]
    }

    /// An administrator's stop ends the incident: given up.
    pub fn give_up_incident(&mut self, detail: &str, now: Instant) -> Vec<Action> {
        self.ladder.next = 0;
        self.close_incident(Outcome::Failed, detail, now)
    }

    /// The supervision group's budget ran out: down and failed, or cooling down; a live
    /// program is stopped first.
    pub fn park(&mut self, parked: Parked, detail: &str, now: Instant) -> Vec<Action> {
        if self.pid.is_some() || self.is_sweeping() {
            return self.stop(AfterStop::Park(parked), detail, now);
        }
        let outcome = match parked {
            Parked::Failed => Outcome::Failed,
            Parked::Cooldown(_) => Outcome::Cooldown,
        };
        let mut actions = self.close_incident(outcome, detail, now);
        self.ladder.next = 0;
        actions.push(Action::CancelTimer {
            timer: self.timer(TimerKind::Restart),
        });
        self.next_attempt = None;
        match parked {
            Parked::Failed => self.set_state(State::Failed, &format!("{detail}, giving up")),
            Parked::Cooldown(length) => {
                let until = now + length;
                self.budget.circuit = crate::service::Circuit::Open {
                    until,
                    cooldown: length,
                };
                self.dirty = true;
                self.next_attempt = Some(until);
                self.set_state(
                    State::Cooldown,
                    &format!("{detail}, circuit open for {}", format_duration(length)),
                );
                actions.push(Action::ArmTimer {
                    timer: self.timer(TimerKind::Restart),
                    deadline: until,
                });
            }
        }
        actions
    }

    /// The supervision group's budget ran out with `on-exhausted = "escalate"`.
    pub fn escalate_for(&mut self, detail: &str, now: Instant) -> Vec<Action> {
        let actions = self.close_incident(Outcome::Escalated, detail, now);
        self.escalated = true;
        actions
    }

    /// A step of the ladder (or an incident's opening or closing), for the event log.
    pub(super) fn note_step(&mut self, from: &str, to: &str, reason: &str) {
        self.step_changes
            .push((from.to_string(), to.to_string(), reason.to_string()));
    }

    /// Ready (and, with `[health]`, healthy) from now: verified good after `verify`.
    pub(super) fn arm_verify(&mut self, now: Instant) -> Vec<Action> {
        self.watch.verify_since = Some(now);
        vec![Action::ArmTimer {
            timer: self.timer(TimerKind::Verify),
            deadline: now + self.unit.recovery.verify,
        }]
    }

    /// Not healthy any more: the `verify` window starts again at the next healthy.
    pub(super) fn suspend_verify(&mut self) -> Vec<Action> {
        self.watch.verify_since = None;
        vec![Action::CancelTimer {
            timer: self.timer(TimerKind::Verify),
        }]
    }

    /// The run held for `verify`: the incident closes, the ladder resets, and (run by its
    /// own definition) the unit and its rollback-files become the last-known-good.
    pub(super) fn on_verified(&mut self, now: Instant) -> Vec<Action> {
        let Some(back_since) = self.watch.verify_since else {
            return Vec::new();
        };
        if !self.state.is_up() || self.pid.is_none() {
            return Vec::new();
        }
        let held = format_duration(self.unit.recovery.verify);
        let rung = self.ladder.trying.unwrap_or(Rung::Restart);
        if self.state == State::Recovering {
            self.set_state(State::Running, &format!("verified: {rung} held {held}"));
        }
        let mut actions = Vec::new();
        if let Some(mut incident) = self.incident.take() {
            incident.recover(back_since, now);
            let recovered_in = incident.time_to_recover.unwrap_or_default();
            log::info!(
                "{}: incident {} recovered by {rung} in {} (detected in {})",
                self.unit.name,
                incident.id,
                format_duration(recovered_in),
                format_duration(incident.time_to_detect)
            );
            self.note_step(
                rung.name(),
                "recovered",
                &format!(
                    "incident {}: recovered by {rung} in {}",
                    incident.id,
                    format_duration(recovered_in)
                ),
            );
            actions.push(Action::RecordIncident(Box::new(incident)));
        }
        self.ladder.next = 0;
        self.ladder.trying = None;
        if self.ladder.mode == Mode::Normal {
            actions.extend(self.keep_known_good());
        }
        actions
    }

    /// This definition ran good: keep it, and a snapshot of its rollback-files.
    pub(super) fn keep_known_good(&mut self) -> Vec<Action> {
        log::info!(
            "{}: keeping a last-known-good definition and {} rollback file(s)",
            self.unit.name,
            self.unit.recovery.rollback_files.len()
        );
        self.known_good = Some(Box::new(self.unit.clone()));
        vec![Action::SaveKnownGood {
            unit: Box::new(self.unit.clone()),
            files: self.unit.recovery.rollback_files.clone(),
        }]
    }

    pub(super) fn budget_text(&self) -> String {
        format!(
            "{} failures in {}",
            self.unit.restart.max_failures,
            format_duration(self.unit.restart.window)
        )
    }
}

#[cfg(test)]
mod tests;
