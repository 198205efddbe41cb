//! The ladder on one service, driven by hand: crashes, timers, hooks and restored files
//! go in; states, specs and incidents come out. Table rows and a property over random
//! sequences.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::*;
use crate::core::Pid;
use crate::exit_status::ExitStatus;
use crate::process_spec::ProcessSpec;
use crate::recovery::Incident;
use crate::service::decode_spawn_token;
use crate::service::{SpawnKind, TimerKind};
use crate::unit::{Command, RecoveryConfig, RecoveryStep, SafeMode, Unit, parse_unit};

const ALL_STEPS: [RecoveryStep; 4] = RecoveryStep::ALL;

fn unit(steps: &[RecoveryStep], on_exhausted: &str) -> Unit {
    let text = format!(
        "command = [\"/bin/web\"]\n[restart]\nmax-failures = 1\ndelay = \"1s\"\non-exhausted = \"{on_exhausted}\"\ncooldown = \"1m\"\n[stop]\nmode = \"process\"\n"
    );
    let mut unit = parse_unit("web", std::path::Path::new("web.toml"), &text).unwrap();
    unit.recovery = RecoveryConfig {
        steps: steps.to_vec(),
        verify: Duration::from_secs(5),
        safe_mode: Some(SafeMode {
            command: Some(Command::Argv(vec!["/bin/web".into(), "--safe".into()])),
            environment: BTreeMap::from([("SAFE".to_string(), "1".to_string())]),
        }),
        rollback_files: vec!["/etc/web.conf".into()],
        restore: Some(Command::Argv(vec!["/bin/restore".into()])),
        restore_timeout: Duration::from_secs(60),
    };
    unit
}

/// Plays the shell for one service.
struct Drive {
    service: Service,
    now: Instant,
    next_pid: Pid,
    timers: BTreeMap<u64, Instant>,
    incidents: Vec<Incident>,
    programs: Vec<ProcessSpec>,
    hooks: Vec<ProcessSpec>,
    restores: usize,
    kept: usize,
}

impl Drive {
    fn new(unit: Unit) -> Drive {
        let mut drive = Drive {
            service: Service::new(0, unit),
            now: crate::testing::now(),
            next_pid: 100,
            timers: BTreeMap::new(),
            incidents: Vec::new(),
            programs: Vec::new(),
            hooks: Vec::new(),
            restores: 0,
            kept: 0,
        };
        let actions = drive.service.start("test");
        drive.perform(actions);
        drive
    }

    fn perform(&mut self, actions: Vec<Action>) {
        for action in actions {
            let follow = match action {
                Action::Spawn { token, spec } => {
                    self.next_pid += 1;
                    let pid = self.next_pid;
                    match decode_spawn_token(token) {
                        Some((_, SpawnKind::Hook)) => {
                            self.hooks.push(spec);
                            self.service.on_hook_spawned(pid)
                        }
                        _ => {
                            self.programs.push(spec);
                            self.service.on_spawned(pid, self.now)
                        }
                    }
                }
                Action::ArmTimer { timer, deadline } => {
                    self.timers.insert(timer, deadline);
                    Vec::new()
                }
                Action::CancelTimer { timer } => {
                    self.timers.remove(&timer);
                    Vec::new()
                }
                Action::RecordIncident(incident) => {
                    match self.incidents.iter_mut().find(|i| i.id == incident.id) {
                        Some(kept) => *kept = *incident,
                        None => self.incidents.push(*incident),
                    }
                    Vec::new()
                }
                Action::RestoreFiles { .. } => {
                    self.restores += 1;
                    self.service.on_files_restored(Ok(1), self.now)
                }
                Action::SaveKnownGood { .. } => {
                    self.kept += 1;
                    Vec::new()
                }
                _ => Vec::new(),
            };
            self.perform(follow);
        }
        // The supervisor's part of `restart-dependencies`: there are none here, so the
        // service starts at once.
        if std::mem::take(&mut self.service.ladder.restart_dependencies) {
            let actions = self.service.start("dependencies ready");
            self.perform(actions);
        }
    }

    fn wait(&mut self, duration: Duration) {
        self.now += duration;
    }

    /// The program dies with `code` (after a second of running).
    fn crash(&mut self, code: u8) {
        self.wait(Duration::from_secs(1));
        if self.service.pid.is_some() {
            let actions = self.service.on_exit(ExitStatus::Code(code), self.now);
            self.perform(actions);
        }
    }

    /// Fires `kind` if it is armed.
    fn fire(&mut self, kind: TimerKind) -> bool {
        let timer = kind.id(0);
        let Some(deadline) = self.timers.remove(&timer) else {
            return false;
        };
        self.now = self.now.max(deadline);
        let actions = self.service.on_timer(kind, self.now);
        self.perform(actions);
        true
    }

    fn hook_exits(&mut self, code: u8) {
        if self.service.hook_pid.is_some() {
            let actions = self.service.on_hook_exit(ExitStatus::Code(code), self.now);
            self.perform(actions);
        }
    }

    fn incident(&self) -> &Incident {
        self.incidents.last().unwrap()
    }

    /// The rungs the last incident took, with their outcomes.
    fn steps(&self) -> Vec<(&'static str, &'static str)> {
        self.incident()
            .steps
            .iter()
            .map(|step| (step.rung.name(), step.outcome.name()))
            .collect()
    }
}

fn env<'a>(spec: &'a ProcessSpec, name: &str) -> Option<&'a Option<String>> {
    spec.environment
        .iter()
        .rev()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
}

#[test]
fn a_crash_that_a_quick_restart_fixes_is_recovered_at_step_0() {
    let mut unit = unit(&[], "stop");
    unit.restart.max_failures = 5;
    let mut drive = Drive::new(unit);
    drive.wait(Duration::from_secs(10));
    assert!(drive.fire(TimerKind::Verify), "a good run is verified");
    assert_eq!(drive.kept, 1, "and kept as last-known-good");
    drive.crash(1);
    // Ran well: restarted at once, ready at once (no check), verified after 5s.
    assert_eq!(drive.service.state, State::Running);
    assert!(drive.incident().is_open());
    assert!(drive.fire(TimerKind::Verify));
    let incident = drive.incident();
    assert_eq!(incident.outcome, Some(Outcome::Recovered));
    assert_eq!(drive.steps(), [("restart", "verified")]);
    assert_eq!(incident.time_to_recover, Some(Duration::ZERO));
    assert_eq!(incident.detected_by, Detection::Exit);
}

#[test]
fn the_ladder_climbs_in_order_skipping_a_rollback_with_nothing_to_roll_back_to() {
    let mut drive = Drive::new(unit(&ALL_STEPS, "stop"));
    for _ in 0..6 {
        drive.crash(1);
        drive.hook_exits(0);
        drive.fire(TimerKind::Restart);
    }
    assert_eq!(
        drive.steps(),
        [
            ("safe-mode", "failed"),
            ("rollback", "skipped"),
            ("restart-dependencies", "failed"),
            ("restore", "failed"),
        ]
    );
    assert_eq!(drive.incident().outcome, Some(Outcome::Failed));
    assert_eq!(drive.service.state, State::Failed);
    assert_eq!(
        drive.service.ladder.next, 0,
        "ready for another climb after a reset"
    );
    assert_eq!(drive.restores, 0);
}

#[test]
fn safe_mode_runs_the_other_command_until_reset() {
    let mut drive = Drive::new(unit(&[RecoveryStep::SafeMode], "stop"));
    drive.crash(1);
    assert_eq!(drive.service.state, State::Recovering);
    let spec = drive.programs.last().unwrap();
    assert_eq!(spec.argv, ["/bin/web", "--safe"]);
    assert_eq!(env(spec, "SAFE"), Some(&Some("1".to_string())));
    assert!(drive.fire(TimerKind::Verify));
    assert_eq!(drive.service.state, State::Running);
    assert_eq!(drive.steps(), [("safe-mode", "verified")]);
    assert_eq!(
        drive.service.ladder.mode_name().as_deref(),
        Some("safe mode")
    );
    assert_eq!(drive.kept, 0, "a run in safe mode is not last-known-good");
    // reset: stopped, and started again with the unit's own command.
    let actions = drive.service.reset(drive.now);
    drive.perform(actions);
    assert_eq!(drive.service.state, State::Stopping);
    drive.crash(0);
    assert_eq!(drive.programs.last().unwrap().argv, ["/bin/web"]);
    assert_eq!(drive.service.ladder.mode_name(), None);
}

#[test]
fn rollback_restores_the_files_and_runs_the_last_known_good_definition() {
    let mut drive = Drive::new(unit(&[RecoveryStep::Rollback], "stop"));
    drive.wait(Duration::from_secs(6));
    assert!(drive.fire(TimerKind::Verify));
    // A reload brought a broken definition.
    let mut broken = drive.service.unit.clone();
    broken.command = Command::Argv(vec!["/bin/broken".into()]);
    drive.service.unit = broken;
    drive.crash(1);
    assert_eq!(drive.restores, 1);
    assert_eq!(drive.programs.last().unwrap().argv, ["/bin/web"]);
    assert_eq!(drive.service.state, State::Recovering);
    assert!(drive.fire(TimerKind::Verify));
    assert_eq!(drive.steps(), [("rollback", "verified")]);
    assert_eq!(
        drive
            .service
            .loaded
            .as_ref()
            .map(|unit| unit.command.clone()),
        Some(Command::Argv(vec!["/bin/broken".into()])),
        "the loaded definition is kept for a reload to compare with"
    );
    assert!(
        drive
            .service
            .ladder
            .mode_name()
            .unwrap()
            .contains("rolled back")
    );
}

#[test]
fn the_restore_hook_runs_with_its_environment_and_a_failed_hook_climbs_on() {
    let mut drive = Drive::new(unit(
        &[RecoveryStep::Restore, RecoveryStep::SafeMode],
        "stop",
    ));
    drive.crash(1);
    assert_eq!(drive.service.state, State::Recovering);
    let hook = drive.hooks.last().unwrap();
    assert_eq!(hook.argv, ["/bin/restore"]);
    let id = drive.incident().id.to_string();
    for (name, value) in [
        ("PHOENIX_SERVICE", "web"),
        ("PHOENIX_INCIDENT", id.as_str()),
        ("PHOENIX_STEP", "restore"),
    ] {
        assert_eq!(env(hook, name), Some(&Some(value.to_string())), "{name}");
    }
    drive.hook_exits(3);
    assert_eq!(
        drive.steps(),
        [("restore", "failed"), ("safe-mode", "trying")]
    );
    assert!(
        drive.incident().steps[1]
            .detail
            .contains("restore hook exit 3")
    );
}

#[test]
fn a_hook_past_its_timeout_is_killed_and_fails_the_step() {
    let mut drive = Drive::new(unit(&[RecoveryStep::Restore], "escalate"));
    drive.crash(1);
    assert!(drive.fire(TimerKind::HookKill));
    assert!(drive.service.hook_timed_out);
    drive.hook_exits(137);
    assert_eq!(drive.incident().outcome, Some(Outcome::Escalated));
    assert!(drive.service.escalated);
    assert!(drive.incident().steps[0].detail.contains("killed after 1m"));
}

#[test]
fn after_a_cooldown_the_ladder_is_tried_again() {
    let mut drive = Drive::new(unit(&[RecoveryStep::SafeMode], "cooldown"));
    drive.crash(1);
    drive.crash(1);
    assert_eq!(drive.service.state, State::Cooldown);
    assert_eq!(drive.incident().outcome, Some(Outcome::Cooldown));
    assert!(drive.fire(TimerKind::Restart), "trial start");
    drive.crash(1);
    assert_eq!(drive.service.state, State::Recovering, "the ladder again");
    assert_eq!(drive.incidents.len(), 2);
}

#[test]
fn heal_climbs_one_step_now() {
    let mut drive = Drive::new(unit(
        &[RecoveryStep::SafeMode, RecoveryStep::Restore],
        "stop",
    ));
    let (actions, message) = drive.service.heal(drive.now);
    assert!(
        message.contains("then safe-mode (step 1 of 2)"),
        "{message}"
    );
    drive.perform(actions);
    drive.crash(0);
    assert_eq!(drive.service.state, State::Recovering);
    assert_eq!(drive.incident().detected_by, Detection::Request);
    assert_eq!(drive.steps(), [("safe-mode", "trying")]);
    let (_, message) = Drive::new(unit(&[], "stop")).service.heal(drive.now);
    assert!(message.contains("no [recovery] steps"), "{message}");
}

#[derive(Clone, Debug)]
enum Input {
    Crash,
    Wait(u8),
    Fire(usize),
    HookExit(u8),
    Heal,
    Reset,
}

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        3 => Just(Input::Crash),
        2 => (0u8..20).prop_map(Input::Wait),
        3 => (0usize..4).prop_map(Input::Fire),
        1 => (0u8..2).prop_map(Input::HookExit),
        1 => Just(Input::Heal),
        1 => Just(Input::Reset),
    ]
}

proptest! {
    /// The ladder climbs in order, never skips a configured step except a rollback with
    /// nothing to roll back to, never goes past its end, never tries two steps at once;
    /// at most one incident is open.
    #[test]
    fn the_ladder_climbs_in_order_and_never_past_its_end(
        steps in proptest::sample::subsequence(ALL_STEPS.to_vec(), 0..=4),
        on_exhausted in prop_oneof![Just("stop"), Just("cooldown"), Just("escalate")],
        inputs in proptest::collection::vec(input(), 1..60),
    ) {
        let mut drive = Drive::new(unit(&steps, on_exhausted));
        for input in inputs {
            match input {
                Input::Crash => drive.crash(1),
                Input::Wait(seconds) => drive.wait(Duration::from_secs(u64::from(seconds))),
                Input::Fire(which) => {
                    let kind = [TimerKind::Restart, TimerKind::Verify, TimerKind::HookKill, TimerKind::Restart][which];
                    drive.fire(kind);
                }
                Input::HookExit(code) => drive.hook_exits(code),
                Input::Heal => {
                    let (actions, _) = drive.service.heal(drive.now);
                    drive.perform(actions);
                }
                Input::Reset => {
                    let actions = drive.service.reset(drive.now);
                    drive.perform(actions);
                }
            }
            prop_assert!(drive.service.ladder.next <= steps.len());
            prop_assert!(drive.incidents.iter().filter(|i| i.is_open()).count() <= 1);
            for incident in &drive.incidents {
                let trying = incident.steps.iter().filter(|s| s.outcome == StepOutcome::Trying).count();
                prop_assert!(trying <= 1, "{:?}", incident.steps);
                // Within one climb (between restarts), steps follow the configured order.
                let mut position = 0;
                for step in &incident.steps {
                    match step.rung {
                        Rung::Restart => position = 0,
                        Rung::Step(taken) => {
                            let at = steps.iter().position(|s| *s == taken);
                            prop_assert!(at.is_some(), "{taken} is not configured");
                            let at = at.unwrap_or(0);
                            if at < position {
                                // A new climb (after a cooldown or a verified step) starts over.
                                position = 0;
                            }
                            for skipped in &steps[position..at] {
                                prop_assert!(
                                    *skipped == RecoveryStep::Rollback || incident.steps.iter().any(|s| s.rung == Rung::Step(*skipped)),
                                    "{skipped} skipped in {:?}", incident.steps
                                );
                            }
                            position = at + 1;
                        }
                    }
                }
            }
        }
    }
}
