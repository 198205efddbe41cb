//! Table-driven tests of one service: (state, event) → (next state, actions).

use std::time::{Duration, Instant};

use super::*;
use crate::core::SpawnError;
use crate::unit::{OnExhausted, RestartPolicy, parse_unit};

fn unit(extra: &str) -> Unit {
    let text = format!("command = [\"/bin/true\"]\n{extra}");
    parse_unit("svc", std::path::Path::new("svc.toml"), &text).unwrap()
}

fn running(extra: &str, now: Instant) -> Service {
    let mut service = Service::new(0, unit(extra));
    service.start("test");
    service.on_spawned(100, now);
    service
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn armed(actions: &[Action]) -> Option<Instant> {
    actions.iter().find_map(|a| match a {
        Action::ArmTimer { timer, deadline } if *timer == TimerKind::Restart.id(0) => {
            Some(*deadline)
        }
        _ => None,
    })
}

fn spawns(actions: &[Action]) -> usize {
    actions
        .iter()
        .filter(|a| matches!(a, Action::Spawn { .. }))
        .count()
}

#[test]
fn deaths_are_judged_by_code_uptime_and_policy() {
    let t0 = crate::testing::now();
    // (unit text, status, uptime, expected state, expected restart delay or None)
    let rows: &[(&str, ExitStatus, u64, State, Option<u64>)] = &[
        ("", ExitStatus::Code(1), 5, State::Starting, None), // ran well, first failure: at once
        ("", ExitStatus::Code(1), 0, State::Backoff, Some(1)), // quick failure: delay 1s
        ("", ExitStatus::Code(0), 5, State::Starting, None), // success, policy always
        ("", ExitStatus::Code(0), 0, State::Backoff, Some(1)), // before min-uptime: failure
        (
            "[restart]\npolicy = \"on-failure\"",
            ExitStatus::Code(0),
            5,
            State::Exited,
            None,
        ),
        (
            "[restart]\npolicy = \"on-failure\"",
            ExitStatus::Code(3),
            5,
            State::Starting,
            None,
        ),
        (
            "[restart]\npolicy = \"never\"",
            ExitStatus::Code(3),
            5,
            State::Failed,
            None,
        ),
        (
            "[restart]\nsuccess-exit-codes = [0, 3]\npolicy = \"on-failure\"",
            ExitStatus::Code(3),
            5,
            State::Exited,
            None,
        ),
        (
            "",
            ExitStatus::Signal(Signal::KILL),
            5,
            State::Starting,
            None,
        ),
        (
            "kind = \"oneshot\"",
            ExitStatus::Code(0),
            0,
            State::Exited,
            None,
        ),
        (
            "kind = \"oneshot\"",
            ExitStatus::Code(1),
            0,
            State::Failed,
            None,
        ),
        ("main = true", ExitStatus::Code(1), 0, State::Exited, None),
    ];
    for (extra, status, uptime, state, delay) in rows {
        let mut service = running(extra, t0);
        let now = t0 + secs(*uptime);
        let actions = service.on_exit(*status, now);
        assert_eq!(service.state, *state, "{extra:?} {status}");
        assert_eq!(
            armed(&actions),
            delay.map(|d| now + secs(d)),
            "{extra:?} {status}"
        );
        assert_eq!(
            spawns(&actions),
            usize::from(*state == State::Starting),
            "{extra:?} {status}"
        );
    }
}

#[test]
fn backoff_grows_then_exhausts_into_cooldown() {
    let text = "[restart]\ndelay = \"1s\"\nmax-failures = 4\nwindow = \"1m\"\ncooldown = \"10s\"\nmax-cooldown = \"15s\"";
    let mut now = crate::testing::now();
    let mut service = running(text, now);
    let mut delays = Vec::new();
    for _ in 0..3 {
        let actions = service.on_exit(ExitStatus::Code(1), now);
        let deadline = armed(&actions).unwrap();
        delays.push(deadline - now);
        now = deadline;
        service.on_timer(TimerKind::Restart);
        service.on_spawned(101, now);
    }
    assert_eq!(delays, vec![secs(1), secs(2), secs(4)]);
    let actions = service.on_exit(ExitStatus::Code(1), now);
    assert_eq!(service.state, State::Cooldown);
    assert_eq!(armed(&actions), Some(now + secs(10)));
    // Half-open trial: a failure reopens for twice as long, capped at max-cooldown.
    now += secs(10);
    assert_eq!(spawns(&service.on_timer(TimerKind::Restart)), 1);
    service.on_spawned(102, now);
    let actions = service.on_exit(ExitStatus::Code(1), now + secs(1));
    assert_eq!(armed(&actions), Some(now + secs(1) + secs(15)));
    // A trial that survives reset-after closes the circuit.
    now += secs(16);
    service.on_timer(TimerKind::Restart);
    let actions = service.on_spawned(103, now);
    assert!(actions.iter().any(
        |a| matches!(a, Action::ArmTimer { timer, .. } if *timer == TimerKind::TrialReset.id(0))
    ));
    service.on_timer(TimerKind::TrialReset);
    assert_eq!(service.budget.circuit, Circuit::Closed);
    assert_eq!(service.budget.consecutive, 0);
}

#[test]
fn on_exhausted_stop_and_escalate() {
    for (policy, escalated) in [("stop", false), ("escalate", true)] {
        let text = format!("[restart]\nmax-failures = 1\non-exhausted = \"{policy}\"");
        let now = crate::testing::now();
        let mut service = running(&text, now);
        let actions = service.on_exit(ExitStatus::Code(1), now);
        assert_eq!(service.state, State::Failed);
        assert_eq!(service.escalated, escalated);
        assert_eq!(spawns(&actions), 0);
    }
}

#[test]
fn stop_signals_then_kills_and_death_is_success() {
    let now = crate::testing::now();
    let mut service = running("[stop]\nsignal = \"SIGINT\"\ntimeout = \"2s\"", now);
    let actions = service.stop(AfterStop::Down, "test", now);
    assert_eq!(service.state, State::Stopping);
    assert!(actions.contains(&Action::Signal {
        target: Target::Group(100),
        signal: Signal::INT
    }));
    assert!(actions.contains(&Action::Signal {
        target: Target::Group(100),
        signal: Signal::CONT
    }));
    let kill = service.on_timer(TimerKind::StopKill);
    assert_eq!(
        kill,
        vec![Action::Signal {
            target: Target::Group(100),
            signal: Signal::KILL
        }]
    );
    service.on_exit(ExitStatus::Signal(Signal::KILL), now + secs(2));
    assert_eq!(service.state, State::Down);
    assert_eq!(service.budget.consecutive, 0);
}

#[test]
fn stop_mode_process_signals_only_the_pid() {
    let now = crate::testing::now();
    let mut service = running("[stop]\nmode = \"process\"", now);
    let actions = service.stop(AfterStop::Down, "test", now);
    assert!(actions.contains(&Action::Signal {
        target: Target::Process(100),
        signal: Signal::TERM
    }));
}

#[test]
fn restart_request_starts_again_after_death() {
    let now = crate::testing::now();
    let mut service = running("", now);
    service.stop(AfterStop::Restart("restarting by request"), "test", now);
    let actions = service.on_exit(ExitStatus::Signal(Signal::TERM), now);
    assert_eq!(service.state, State::Starting);
    assert_eq!(spawns(&actions), 1);
}

#[test]
fn spawn_failure_is_a_counted_failure() {
    let now = crate::testing::now();
    let mut service = Service::new(0, unit(""));
    service.start("test");
    let error = SpawnError {
        pid: None,
        errno: 2,
        message: "exec x: No such file or directory".into(),
    };
    let actions = service.on_spawn_failed(&error, now);
    assert_eq!(service.state, State::Backoff);
    assert_eq!(service.last_exit, Some(ExitStatus::Code(127)));
    assert_eq!(armed(&actions), Some(now + secs(1)));
}

#[test]
fn hold_prevents_restarts() {
    let now = crate::testing::now();
    let mut service = running("", now);
    service.hold = true;
    let actions = service.on_exit(ExitStatus::Code(1), now);
    assert_eq!(spawns(&actions), 0);
    assert_eq!(service.state, State::Exited);
}

#[test]
fn explicit_start_and_reset_clear_a_failure() {
    let now = crate::testing::now();
    let mut service = running("[restart]\nmax-failures = 1\non-exhausted = \"stop\"", now);
    service.on_exit(ExitStatus::Code(1), now);
    assert_eq!(service.state, State::Failed);
    service.reset();
    assert_eq!(service.state, State::Down);
    assert_eq!(service.budget.consecutive, 0);
    let mut service = running("[restart]\nmax-failures = 1\non-exhausted = \"stop\"", now);
    service.on_exit(ExitStatus::Code(1), now);
    assert_eq!(spawns(&service.start_explicitly()), 1);
}

#[test]
fn reset_after_forgets_consecutive_failures() {
    let now = crate::testing::now();
    let mut service = running("[restart]\nreset-after = \"1m\"", now);
    service.budget.consecutive = 3;
    let actions = service.on_exit(ExitStatus::Code(1), now + secs(120));
    assert_eq!(service.budget.consecutive, 1);
    assert_eq!(
        spawns(&actions),
        1,
        "a long run then a crash restarts at once"
    );
}

#[test]
fn timers_and_tokens_round_trip() {
    for index in [0, 1, 999] {
        for kind in [
            TimerKind::Restart,
            TimerKind::StopKill,
            TimerKind::TrialReset,
            TimerKind::FinishKill,
        ] {
            assert_eq!(TimerKind::decode(kind.id(index)), Some((index, kind)));
        }
        for finish in [false, true] {
            assert_eq!(
                decode_spawn_token(spawn_token(index, finish)),
                Some((index, finish))
            );
        }
    }
    assert_eq!(TimerKind::decode(3), None);
    let _ = (RestartPolicy::Always, OnExhausted::Cooldown);
}
