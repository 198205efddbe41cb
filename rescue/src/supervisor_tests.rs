//! The supervisor's rules, with instants made up: restarts, the cap, oneshots, adoption,
//! orphans, shutdown.

use std::time::{Duration, Instant};

use super::{ExitStatus, Fate, MAX_RESTARTS, Plan, RESTART_DELAY, State, Supervisor};

fn plan(name: &str) -> Plan<'_> {
    Plan {
        name,
        is_enabled: true,
        is_oneshot: false,
    }
}

fn seconds(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[test]
fn exit_statuses_decode() {
    let rows = [
        (0, ExitStatus::Code(0)),
        (1 << 8, ExitStatus::Code(1)),
        (127 << 8, ExitStatus::Code(127)),
        (9, ExitStatus::Signal(9)),
        (15 | 0x80, ExitStatus::Signal(15)), // with a core dump
    ];
    for (raw, status) in rows {
        assert_eq!(ExitStatus::from_raw(raw), status, "{raw:#x}");
    }
}

#[test]
fn enabled_services_are_due_at_once_and_disabled_ones_never() {
    let t0 = Instant::now();
    let down = Plan {
        name: "down",
        is_enabled: false,
        is_oneshot: false,
    };
    let supervisor = Supervisor::new(&[plan("a"), down, plan("b")], t0);
    assert_eq!(supervisor.due(t0), vec![0, 2]);
    assert_eq!(supervisor.state(1), Some(State::Disabled));
    assert_eq!(supervisor.next_deadline(), Some(t0));
}

#[test]
fn every_death_restarts_after_the_delay() {
    let t0 = Instant::now();
    let mut supervisor = Supervisor::new(&[plan("web")], t0);
    supervisor.started(0, 10);
    let rows = [
        ExitStatus::Code(0),
        ExitStatus::Code(3),
        ExitStatus::Signal(9),
    ];
    for (n, status) in rows.into_iter().enumerate() {
        let now = t0 + seconds(5 * n as u64);
        let fate = supervisor.exited(10 + n as i32, status, now);
        assert_eq!(
            fate,
            Some((0, Fate::RestartAt(now + RESTART_DELAY))),
            "{status}"
        );
        assert!(supervisor.due(now).is_empty());
        assert_eq!(supervisor.due(now + RESTART_DELAY), vec![0]);
        assert_eq!(supervisor.next_deadline(), Some(now + RESTART_DELAY));
        supervisor.started(0, 11 + n as i32);
    }
}

#[test]
fn the_eleventh_death_within_a_minute_is_capped() {
    let t0 = Instant::now();
    let mut supervisor = Supervisor::new(&[plan("crash")], t0);
    let mut now = t0;
    for pid in 1..=MAX_RESTARTS as i32 {
        supervisor.started(0, pid);
        let fate = supervisor.exited(pid, ExitStatus::Code(1), now);
        assert!(
            matches!(fate, Some((0, Fate::RestartAt(_)))),
            "death {pid}: {fate:?}"
        );
        now += RESTART_DELAY;
    }
    supervisor.started(0, 99);
    assert_eq!(
        supervisor.exited(99, ExitStatus::Code(1), now),
        Some((0, Fate::Capped))
    );
    assert_eq!(supervisor.state(0), Some(State::Capped));
    assert_eq!(supervisor.next_deadline(), None);
}

#[test]
fn restarts_older_than_a_minute_no_longer_count() {
    let t0 = Instant::now();
    let mut supervisor = Supervisor::new(&[plan("slow")], t0);
    // One death every 6 s: ten per minute at most, never capped.
    for pid in 1..=30 {
        supervisor.started(0, pid);
        let now = t0 + seconds(6 * pid as u64);
        let fate = supervisor.exited(pid, ExitStatus::Code(1), now);
        assert!(
            matches!(fate, Some((0, Fate::RestartAt(_)))),
            "death {pid}: {fate:?}"
        );
    }
}

#[test]
fn a_failed_start_counts_as_a_death() {
    let t0 = Instant::now();
    let mut supervisor = Supervisor::new(&[plan("missing")], t0);
    assert_eq!(
        supervisor.start_failed(0, t0),
        Fate::RestartAt(t0 + RESTART_DELAY)
    );
}

#[test]
fn a_oneshot_ends_with_a_clean_exit_and_is_retried_after_a_failure() {
    let t0 = Instant::now();
    let setup = Plan {
        name: "setup",
        is_enabled: true,
        is_oneshot: true,
    };
    let mut supervisor = Supervisor::new(&[setup], t0);
    supervisor.started(0, 5);
    let failed = supervisor.exited(5, ExitStatus::Code(2), t0);
    assert_eq!(failed, Some((0, Fate::RestartAt(t0 + RESTART_DELAY))));
    supervisor.started(0, 6);
    assert_eq!(
        supervisor.exited(6, ExitStatus::Code(0), t0),
        Some((0, Fate::Finished))
    );
    assert_eq!(supervisor.next_deadline(), None);
}

#[test]
fn orphans_belong_to_no_service() {
    let t0 = Instant::now();
    let mut supervisor = Supervisor::new(&[plan("web")], t0);
    supervisor.started(0, 10);
    assert_eq!(supervisor.exited(77, ExitStatus::Code(0), t0), None);
    assert_eq!(supervisor.state(0), Some(State::Running(10)));
}

#[test]
fn an_adopted_pid_is_supervised_without_a_start() {
    let t0 = Instant::now();
    let mut supervisor = Supervisor::new(&[plan("db"), plan("web")], t0);
    assert_eq!(supervisor.adopt("web", 42), Ok(1));
    assert_eq!(supervisor.due(t0), vec![0]);
    assert_eq!(supervisor.running(), vec![(1, 42)]);
    let fate = supervisor.exited(42, ExitStatus::Signal(9), t0);
    assert_eq!(fate, Some((1, Fate::RestartAt(t0 + RESTART_DELAY))));

    assert!(supervisor.adopt("nope", 43).is_err());
    supervisor.started(0, 44);
    assert!(
        supervisor.adopt("web", 44).is_err(),
        "a pid runs one service"
    );
    assert_eq!(
        supervisor.adopt("db", 45),
        Err("db already runs as pid 44".into())
    );
}

#[test]
fn nothing_starts_once_shutdown_began() {
    let t0 = Instant::now();
    let mut supervisor = Supervisor::new(&[plan("a"), plan("b")], t0);
    supervisor.started(0, 10);
    assert_eq!(supervisor.begin_stop(), vec![(0, 10)]);
    assert!(supervisor.due(t0 + seconds(60)).is_empty());
    assert_eq!(supervisor.next_deadline(), None);
    assert_eq!(
        supervisor.exited(10, ExitStatus::Signal(15), t0),
        Some((0, Fate::Stopped))
    );
    assert!(supervisor.running().is_empty());
}
