//! Readiness, health and the watchdog of one service, table-driven: what a start waits
//! for, what a probe or a message changes, and how a start timeout, an unhealthy verdict
//! and a hang become counted failures.

use std::time::{Duration, Instant};

use super::super::*;
use crate::health::Health;
use crate::notify::NotifyMessage;
use crate::unit::parse_unit;

fn unit(extra: &str) -> Unit {
    let text = format!("command = [\"/bin/daemon\"]\n{extra}");
    parse_unit("svc", std::path::Path::new("svc.toml"), &text).unwrap()
}

/// Started, spawned as pid 100, at `now`.
fn spawned(extra: &str, now: Instant) -> (Service, Vec<Action>) {
    let mut service = Service::new(0, unit(extra));
    service.start("test");
    let actions = service.on_spawned(100, now);
    (service, actions)
}

fn deadline_of(actions: &[Action], kind: TimerKind) -> Option<Instant> {
    actions.iter().find_map(|a| match a {
        Action::ArmTimer { timer, deadline } if *timer == kind.id(0) => Some(*deadline),
        _ => None,
    })
}

fn signals(actions: &[Action]) -> Vec<Signal> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Signal { signal, .. } => Some(*signal),
            _ => None,
        })
        .collect()
}

fn started_probe(actions: &[Action]) -> bool {
    actions.iter().any(|a| {
        matches!(a, Action::StartProbe { .. })
            || matches!(a, Action::Spawn { token, .. } if *token == spawn_token(0, SpawnKind::Probe))
    })
}

/// The death after a stop Phoenix made, the group already empty.
fn die(service: &mut Service, now: Instant) -> Vec<Action> {
    let mut actions = service.on_exit(ExitStatus::Signal(Signal::TERM), now);
    let checks: Vec<Pid> = actions
        .iter()
        .filter_map(|a| match a {
            Action::CheckGroup { pgid, .. } => Some(*pgid),
            _ => None,
        })
        .collect();
    for pgid in checks {
        actions.extend(service.on_group_checked(pgid, 0, now));
    }
    actions
}

const TCP_READY: &str = "[ready]\ncheck = \"tcp\"\naddress = \"127.0.0.1:8080\"\ninterval = \"250ms\"\ntimeout = \"5s\"";

#[test]
fn each_check_decides_when_a_start_is_ready() {
    let now = crate::testing::now();
    // (ready table, message that makes it ready, is ready at once)
    let rows: [(&str, Option<NotifyMessage>, bool); 4] = [
        ("", None, true),
        (
            "[ready]\ncheck = \"notify\"",
            Some(NotifyMessage::Ready),
            false,
        ),
        ("[ready]\ncheck = \"fd\"", Some(NotifyMessage::Ready), false),
        (
            "[ready]\ncheck = \"fd\"\nfd = 4",
            Some(NotifyMessage::Ready),
            false,
        ),
    ];
    for (table, message, at_once) in rows {
        let (mut service, actions) = spawned(table, now);
        if at_once {
            assert_eq!(service.state, State::Running, "{table}");
            assert_eq!(deadline_of(&actions, TimerKind::ReadyTimeout), None);
            continue;
        }
        assert_eq!(service.state, State::Starting, "{table}");
        assert_eq!(
            deadline_of(&actions, TimerKind::ReadyTimeout),
            Some(now + Duration::from_secs(90))
        );
        assert!(!service.is_ready());
        service.on_notified(vec![NotifyMessage::Status("warming up".into())], now);
        assert_eq!(service.state, State::Starting);
        assert_eq!(service.watch.status_text.as_deref(), Some("warming up"));
        service.on_notified(message.into_iter().collect(), now);
        assert_eq!(service.state, State::Running, "{table}");
        assert!(service.is_ready());
    }
}

#[test]
fn a_ready_message_of_the_wrong_kind_is_ignored() {
    let now = crate::testing::now();
    let (mut service, _) = spawned(TCP_READY, now);
    service.on_notified(vec![NotifyMessage::Ready], now);
    assert_eq!(service.state, State::Starting);
}

#[test]
fn a_readiness_probe_polls_until_it_succeeds() {
    let now = crate::testing::now();
    let (mut service, actions) = spawned(TCP_READY, now);
    assert_eq!(deadline_of(&actions, TimerKind::Probe), Some(now));
    let actions = service.on_timer(TimerKind::Probe, now);
    assert!(started_probe(&actions));
    // At most one probe at a time.
    assert!(!started_probe(&service.on_timer(TimerKind::Probe, now)));
    let later = now + Duration::from_millis(10);
    let actions = service.on_probe_finished(Err("connection refused".into()), later);
    assert_eq!(service.state, State::Starting);
    assert_eq!(
        deadline_of(&actions, TimerKind::Probe),
        Some(later + Duration::from_millis(250))
    );
    service.on_timer(TimerKind::Probe, later);
    service.on_probe_finished(Ok(Duration::from_millis(1)), later);
    assert_eq!(service.state, State::Running);
    let transitions = service.take_transitions(later);
    let last = transitions.last().unwrap();
    assert_eq!(last.reason, "ready: tcp 127.0.0.1:8080");
}

#[test]
fn not_ready_in_time_is_a_counted_failure() {
    let now = crate::testing::now();
    let (mut service, _) = spawned(TCP_READY, now);
    let late = now + Duration::from_secs(5);
    let actions = service.on_timer(TimerKind::ReadyTimeout, late);
    assert_eq!(signals(&actions), vec![Signal::TERM, Signal::CONT]);
    assert_eq!(service.state, State::Stopping);
    die(&mut service, late);
    assert_eq!(service.state, State::Backoff);
    let death = service.deaths.back().unwrap();
    assert_eq!(death.verdict, Verdict::Failure);
    assert_eq!(death.reason, "not ready after 5s");
    assert_eq!(service.budget.consecutive, 1);
}

#[test]
fn extend_timeout_never_shortens_the_start() {
    let now = crate::testing::now();
    let (mut service, _) = spawned("[ready]\ncheck = \"notify\"", now);
    let shorter = vec![NotifyMessage::ExtendTimeout(Duration::from_millis(500))];
    assert!(service.on_notified(shorter, now).is_empty());
}

/// A hang reported while an administrator's stop is under way keeps the stop a stop.
#[test]
fn watchdog_trigger_during_a_stop_changes_nothing() {
    let now = crate::testing::now();
    let (mut service, _) = spawned("[watchdog]\ntimeout = \"5s\"", now);
    service.stop(AfterStop::Down, "stopped by request", now);
    let actions = service.on_notified(vec![NotifyMessage::WatchdogTrigger], now);
    assert!(signals(&actions).is_empty());
    die(&mut service, now);
    assert_eq!(service.state, State::Down);
    assert_eq!(service.deaths.back().unwrap().verdict, Verdict::Success);
}

#[test]
fn extend_timeout_moves_the_ready_deadline() {
    let now = crate::testing::now();
    let (mut service, _) = spawned("[ready]\ncheck = \"notify\"", now);
    let actions = service.on_notified(
        vec![NotifyMessage::ExtendTimeout(Duration::from_secs(300))],
        now,
    );
    assert_eq!(
        deadline_of(&actions, TimerKind::ReadyTimeout),
        Some(now + Duration::from_secs(300))
    );
}

const HEALTH: &str = "[health]\ncheck = \"http\"\nurl = \"http://127.0.0.1:8080/healthz\"\ninterval = \"1s\"\nfailure-threshold = 2";

#[test]
fn health_probes_begin_at_ready_and_judge_each_outcome() {
    let now = crate::testing::now();
    let (mut service, actions) = spawned(HEALTH, now);
    assert_eq!(service.state, State::Running);
    assert_eq!(
        deadline_of(&actions, TimerKind::Probe),
        Some(now + Duration::from_secs(1))
    );
    assert_eq!(
        service.watch.health.as_ref().map(|h| h.health()),
        Some(Health::Unknown)
    );
    let at = now + Duration::from_secs(1);
    assert!(started_probe(&service.on_timer(TimerKind::Probe, at)));
    let actions = service.on_probe_finished(Ok(Duration::from_millis(5)), at);
    assert_eq!(
        deadline_of(&actions, TimerKind::Probe),
        Some(at + Duration::from_secs(1))
    );
    let health: Vec<_> = service
        .take_transitions(at)
        .into_iter()
        .filter_map(|t| t.health)
        .collect();
    assert_eq!(health, vec![(Health::Unknown, Health::Healthy)]);
    // Two failures: unhealthy, stopped, and the death is a counted failure.
    for _ in 0..2 {
        service.on_timer(TimerKind::Probe, at);
        service.on_probe_finished(Err("HTTP 503".into()), at);
    }
    assert_eq!(service.state, State::Stopping);
    die(&mut service, at);
    let death = service.deaths.back().unwrap();
    assert_eq!(death.verdict, Verdict::Failure);
    assert_eq!(death.reason, "unhealthy (2 probe(s) failed: HTTP 503)");
    assert_eq!(
        service.state,
        State::Starting,
        "first failure after a good run"
    );
}

#[test]
fn on_unhealthy_none_only_reports() {
    let now = crate::testing::now();
    let (mut service, _) = spawned(&format!("{HEALTH}\non-unhealthy = \"none\""), now);
    for _ in 0..3 {
        service.on_timer(TimerKind::Probe, now);
        service.on_probe_finished(Err("HTTP 500".into()), now);
    }
    assert_eq!(service.state, State::Running);
    assert_eq!(
        service.watch.health.as_ref().map(|h| h.health()),
        Some(Health::Unhealthy)
    );
}

#[test]
fn an_exec_probe_is_a_child_with_a_kill_deadline() {
    let now = crate::testing::now();
    let (mut service, _) = spawned(
        "[health]\ncheck = \"exec\"\ncommand = [\"check\"]\ntimeout = \"2s\"\ninterval = \"1s\"",
        now,
    );
    let actions = service.on_timer(TimerKind::Probe, now);
    assert!(started_probe(&actions));
    assert_eq!(
        deadline_of(&actions, TimerKind::ProbeKill),
        Some(now + Duration::from_secs(2))
    );
    service.on_probe_spawned(200);
    let actions = service.on_timer(TimerKind::ProbeKill, now + Duration::from_secs(2));
    assert_eq!(signals(&actions), vec![Signal::KILL]);
    service.on_probe_exit(
        ExitStatus::Signal(Signal::KILL),
        now + Duration::from_secs(2),
    );
    assert_eq!(
        service.watch.health.as_ref().and_then(|h| h.last_failure()),
        Some("timed out after 2s")
    );
}

/// A probe program that cannot be run is a failed probe carrying the spawn's reason, and
/// the next probe is scheduled as after any other failure.
#[test]
fn an_exec_probe_that_cannot_start_is_a_failed_probe_with_its_reason() {
    let now = crate::testing::now();
    let (mut service, _) = spawned(
        "[health]\ncheck = \"exec\"\ncommand = [\"/nonexistent/probe\"]\ninterval = \"1s\"\n\
         failure-threshold = 1\non-unhealthy = \"none\"",
        now,
    );
    assert!(started_probe(&service.on_timer(TimerKind::Probe, now)));
    let error = SpawnError {
        pid: Some(200),
        errno: crate::core::ENOENT,
        message: "exec /nonexistent/probe: No such file or directory".into(),
    };
    let actions = service.on_probe_spawn_failed(&error, now);
    assert_eq!(
        deadline_of(&actions, TimerKind::Probe),
        Some(now + Duration::from_secs(1))
    );
    let health = service.watch.health.as_ref().unwrap();
    assert_eq!(health.health(), Health::Unhealthy);
    assert_eq!(health.last_failure(), Some(error.message.as_str()));
    assert_eq!(service.state, State::Running);
}

#[test]
fn a_probe_of_an_earlier_run_says_nothing_about_the_next() {
    let now = crate::testing::now();
    let (mut service, _) = spawned("[ready]\ncheck = \"exec\"\ncommand = [\"ready\"]", now);
    service.on_timer(TimerKind::Probe, now);
    service.on_probe_spawned(200);
    let actions = service.stop(AfterStop::Restart("restarting by request"), "test", now);
    assert!(!actions.is_empty());
    let actions = die(&mut service, now);
    assert!(
        signals(&actions).contains(&Signal::KILL),
        "the old probe is killed"
    );
    service.on_spawned(101, now);
    assert_eq!(service.state, State::Starting);
    service.on_probe_exit(ExitStatus::Code(0), now);
    assert_eq!(
        service.state,
        State::Starting,
        "the old probe's success is ignored"
    );
}

const WATCHDOG: &str = "[watchdog]\ntimeout = \"2s\"";

#[test]
fn watchdog_pings_keep_it_alive_and_silence_is_a_hang() {
    let now = crate::testing::now();
    let (mut service, actions) = spawned(WATCHDOG, now);
    assert_eq!(
        deadline_of(&actions, TimerKind::Watchdog),
        Some(now + Duration::from_secs(2))
    );
    let ping = now + Duration::from_secs(1);
    let actions = service.on_notified(vec![NotifyMessage::Watchdog], ping);
    assert_eq!(
        deadline_of(&actions, TimerKind::Watchdog),
        Some(ping + Duration::from_secs(2))
    );
    let silent = ping + Duration::from_secs(2);
    let actions = service.on_timer(TimerKind::Watchdog, silent);
    assert_eq!(signals(&actions), vec![Signal::ABRT, Signal::CONT]);
    die(&mut service, silent);
    assert_eq!(
        service.deaths.back().unwrap().reason,
        "hung (no heartbeat for 2s)"
    );
    assert_eq!(service.deaths.back().unwrap().verdict, Verdict::Failure);
}

#[test]
fn watchdog_trigger_is_a_hang_at_once() {
    let now = crate::testing::now();
    let (mut service, _) = spawned(&format!("{WATCHDOG}\nsignal = \"SIGQUIT\""), now);
    let actions = service.on_notified(vec![NotifyMessage::WatchdogTrigger], now);
    assert_eq!(signals(&actions), vec![Signal::QUIT, Signal::CONT]);
}

#[test]
fn a_heartbeat_file_is_aged_by_the_shell() {
    let now = crate::testing::now();
    let (mut service, _) = spawned(
        "[watchdog]\ntimeout = \"10s\"\nheartbeat-file = \"/run/beat\"",
        now,
    );
    let due = now + Duration::from_secs(10);
    let actions = service.on_timer(TimerKind::Watchdog, due);
    assert!(
        actions
            .iter()
            .any(|a| matches!(a, Action::CheckHeartbeat { .. }))
    );
    let actions = service.on_heartbeat(Ok(Duration::from_secs(3)), due);
    assert_eq!(
        deadline_of(&actions, TimerKind::Watchdog),
        Some(due + Duration::from_secs(7))
    );
    let actions = service.on_heartbeat(Ok(Duration::from_secs(12)), due);
    assert_eq!(signals(&actions), vec![Signal::ABRT, Signal::CONT]);
}

#[test]
fn the_spawn_carries_what_readiness_and_the_watchdog_need() {
    let service = Service::new(
        0,
        unit(
            "stale-files = [\"/run/svc.pid\"]\n[ready]\ncheck = \"fd\"\nfd = 5\n[watchdog]\ntimeout = \"1500ms\"",
        ),
    );
    let spec = spec::process_spec(&service);
    assert!(spec.notify_socket);
    assert_eq!(spec.readiness_fd, Some(5));
    assert_eq!(spec.watchdog_usec, Some(1_500_000));
    assert_eq!(
        spec.stale_files,
        vec![std::path::PathBuf::from("/run/svc.pid")]
    );
    let plain = spec::process_spec(&Service::new(0, unit("")));
    assert!(!plain.notify_socket && plain.readiness_fd.is_none() && plain.watchdog_usec.is_none());
}
