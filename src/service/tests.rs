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

/// The group checks among `actions`: (pgid, signal).
fn checks(actions: &[Action]) -> Vec<(Pid, Option<Signal>)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::CheckGroup {
                token,
                pgid,
                signal,
            } => {
                assert_eq!(*token, check_token(0));
                Some((*pgid, *signal))
            }
            _ => None,
        })
        .collect()
}

/// The StopKill deadline armed by `actions`, if any.
fn stop_kill(actions: &[Action]) -> Option<Instant> {
    actions.iter().find_map(|a| match a {
        Action::ArmTimer { timer, deadline } if *timer == TimerKind::StopKill.id(0) => {
            Some(*deadline)
        }
        _ => None,
    })
}

/// `on_exit` with its group check answered "empty", as for nearly every death.
fn exit(service: &mut Service, status: ExitStatus, now: Instant) -> Vec<Action> {
    let mut actions = service.on_exit(status, now);
    for (pgid, _) in checks(&actions) {
        actions.extend(service.on_group_checked(pgid, 0, now));
    }
    actions
}

/// The states passed through since the last call.
fn path(service: &mut Service, now: Instant) -> Vec<(State, State)> {
    service
        .take_transitions(now)
        .iter()
        .filter(|t| t.step.is_none())
        .map(|t| (t.from, t.to))
        .collect()
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
        let actions = exit(&mut service, *status, now);
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
        let actions = exit(&mut service, ExitStatus::Code(1), now);
        let deadline = armed(&actions).unwrap();
        delays.push(deadline - now);
        now = deadline;
        service.on_timer(TimerKind::Restart, now);
        service.on_spawned(101, now);
    }
    assert_eq!(delays, vec![secs(1), secs(2), secs(4)]);
    let actions = exit(&mut service, ExitStatus::Code(1), now);
    assert_eq!(service.state, State::Cooldown);
    assert_eq!(armed(&actions), Some(now + secs(10)));
    // Half-open trial: a failure reopens for twice as long, capped at max-cooldown.
    now += secs(10);
    assert_eq!(spawns(&service.on_timer(TimerKind::Restart, now)), 1);
    service.on_spawned(102, now);
    let actions = exit(&mut service, ExitStatus::Code(1), now + secs(1));
    assert_eq!(armed(&actions), Some(now + secs(1) + secs(15)));
    // A trial that survives reset-after closes the circuit.
    now += secs(16);
    service.on_timer(TimerKind::Restart, now);
    let actions = service.on_spawned(103, now);
    assert!(actions.iter().any(
        |a| matches!(a, Action::ArmTimer { timer, .. } if *timer == TimerKind::TrialReset.id(0))
    ));
    service.on_timer(TimerKind::TrialReset, now);
    assert_eq!(service.budget.circuit, Circuit::Closed);
    assert_eq!(service.budget.consecutive, 0);
}

#[test]
fn on_exhausted_stop_and_escalate() {
    for (policy, escalated) in [("stop", false), ("escalate", true)] {
        let text = format!("[restart]\nmax-failures = 1\non-exhausted = \"{policy}\"");
        let now = crate::testing::now();
        let mut service = running(&text, now);
        let actions = exit(&mut service, ExitStatus::Code(1), now);
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
    let kill = service.on_timer(TimerKind::StopKill, now);
    assert_eq!(
        kill,
        vec![Action::Signal {
            target: Target::Group(100),
            signal: Signal::KILL
        }]
    );
    exit(
        &mut service,
        ExitStatus::Signal(Signal::KILL),
        now + secs(2),
    );
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
    let actions = exit(&mut service, ExitStatus::Signal(Signal::TERM), now);
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
    let actions = exit(&mut service, ExitStatus::Code(1), now);
    assert_eq!(spawns(&actions), 0);
    assert_eq!(service.state, State::Exited);
}

#[test]
fn explicit_start_and_reset_clear_a_failure() {
    let now = crate::testing::now();
    let mut service = running("[restart]\nmax-failures = 1\non-exhausted = \"stop\"", now);
    exit(&mut service, ExitStatus::Code(1), now);
    assert_eq!(service.state, State::Failed);
    service.reset(crate::testing::now());
    assert_eq!(service.state, State::Down);
    assert_eq!(service.budget.consecutive, 0);
    let mut service = running("[restart]\nmax-failures = 1\non-exhausted = \"stop\"", now);
    exit(&mut service, ExitStatus::Code(1), now);
    assert_eq!(spawns(&service.start_explicitly()), 1);
}

#[test]
fn reset_after_forgets_consecutive_failures() {
    let now = crate::testing::now();
    let mut service = running("[restart]\nreset-after = \"1m\"", now);
    service.budget.consecutive = 3;
    let actions = exit(&mut service, ExitStatus::Code(1), now + secs(120));
    assert_eq!(service.budget.consecutive, 1);
    assert_eq!(
        spawns(&actions),
        1,
        "a long run then a crash restarts at once"
    );
}

#[test]
fn check_tokens_round_trip() {
    for index in [0, 1, 999] {
        assert_eq!(decode_check_token(check_token(index)), Some(index));
    }
    let _ = (RestartPolicy::Always, OnExhausted::Cooldown);
}

#[test]
fn an_empty_group_is_judged_at_once() {
    let t0 = crate::testing::now();
    // (unit text, signal the check carries, state after the answer)
    let rows: &[(&str, Signal, State)] = &[
        ("", Signal::TERM, State::Backoff),
        ("[stop]\nsignal = \"SIGINT\"", Signal::INT, State::Backoff),
        ("[restart]\npolicy = \"never\"", Signal::TERM, State::Failed),
    ];
    for (extra, signal, state) in rows {
        let mut service = running(extra, t0);
        path(&mut service, t0);
        let actions = service.on_exit(ExitStatus::Code(1), t0);
        assert_eq!(checks(&actions), vec![(100, Some(*signal))], "{extra:?}");
        assert!(service.is_live() && !service.is_ready(), "{extra:?}");
        let actions = service.on_group_checked(100, 0, t0);
        assert_eq!(service.state, *state, "{extra:?}");
        assert!(!service.is_live(), "{extra:?}");
        assert!(actions.contains(&Action::CancelTimer {
            timer: TimerKind::StopKill.id(0)
        }));
        assert_eq!(
            path(&mut service, t0),
            vec![(State::Running, *state)],
            "no state in between: {extra:?}"
        );
    }
}

#[test]
fn leftovers_are_ended_before_the_restart() {
    let t0 = crate::testing::now();
    let mut service = running("", t0);
    path(&mut service, t0);
    let now = t0 + secs(5);
    service.on_exit(ExitStatus::Code(1), now);
    let actions = service.on_group_checked(100, 2, now);
    assert_eq!(service.state, State::Stopping);
    assert_eq!(stop_kill(&actions), Some(now + secs(10)));
    assert_eq!(spawns(&actions), 0);
    assert!(service.is_live() && service.is_sweeping());
    let transitions = service.take_transitions(now);
    assert_eq!(
        transitions[0].reason,
        "exit 1, 2 leftover process(es) in its process group"
    );
    // Every drain counts again, without a signal; a count above 0 changes nothing.
    assert_eq!(checks(&service.recheck_group()), vec![(100, None)]);
    assert_eq!(service.on_group_checked(100, 1, now), Vec::new());
    // An answer about another group (a stale one) is ignored.
    assert_eq!(service.on_group_checked(555, 0, now), Vec::new());
    assert!(service.is_sweeping());
    let actions = service.on_group_checked(100, 0, now + secs(1));
    assert_eq!(spawns(&actions), 1, "it ran well: restarted at once");
    assert_eq!(service.state, State::Starting);
    assert!(service.recheck_group().is_empty());
    assert_eq!(
        path(&mut service, now),
        vec![(State::Stopping, State::Starting)]
    );
}

#[test]
fn stop_kill_while_sweeping_kills_the_group_then_stops_waiting() {
    let now = crate::testing::now();
    let mut service = running("[stop]\ntimeout = \"2s\"", now);
    service.on_exit(ExitStatus::Code(1), now);
    service.on_group_checked(100, 1, now);
    let actions = service.on_timer(TimerKind::StopKill, now + secs(2));
    assert_eq!(checks(&actions), vec![(100, Some(Signal::KILL))]);
    assert_eq!(stop_kill(&actions), Some(now + secs(4)));
    service.on_group_checked(100, 1, now + secs(2));
    assert_eq!(service.state, State::Stopping);
    // Unkillable (uninterruptible sleep): the second deadline ends the wait.
    let actions = service.on_timer(TimerKind::StopKill, now + secs(4));
    assert!(checks(&actions).is_empty());
    assert_eq!(service.state, State::Backoff);
    assert!(!service.is_sweeping());
}

#[test]
fn stop_mode_process_never_checks_the_group() {
    let now = crate::testing::now();
    let mut service = running("[stop]\nmode = \"process\"", now);
    let actions = service.on_exit(ExitStatus::Code(1), now);
    assert!(checks(&actions).is_empty());
    assert_eq!(service.state, State::Backoff);
    assert!(!service.is_live());
}

#[test]
fn a_stop_waits_for_the_group_within_its_own_timeout() {
    let now = crate::testing::now();
    // (SIGKILL already sent at the stop timeout, expected StopKill re-armed at)
    for (killed, rearmed) in [(false, None), (true, Some(now + secs(12)))] {
        let mut service = running("", now);
        service.stop(AfterStop::Down, "test", now);
        if killed {
            service.on_timer(TimerKind::StopKill, now + secs(10));
        }
        let actions = service.on_exit(ExitStatus::Signal(Signal::TERM), now + secs(2));
        let signal = killed.then_some(Signal::KILL);
        assert_eq!(
            checks(&actions),
            vec![(100, signal)],
            "the stop signalled it"
        );
        assert!(
            !actions.contains(&Action::CancelTimer {
                timer: TimerKind::StopKill.id(0)
            }),
            "the stop's deadline still bounds the wait"
        );
        let actions = service.on_group_checked(100, 1, now + secs(2));
        assert_eq!(stop_kill(&actions), rearmed, "killed: {killed}");
        assert_eq!(service.state, State::Stopping);
        service.on_group_checked(100, 0, now + secs(3));
        assert_eq!(service.state, State::Down, "killed: {killed}");
    }
}

#[test]
fn a_request_during_a_sweep_applies_once_the_group_is_empty() {
    let now = crate::testing::now();
    // (request, state once the group is empty, spawns then)
    let rows = [
        (AfterStop::Down, State::Down, 0),
        (
            AfterStop::Restart("restarting by request"),
            State::Starting,
            1,
        ),
    ];
    for answered in [false, true] {
        for (intent, state, spawned) in rows {
            let mut service = running("", now);
            service.on_exit(ExitStatus::Code(1), now);
            if answered {
                service.on_group_checked(100, 1, now);
            }
            let actions = service.stop(intent, "by request", now);
            assert_eq!(spawns(&actions), 0, "{intent:?}: no second start");
            assert!(checks(&actions).is_empty());
            let actions = service.on_group_checked(100, 0, now);
            assert_eq!(service.state, state, "{intent:?}");
            assert_eq!(spawns(&actions), spawned, "{intent:?}");
        }
    }
}

#[test]
fn finish_runs_after_the_sweep() {
    let now = crate::testing::now();
    let mut service = running("", now);
    service.unit.s6 = Some(crate::unit::S6Extras {
        finish: Some("/srv/finish".into()),
        ..Default::default()
    });
    let actions = service.on_exit(ExitStatus::Code(3), now);
    assert_eq!(spawns(&actions), 0);
    service.on_group_checked(100, 1, now);
    let actions = service.on_group_checked(100, 0, now);
    assert_eq!(spawns(&actions), 1, "finish");
    assert_eq!(service.state, State::Stopping);
}
