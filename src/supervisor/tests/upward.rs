//! What the supervisor tells the service manager above it: `READY=1` once every wanted
//! service has settled, `STATUS=` on each change of the summary, `STOPPING=1` at shutdown.

use super::*;
use crate::notify::NotifyMessage;
use crate::service::{SpawnKind, spawn_token};

const NOTIFY_DB: &str = "command = \"db\"\n[ready]\ncheck = \"notify\"";

fn ready_count(shell: &Shell) -> usize {
    shell.upward.iter().filter(|m| *m == "READY=1").count()
}

fn statuses(shell: &Shell) -> Vec<&str> {
    shell
        .upward
        .iter()
        .filter_map(|m| m.strip_prefix("STATUS="))
        .collect()
}

fn notify_ready(shell: &mut Shell, name: &str) {
    let index = shell
        .supervisor
        .services()
        .iter()
        .position(|s| s.name() == name)
        .unwrap();
    shell.send(Event::Notified {
        token: spawn_token(index, SpawnKind::Program),
        messages: vec![NotifyMessage::Ready],
    });
}

#[test]
fn ready_waits_for_a_service_that_is_not_ready_yet() {
    let mut shell = Shell::boot(&[("db", NOTIFY_DB), ("web", "command = \"web\"")]);
    assert_eq!(shell.state("db"), State::Starting);
    assert_eq!(ready_count(&shell), 0, "{:?}", shell.upward);
    notify_ready(&mut shell, "db");
    assert_eq!(ready_count(&shell), 1, "{:?}", shell.upward);
    assert_eq!(statuses(&shell).last(), Some(&"2 services: 2 running"));
}

#[test]
fn ready_is_sent_once() {
    let mut shell = Shell::boot(&[("web", "command = \"web\"")]);
    assert_eq!(ready_count(&shell), 1);
    shell.exit("web", ExitStatus::Code(1));
    let timers: Vec<TimerId> = shell.timers.keys().copied().collect();
    for timer in timers {
        shell.send(Event::TimerFired { timer });
    }
    assert_eq!(shell.state("web"), State::Running);
    assert_eq!(ready_count(&shell), 1, "{:?}", shell.upward);
}

#[test]
fn a_failed_oneshot_settles_and_its_dependent_is_given_up_on() {
    let mut shell = Shell::boot(&[
        ("setup", "kind = \"oneshot\"\ncommand = \"false\""),
        ("web", "command = \"web\"\nrequires = [\"setup\"]"),
    ]);
    assert_eq!(ready_count(&shell), 0);
    shell.exit("setup", ExitStatus::Code(1));
    assert_eq!(shell.state("web"), State::Down);
    assert_eq!(ready_count(&shell), 1, "{:?}", shell.upward);
}

#[test]
fn status_follows_each_change_and_repeats_nothing() {
    let mut shell = Shell::boot(&[("db", NOTIFY_DB)]);
    assert_eq!(statuses(&shell), ["1 service: 1 starting"]);
    notify_ready(&mut shell, "db");
    let drained = shell.drained();
    shell.send(drained);
    assert_eq!(
        statuses(&shell),
        ["1 service: 1 starting", "1 service: 1 running"]
    );
}

#[test]
fn stopping_is_sent_once_when_shutdown_begins_and_ready_never_after() {
    let mut shell = Shell::boot(&[("db", NOTIFY_DB)]);
    for _ in 0..2 {
        shell.send(Event::Signal {
            signal: Signal::TERM,
            from_self: false,
        });
    }
    let stopping = shell.upward.iter().filter(|m| *m == "STOPPING=1").count();
    assert_eq!(stopping, 1, "{:?}", shell.upward);
    shell.die_on_signals();
    assert_eq!(ready_count(&shell), 0, "{:?}", shell.upward);
    assert_eq!(statuses(&shell).last(), Some(&"1 service: 1 down"));
}

#[test]
fn the_summary_counts_states_in_table_order_invalid_units_as_failed() {
    let shell = Shell::boot(&[("a", "command = \"a\""), ("b", NOTIFY_DB)]);
    let services = shell.supervisor.services().iter();
    assert_eq!(
        crate::supervisor::upward::summary(services, 1),
        "3 services: 1 starting, 1 running, 1 failed"
    );
    assert_eq!(
        crate::supervisor::upward::summary(std::iter::empty(), 0),
        "0 services"
    );
}
