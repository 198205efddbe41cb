//! Incidents (DESIGN.md §4.4): one per stretch of trouble of one service, from its first
//! failure since it was last verified good to its verification, escalation or giving up.
//! Pure bookkeeping on the instants it is given; the shell turns them into wall-clock
//! times when it writes `incidents.jsonl`.

use std::fmt;
use std::time::{Duration, Instant};

use crate::unit::RecoveryStep;

/// How a failure was seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detection {
    /// The program exited or was killed (detected at once).
    Exit,
    /// Health checks failed `failure-threshold` times.
    Unhealthy,
    /// No heartbeat within the watchdog timeout.
    Hung,
    /// Not ready within `[ready] timeout`.
    StartTimeout,
    /// The program could not be spawned.
    Spawn,
    /// An administrator asked for the next step (`phoenixctl heal`).
    Request,
}

impl Detection {
    pub fn name(self) -> &'static str {
        match self {
            Detection::Exit => "exit",
            Detection::Unhealthy => "unhealthy",
            Detection::Hung => "hung",
            Detection::StartTimeout => "start-timeout",
            Detection::Spawn => "spawn",
            Detection::Request => "request",
        }
    }

    pub const ALL: [Detection; 6] = [
        Detection::Exit,
        Detection::Unhealthy,
        Detection::Hung,
        Detection::StartTimeout,
        Detection::Spawn,
        Detection::Request,
    ];

    pub fn from_name(name: &str) -> Option<Detection> {
        Detection::ALL
            .into_iter()
            .find(|detection| detection.name() == name)
    }
}

/// A rung of the ladder: plain restarts first, then the unit's steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rung {
    Restart,
    Step(RecoveryStep),
}

impl Rung {
    pub fn name(self) -> &'static str {
        match self {
            Rung::Restart => "restart",
            Rung::Step(step) => step.name(),
        }
    }
}

impl fmt::Display for Rung {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepOutcome {
    /// Started, waiting for `verify`.
    Trying,
    Verified,
    Failed,
    /// Not possible (rollback with nothing to roll back to); the ladder went on.
    Skipped,
}

impl StepOutcome {
    pub fn name(self) -> &'static str {
        match self {
            StepOutcome::Trying => "trying",
            StepOutcome::Verified => "verified",
            StepOutcome::Failed => "failed",
            StepOutcome::Skipped => "skipped",
        }
    }

    pub fn from_name(name: &str) -> Option<StepOutcome> {
        [
            StepOutcome::Trying,
            StepOutcome::Verified,
            StepOutcome::Failed,
            StepOutcome::Skipped,
        ]
        .into_iter()
        .find(|outcome| outcome.name() == name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepTaken {
    pub rung: Rung,
    pub started: Instant,
    pub outcome: StepOutcome,
    pub detail: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Recovered,
    Escalated,
    /// Given up: `on-exhausted = "stop"`, a permanent failure, stopped by request.
    Failed,
    /// The ladder ran out and the circuit opened.
    Cooldown,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Recovered => "recovered",
            Outcome::Escalated => "escalated",
            Outcome::Failed => "failed",
            Outcome::Cooldown => "cooldown",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incident {
    pub id: u64,
    pub service: String,
    /// When Phoenix detected the failure.
    pub opened: Instant,
    pub detected_by: Detection,
    pub reason: String,
    /// From the failure itself (the first failed probe, the last heartbeat) to `opened`.
    pub time_to_detect: Duration,
    pub steps: Vec<StepTaken>,
    pub closed: Option<Instant>,
    /// From the failure to the start of the run that was verified good.
    pub time_to_recover: Option<Duration>,
    pub outcome: Option<Outcome>,
}

/// Hands out incident ids, one past the highest an earlier run wrote; shared by every
/// service of one supervisor (one thread, so a `Cell` is enough).
#[derive(Clone, Debug, Default)]
pub struct IncidentIds(std::rc::Rc<std::cell::Cell<u64>>);

impl IncidentIds {
    pub fn starting_at(first: u64) -> IncidentIds {
        IncidentIds(std::rc::Rc::new(std::cell::Cell::new(first)))
    }

    pub fn set_next(&self, next: u64) {
        self.0.set(next.max(1));
    }

    /// The id the next incident will get.
    pub fn peek(&self) -> u64 {
        self.0.get().max(1)
    }

    pub fn next(&self) -> u64 {
        let id = self.0.get().max(1);
        self.0.set(id.saturating_add(1));
        id
    }
}

/// At most this many steps are kept per incident; a longer climb (restarts after a
/// cooldown, many `heal`s) keeps its first and its latest ones.
const MAX_STEPS: usize = 64;

impl Incident {
    pub fn open(
        id: u64,
        service: &str,
        detected_by: Detection,
        reason: &str,
        time_to_detect: Duration,
        now: Instant,
    ) -> Incident {
        Incident {
            id,
            service: service.to_string(),
            opened: now,
            detected_by,
            reason: reason.to_string(),
            time_to_detect,
            steps: Vec::new(),
            closed: None,
            time_to_recover: None,
            outcome: None,
        }
    }

    pub fn is_open(&self) -> bool {
        self.outcome.is_none()
    }

    /// When the failure itself happened.
    pub fn failed_at(&self) -> Instant {
        self.opened
            .checked_sub(self.time_to_detect)
            .unwrap_or(self.opened)
    }

    /// A step begins (`Trying`) or was skipped; one still being tried is over (failed).
    pub fn begin_step(&mut self, rung: Rung, outcome: StepOutcome, detail: &str, now: Instant) {
        self.end_step(StepOutcome::Failed, "");
        if self.steps.len() >= MAX_STEPS {
            self.steps.remove(MAX_STEPS / 2);
        }
        self.steps.push(StepTaken {
            rung,
            started: now,
            outcome,
            detail: detail.to_string(),
        });
    }

    /// The step being tried ends with `outcome`.
    pub fn end_step(&mut self, outcome: StepOutcome, detail: &str) {
        if let Some(step) = self
            .steps
            .iter_mut()
            .rev()
            .find(|step| step.outcome == StepOutcome::Trying)
        {
            step.outcome = outcome;
            if !detail.is_empty() {
                step.detail = detail.to_string();
            }
        }
    }

    /// Verified good: `back_since` is when the verified run became ready (and healthy).
    pub fn recover(&mut self, back_since: Instant, now: Instant) {
        self.end_step(StepOutcome::Verified, "");
        self.time_to_recover = Some(back_since.saturating_duration_since(self.failed_at()));
        self.close(Outcome::Recovered, now);
    }

    pub fn close(&mut self, outcome: Outcome, now: Instant) {
        if outcome != Outcome::Recovered {
            self.end_step(StepOutcome::Failed, "");
        }
        self.closed = Some(now);
        self.outcome = Some(outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_is_measured_from_the_failure_to_the_verified_run() {
        let start = crate::testing::now();
        let mut incident = Incident::open(
            7,
            "web",
            Detection::Unhealthy,
            "unhealthy",
            Duration::from_secs(3),
            start + Duration::from_secs(10),
        );
        incident.begin_step(
            Rung::Restart,
            StepOutcome::Trying,
            "restarting at once",
            start + Duration::from_secs(10),
        );
        incident.recover(
            start + Duration::from_secs(12),
            start + Duration::from_secs(42),
        );
        assert_eq!(incident.time_to_recover, Some(Duration::from_secs(5)));
        assert_eq!(incident.outcome, Some(Outcome::Recovered));
        assert_eq!(incident.steps[0].outcome, StepOutcome::Verified);
        assert!(!incident.is_open());
    }

    #[test]
    fn a_closing_without_recovery_fails_the_step_being_tried() {
        let now = crate::testing::now();
        let mut incident = Incident::open(1, "web", Detection::Exit, "exit 1", Duration::ZERO, now);
        incident.begin_step(
            Rung::Step(RecoveryStep::Rollback),
            StepOutcome::Skipped,
            "nothing to roll back to",
            now,
        );
        incident.begin_step(
            Rung::Step(RecoveryStep::Restore),
            StepOutcome::Trying,
            "",
            now,
        );
        incident.close(Outcome::Escalated, now);
        let outcomes: Vec<_> = incident.steps.iter().map(|s| s.outcome).collect();
        assert_eq!(outcomes, [StepOutcome::Skipped, StepOutcome::Failed]);
        assert_eq!(incident.time_to_recover, None);
    }

    #[test]
    fn a_long_climb_keeps_a_bounded_list_of_steps() {
        let now = crate::testing::now();
        let mut incident = Incident::open(1, "web", Detection::Exit, "exit 1", Duration::ZERO, now);
        for _ in 0..200 {
            incident.begin_step(Rung::Restart, StepOutcome::Failed, "", now);
        }
        assert_eq!(incident.steps.len(), MAX_STEPS);
    }
}
