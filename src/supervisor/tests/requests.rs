//! The supervisor answering an administrator's requests and reloads: control commands,
//! a stop that outweighs a pull-in, a changed unit's fresh budget, trial starts counted.

use super::*;

#[test]
fn control_commands_act_and_reply() {
    use crate::control::protocol::{Reply, Request};
    let mut shell = Shell::boot(&[
        (
            "web",
            "command = \"web\"\n[restart]\nmax-failures = 1\non-exhausted = \"stop\"",
        ),
        ("db", "command = \"db\""),
    ]);
    let Reply::Status { services } = send_request(&mut shell, Request::Status { name: None })
    else {
        panic!()
    };
    assert_eq!(
        services
            .iter()
            .map(|s| (s.name.as_str(), s.state.as_str()))
            .collect::<Vec<_>>(),
        vec![("db", "running"), ("web", "running")]
    );
    let reply = send_request(&mut shell, Request::Stop { name: "db".into() });
    assert_eq!(
        reply,
        Reply::Ok {
            message: "stopping db".into()
        }
    );
    shell.die_on_signals();
    assert_eq!(
        shell.state("db"),
        State::Down,
        "a stopped service stays down"
    );
    send_request(&mut shell, Request::Start { name: "db".into() });
    assert_eq!(shell.state("db"), State::Running);
    shell.exit("web", ExitStatus::Code(1));
    assert_eq!(shell.state("web"), State::Failed);
    let Reply::Status { services } = send_request(
        &mut shell,
        Request::Status {
            name: Some("web".into()),
        },
    ) else {
        panic!()
    };
    assert_eq!(services[0].last_exit.as_deref(), Some("exit 1"));
    assert_eq!(services[0].deaths.as_ref().map(Vec::len), Some(1));
    send_request(&mut shell, Request::Start { name: "web".into() });
    assert_eq!(
        shell.state("web"),
        State::Running,
        "explicit start bypasses the exhausted budget"
    );
    let before = shell.pid_of("web");
    send_request(&mut shell, Request::Restart { name: "web".into() });
    shell.die_on_signals();
    assert_ne!(shell.pid_of("web"), before);
    let reply = send_request(
        &mut shell,
        Request::Signal {
            name: "web".into(),
            signal: "HUP".into(),
        },
    );
    assert!(matches!(reply, Reply::Ok { .. }));
    assert!(matches!(
        send_request(
            &mut shell,
            Request::Signal {
                name: "web".into(),
                signal: "BOGUS".into()
            }
        ),
        Reply::Error { .. }
    ));
    assert!(
        matches!(send_request(&mut shell, Request::Start { name: "nope".into() }), Reply::Error { message } if message.contains("unknown service 'nope'"))
    );
    send_request(&mut shell, Request::Shutdown);
    assert!(matches!(
        send_request(&mut shell, Request::Start { name: "db".into() }),
        Reply::Error { .. }
    ));
}

#[test]
fn an_administrators_stop_outweighs_a_requires_pull_in() {
    use crate::control::protocol::Request;
    let mut shell = Shell::boot(&[
        ("db", "command = \"db\""),
        ("web", "command = \"web\"\nrequires = [\"db\"]"),
    ]);
    send_request(&mut shell, Request::Stop { name: "db".into() });
    shell.die_on_signals();
    shell.die_on_signals();
    assert_eq!(shell.state("db"), State::Down);
    assert_eq!(
        shell.state("web"),
        State::Down,
        "web follows db down and waits"
    );
    send_request(&mut shell, Request::Start { name: "db".into() });
    assert_eq!(shell.state("db"), State::Running);
    assert_eq!(shell.state("web"), State::Running);
}

/// A changed unit starts with a fresh budget and a closed circuit, even from cooldown.
#[test]
fn issue_8_a_changed_unit_in_cooldown_restarts_at_once_with_a_closed_circuit() {
    let flaky = "command = \"flaky\"\n[restart]\nmax-failures = 1\ncooldown = \"1h\"";
    let mut shell = Shell::boot(&[("flaky", flaky)]);
    shell.exit("flaky", ExitStatus::Code(1));
    assert_eq!(shell.state("flaky"), State::Cooldown);
    let changed = "command = \"flaky2\"\n[restart]\nmax-failures = 1\ncooldown = \"1h\"";
    shell.send(Event::UnitsLoaded(Box::new(units(&[("flaky", changed)]))));
    assert_eq!(shell.state("flaky"), State::Running);
    let service = shell.supervisor.service("flaky").unwrap();
    assert_eq!(service.budget.circuit, Circuit::Closed);
    assert_eq!(shell.started.iter().filter(|n| *n == "flaky").count(), 2);
}

#[test]
fn issue_8_trial_starts_count_as_restarts() {
    let flaky = "command = \"flaky\"\n[restart]\nmax-failures = 1\ncooldown = \"1m\"";
    let mut shell = Shell::boot(&[("flaky", flaky)]);
    shell.exit("flaky", ExitStatus::Code(1));
    let timer = shell
        .supervisor
        .service("flaky")
        .unwrap()
        .timer(TimerKind::Restart);
    shell.now += Duration::from_secs(61);
    shell.send(Event::TimerFired { timer });
    assert_eq!(shell.state("flaky"), State::Running);
    assert_eq!(shell.supervisor.service("flaky").unwrap().restarts, 1);
}
