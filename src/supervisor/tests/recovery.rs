//! The recovery that involves more than one service, in the supervisor: the
//! `restart-dependencies` step and the supervision groups.

use super::*;
use crate::unit::{GroupConfig, Strategy};

/// Fires the timer of `kind` for `name`'s service, moving the clock to its deadline.
fn fire(shell: &mut Shell, name: &str, kind: TimerKind) {
    let index = shell.supervisor.service(name).unwrap().index;
    let timer = kind.id(index);
    let deadline = shell.timers.remove(&timer).expect("the timer is armed");
    shell.now = shell.now.max(deadline);
    shell.send(Event::TimerFired { timer });
}

const STOP_BY_PROCESS: &str = "[stop]\nmode = \"process\"\n";

#[test]
fn restart_dependencies_restarts_them_and_starts_the_service_once_they_are_back() {
    let web = format!(
        "command = \"web\"\nrequires = [\"db\"]\n[restart]\nmax-failures = 1\n[recovery]\nsteps = [\"restart-dependencies\"]\nverify = \"1s\"\n{STOP_BY_PROCESS}"
    );
    let db = format!("command = \"db\"\n{STOP_BY_PROCESS}");
    let mut shell = Shell::boot(&[("db", &db), ("web", &web)]);
    let db_before = shell.pid_of("db");
    shell.exit("web", ExitStatus::Code(1));
    // db got its stop signal; web waits for it, down.
    assert_eq!(shell.state("db"), State::Stopping);
    assert_eq!(shell.state("web"), State::Down);
    shell.die_on_signals();
    assert_ne!(shell.pid_of("db"), db_before, "db runs again");
    assert_eq!(shell.state("web"), State::Recovering);
    fire(&mut shell, "web", TimerKind::Verify);
    assert_eq!(shell.state("web"), State::Running);
    let incident = shell.incidents.last().unwrap();
    assert_eq!(incident.outcome, Some(crate::recovery::Outcome::Recovered));
}

fn group_shell(strategy: Strategy, max_failures: u32) -> Shell {
    let member = |name: &str, after: &str| {
        format!(
            "command = \"{name}\"\nafter = [{after}]\nsupervision-group = \"pay\"\n[restart]\ndelay = \"1s\"\n{STOP_BY_PROCESS}"
        )
    };
    let texts = [
        ("a".to_string(), member("a", "")),
        ("b".to_string(), member("b", "\"a\"")),
        ("c".to_string(), member("c", "\"b\"")),
    ];
    let texts: Vec<(&str, &str)> = texts
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let mut config = config();
    config.settings.groups.insert(
        "pay".to_string(),
        GroupConfig {
            strategy,
            max_failures,
            ..GroupConfig::default()
        },
    );
    let mut shell = Shell::boot(&texts);
    shell.supervisor = Supervisor::new(config, units(&texts), None, Default::default());
    shell.live.clear();
    let actions = shell.supervisor.start(shell.now);
    shell.perform(actions);
    shell.deliver([]);
    shell
}

#[test]
fn strategies_restart_the_members_they_name() {
    for (strategy, failed, restarted) in [
        (Strategy::OneForOne, "b", vec![]),
        (Strategy::OneForAll, "b", vec!["a", "c"]),
        (Strategy::RestForOne, "b", vec!["c"]),
    ] {
        let mut shell = group_shell(strategy, 5);
        shell.signalled.clear();
        shell.exit(failed, ExitStatus::Code(1));
        let stopped: Vec<String> = shell
            .signalled
            .iter()
            .filter(|(_, signal)| *signal == Signal::TERM)
            .filter_map(|(target, _)| match target {
                Target::Process(pid) => shell.live.get(pid).cloned(),
                _ => None,
            })
            .collect();
        assert_eq!(stopped, restarted, "{strategy:?}");
    }
}

#[test]
fn an_exhausted_group_escalates_with_the_failing_members_status() {
    let mut shell = group_shell(Strategy::OneForOne, 2);
    shell.exit("a", ExitStatus::Code(4));
    assert!(!shell.supervisor.shutting_down);
    shell.exit("c", ExitStatus::Code(5));
    assert!(shell.supervisor.shutting_down, "escalation ends the run");
    assert_eq!(shell.supervisor.exit_code, 5);
}
