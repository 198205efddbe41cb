//! The supervisor while a service's leftover process group is being ended: restarts,
//! requests, reloads and shutdown wait for the group to be empty.

use super::*;

/// The StopKill timer of the service at `index` fires.
fn fire_stop_kill(shell: &mut Shell, index: usize) {
    let timer = TimerKind::StopKill.id(index);
    let deadline = shell.timers.remove(&timer).expect("StopKill is armed");
    shell.now = shell.now.max(deadline);
    shell.send(Event::TimerFired { timer });
}

const WORKER: &str = "command = \"w\"\n[restart]\ndelay = \"100ms\"\nmax-failures = 100";

#[test]
fn leftovers_delay_the_restart_until_the_group_is_empty() {
    let mut shell = Shell::boot(&[("worker", WORKER)]);
    let pid = shell.pid_of("worker").unwrap();
    shell.groups.insert(pid, 2);
    shell.exit("worker", ExitStatus::Code(1));
    assert_eq!(shell.state("worker"), State::Stopping);
    assert_eq!(shell.checked, vec![(pid, Some(Signal::TERM))]);
    assert!(shell.timers.contains_key(&TimerKind::StopKill.id(0)));
    shell.leftover_dies(pid);
    assert_eq!(
        shell.checked.last(),
        Some(&(pid, None)),
        "a drain counts again"
    );
    assert_eq!(shell.state("worker"), State::Stopping);
    shell.leftover_dies(pid);
    assert_eq!(shell.state("worker"), State::Backoff);
    assert!(!shell.timers.contains_key(&TimerKind::StopKill.id(0)));
    assert_eq!(shell.started, vec!["worker"]);
    shell.now += Duration::from_millis(100);
    shell.send(Event::TimerFired {
        timer: TimerKind::Restart.id(0),
    });
    assert_eq!(shell.started, vec!["worker", "worker"]);
    assert!(!shell.spawned_over_leftovers);
}

#[test]
fn an_empty_group_restarts_as_before() {
    let mut shell = Shell::boot(&[("worker", WORKER)]);
    let pid = shell.pid_of("worker").unwrap();
    shell.exit("worker", ExitStatus::Code(1));
    assert_eq!(shell.checked, vec![(pid, Some(Signal::TERM))]);
    assert_eq!(shell.state("worker"), State::Backoff);
}

#[test]
fn stop_kill_while_sweeping_kills_the_group() {
    let mut shell = Shell::boot(&[("worker", WORKER)]);
    let pid = shell.pid_of("worker").unwrap();
    shell.groups.insert(pid, 1);
    shell.exit("worker", ExitStatus::Code(1));
    fire_stop_kill(&mut shell, 0);
    assert!(shell.checked.contains(&(pid, Some(Signal::KILL))));
    assert_eq!(shell.state("worker"), State::Backoff);
    assert!(shell.groups.is_empty());
}

#[test]
fn stop_mode_process_leaves_the_group_alone() {
    let text = format!("{WORKER}\n[stop]\nmode = \"process\"");
    let mut shell = Shell::boot(&[("worker", &text)]);
    let pid = shell.pid_of("worker").unwrap();
    shell.groups.insert(pid, 1);
    shell.exit("worker", ExitStatus::Code(1));
    assert!(shell.checked.is_empty());
    assert_eq!(shell.state("worker"), State::Backoff);
}

#[test]
fn requests_during_a_sweep_apply_once_the_group_is_empty() {
    use crate::control::protocol::Request;
    let stop = Request::Stop {
        name: "worker".into(),
    };
    let restart = Request::Restart {
        name: "worker".into(),
    };
    let start = Request::Start {
        name: "worker".into(),
    };
    // (request, state once the group is empty, programs started in all)
    let rows = [
        (stop, State::Down, 1),
        (restart, State::Running, 2),
        (start, State::Running, 2),
    ];
    for (request, state, starts) in rows {
        let mut shell = Shell::boot(&[("worker", WORKER)]);
        let pid = shell.pid_of("worker").unwrap();
        shell.groups.insert(pid, 1);
        shell.exit("worker", ExitStatus::Code(1));
        send_request(&mut shell, request);
        assert_eq!(shell.started.len(), 1, "no second start while sweeping");
        assert_eq!(shell.state("worker"), State::Stopping);
        shell.leftover_dies(pid);
        assert_eq!(shell.state("worker"), state);
        assert_eq!(shell.started.len(), starts);
    }
}

#[test]
fn shutdown_waits_for_a_sweep_then_for_the_dependency() {
    let mut shell = Shell::boot(&[
        ("db", "command = \"db\""),
        ("web", "command = \"web\"\nrequires = [\"db\"]"),
    ]);
    let web = shell.pid_of("web").unwrap();
    let db = shell.pid_of("db").unwrap();
    shell.groups.insert(web, 1);
    shell.send(Event::Signal {
        signal: Signal::TERM,
        from_self: false,
    });
    shell.die_on_signals();
    assert_eq!(shell.state("web"), State::Stopping, "its leftover lives on");
    assert_eq!(
        shell.checked,
        vec![(web, None)],
        "the stop signalled it already"
    );
    assert!(
        !shell.signalled.iter().any(|(t, _)| *t == Target::Group(db)),
        "db waits for web's whole group"
    );
    shell.leftover_dies(web);
    assert!(shell.signalled.contains(&(Target::Group(db), Signal::TERM)));
    assert_eq!(shell.exit, None);
    shell.die_on_signals();
    assert_eq!(shell.exit, Some(0));
}

#[test]
fn shutdown_ends_once_the_last_sweep_does() {
    let mut shell = Shell::boot(&[("worker", WORKER)]);
    let pid = shell.pid_of("worker").unwrap();
    shell.groups.insert(pid, 1);
    shell.exit("worker", ExitStatus::Code(1));
    shell.send(Event::Signal {
        signal: Signal::TERM,
        from_self: false,
    });
    assert_eq!(shell.exit, None);
    // The drain that reaped the last leftover came before the check that found the group
    // empty; no later drain is due, so the shutdown must not wait for one.
    shell.leftover_dies(pid);
    assert_eq!(shell.exit, Some(0));
}

#[test]
fn a_reload_during_a_sweep_restarts_with_the_new_definition_once_it_is_over() {
    let mut shell = Shell::boot(&[("worker", WORKER)]);
    let pid = shell.pid_of("worker").unwrap();
    shell.groups.insert(pid, 1);
    shell.exit("worker", ExitStatus::Code(1));
    let changed = format!("description = \"changed\"\n{WORKER}");
    shell.send(Event::UnitsLoaded(Box::new(units(&[("worker", &changed)]))));
    assert_eq!(shell.started.len(), 1, "no second start while sweeping");
    shell.leftover_dies(pid);
    assert_eq!(
        shell.state("worker"),
        State::Running,
        "at once, not after a backoff"
    );
    let service = shell.supervisor.service("worker").unwrap();
    assert_eq!(service.unit.description.as_deref(), Some("changed"));
}
