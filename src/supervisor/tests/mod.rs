//! The supervisor driven by a simulated shell: spawns succeed at once with fresh pids,
//! kills are recorded, timers are collected. Table tests for the orchestration, proptest
//! for invariants over random event sequences.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::{Duration, Instant};

use super::*;

mod invariants;
use crate::unit::parse_unit;

pub(super) struct Shell {
    pub(super) supervisor: Supervisor,
    pub(super) now: Instant,
    next_pid: Pid,
    /// pid → service name, for live processes.
    pub(super) live: BTreeMap<Pid, String>,
    pub(super) timers: HashMap<TimerId, Instant>,
    started: Vec<String>,
    signalled: Vec<(Target, Signal)>,
    pub(super) exit: Option<u8>,
    pub(super) spawned_after_shutdown: bool,
    replies: Vec<crate::control::protocol::Reply>,
}

fn units(texts: &[(&str, &str)]) -> LoadReport {
    let units = texts
        .iter()
        .map(|(name, text)| parse_unit(name, Path::new("x.toml"), text).unwrap())
        .collect();
    LoadReport {
        units,
        ..LoadReport::default()
    }
}

fn config() -> SupervisorConfig {
    SupervisorConfig {
        settings: Settings::default(),
        signal_group: false,
        success_codes: vec![],
        warn_on_reap: false,
    }
}

impl Shell {
    pub(super) fn boot(texts: &[(&str, &str)]) -> Shell {
        Shell::boot_with(units(texts), None)
    }

    fn boot_with(report: LoadReport, command: Option<Unit>) -> Shell {
        let mut shell = Shell {
            supervisor: Supervisor::new(config(), report, command, Vec::new()),
            now: crate::testing::now(),
            next_pid: 100,
            live: BTreeMap::new(),
            timers: HashMap::new(),
            started: Vec::new(),
            signalled: Vec::new(),
            exit: None,
            spawned_after_shutdown: false,
            replies: Vec::new(),
        };
        let actions = shell.supervisor.start(shell.now);
        shell.perform(actions);
        shell
    }

    fn perform(&mut self, actions: Vec<Action>) {
        let mut queue: Vec<Event> = Vec::new();
        for action in actions {
            match action {
                Action::Spawn { token, spec } => {
                    if self.supervisor.shutting_down {
                        self.spawned_after_shutdown = true;
                    }
                    self.next_pid += 1;
                    self.live.insert(self.next_pid, spec.name.clone());
                    self.started.push(spec.name);
                    queue.push(Event::Spawned {
                        token,
                        pid: self.next_pid,
                    });
                }
                Action::Signal { target, signal } => self.signalled.push((target, signal)),
                Action::ArmTimer { timer, deadline } => {
                    self.timers.insert(timer, deadline);
                }
                Action::CancelTimer { timer } => {
                    self.timers.remove(&timer);
                }
                Action::Exit { code } => self.exit = Some(code),
                Action::Reply { reply, .. } => self.replies.push(reply),
                Action::LoadUnits | Action::SaveState(_) | Action::Record(_) => {}
            }
        }
        for event in queue {
            self.send(event);
        }
    }

    pub(super) fn send(&mut self, event: Event) {
        let actions = self.supervisor.step(event, self.now);
        self.perform(actions);
    }

    pub(super) fn pid_of(&self, name: &str) -> Option<Pid> {
        self.live
            .iter()
            .find(|(_, n)| n.as_str() == name)
            .map(|(pid, _)| *pid)
    }

    fn exit(&mut self, name: &str, status: ExitStatus) {
        let pid = self
            .pid_of(name)
            .unwrap_or_else(|| panic!("{name} is not running"));
        self.live.remove(&pid);
        self.send(Event::Exited { pid, status });
        let children_remain = !self.live.is_empty();
        self.send(Event::Drained { children_remain });
    }

    /// Lets every signalled service die, as a cooperative service would.
    fn die_on_signals(&mut self) {
        let targets: Vec<Pid> = self
            .signalled
            .drain(..)
            .filter_map(|(target, _)| match target {
                Target::Group(pid) | Target::Process(pid) => Some(pid),
                Target::Everything | Target::EverythingOutside(_) => None,
            })
            .collect();
        for pid in targets {
            if let Some(name) = self.live.get(&pid).cloned() {
                self.exit(&name, ExitStatus::Signal(Signal::TERM));
            }
        }
    }

    fn state(&self, name: &str) -> State {
        self.supervisor.service(name).unwrap().state
    }
}

#[test]
fn starts_in_dependency_order_gated_by_oneshots() {
    let mut shell = Shell::boot(&[
        ("setup", "kind = \"oneshot\"\ncommand = \"true\""),
        ("db", "command = \"db\"\nafter = [\"setup\"]"),
        ("web", "command = \"web\"\nrequires = [\"db\"]"),
    ]);
    assert_eq!(shell.started, vec!["setup"]);
    shell.exit("setup", ExitStatus::Code(0));
    assert_eq!(shell.started, vec!["setup", "db", "web"]);
    assert_eq!(shell.state("setup"), State::Exited);
}

#[test]
fn a_failed_oneshot_blocks_its_dependents() {
    let mut shell = Shell::boot(&[
        ("setup", "kind = \"oneshot\"\ncommand = \"false\""),
        ("web", "command = \"web\"\nafter = [\"setup\"]"),
    ]);
    shell.exit("setup", ExitStatus::Code(1));
    assert_eq!(shell.state("setup"), State::Failed);
    assert_eq!(shell.state("web"), State::Down);
    assert_eq!(shell.started, vec!["setup"]);
}

#[test]
fn requires_stops_and_restarts_dependents() {
    let mut shell = Shell::boot(&[
        ("db", "command = \"db\""),
        ("web", "command = \"web\"\nrequires = [\"db\"]"),
    ]);
    shell.now += Duration::from_secs(10);
    shell.exit("db", ExitStatus::Code(1));
    // db restarted at once (it ran well); web was told to stop.
    assert_eq!(shell.state("web"), State::Stopping);
    shell.die_on_signals();
    assert_eq!(shell.state("web"), State::Running);
    assert_eq!(shell.started, vec!["db", "web", "db", "web"]);
}

#[test]
fn disabled_units_start_only_when_pulled_in() {
    let shell = Shell::boot(&[
        ("cache", "command = \"cache\"\nenabled = false"),
        ("spare", "command = \"spare\"\nenabled = false"),
        ("web", "command = \"web\"\nwants = [\"cache\"]"),
    ]);
    let mut started = shell.started.clone();
    started.sort();
    assert_eq!(started, vec!["cache", "web"]);
}

#[test]
fn shutdown_stops_in_reverse_order_then_exits() {
    let mut shell = Shell::boot(&[
        ("db", "command = \"db\""),
        ("web", "command = \"web\"\nrequires = [\"db\"]"),
    ]);
    let web = shell.pid_of("web").unwrap();
    let db = shell.pid_of("db").unwrap();
    shell.send(Event::Signal {
        signal: Signal::TERM,
        from_self: false,
    });
    assert_eq!(shell.signalled[0], (Target::Group(web), Signal::TERM));
    assert!(
        !shell.signalled.iter().any(|(t, _)| *t == Target::Group(db)),
        "db waits for web"
    );
    shell.die_on_signals();
    assert!(shell.signalled.contains(&(Target::Group(db), Signal::TERM)));
    shell.die_on_signals();
    assert_eq!(shell.exit, Some(0));
    assert!(!shell.spawned_after_shutdown);
}

#[test]
fn main_service_exit_ends_the_run_with_its_status() {
    let mut shell = Shell::boot(&[
        ("db", "command = \"db\""),
        ("app", "command = \"app\"\nmain = true\nafter = [\"db\"]"),
    ]);
    shell.exit("app", ExitStatus::Code(3));
    shell.die_on_signals();
    assert_eq!(shell.exit, Some(3));
}

#[test]
fn command_main_waits_for_services_and_gets_forwarded_signals() {
    let mut shell = Shell::boot_with(
        units(&[("setup", "kind = \"oneshot\"\ncommand = \"true\"")]),
        Some(command_unit(vec!["/usr/bin/app".into(), "-x".into()])),
    );
    assert_eq!(shell.started, vec!["setup"]);
    shell.exit("setup", ExitStatus::Code(0));
    assert_eq!(shell.started, vec!["setup", "app"]);
    let app = shell.pid_of("app").unwrap();
    shell.send(Event::Signal {
        signal: Signal::USR1,
        from_self: false,
    });
    assert_eq!(shell.signalled, vec![(Target::Process(app), Signal::USR1)]);
}

#[test]
fn escalation_exits_with_the_service_status() {
    let mut shell = Shell::boot(&[(
        "core",
        "command = \"core\"\ncritical = true\n[restart]\nmax-failures = 1",
    )]);
    shell.exit("core", ExitStatus::Code(9));
    assert_eq!(shell.exit, Some(9));
}

#[test]
fn reload_starts_new_stops_removed_restarts_changed() {
    let mut shell = Shell::boot(&[
        ("a", "command = \"a\""),
        ("b", "command = \"b\""),
        ("c", "command = \"c\""),
    ]);
    let a = shell.pid_of("a").unwrap();
    let mut report = units(&[
        ("a", "command = \"a\""),
        ("b", "command = \"b2\""),
        ("d", "command = \"d\""),
    ]);
    report.invalid.push((
        "e".into(),
        UnitError {
            path: "e.toml".into(),
            line: Some(1),
            column: Some(1),
            message: "bad".into(),
        },
    ));
    shell.send(Event::UnitsLoaded(Box::new(report)));
    shell.die_on_signals();
    assert_eq!(shell.pid_of("a"), Some(a), "unchanged a untouched");
    assert_eq!(shell.state("c"), State::Down);
    assert_eq!(shell.state("d"), State::Running);
    assert_eq!(shell.state("b"), State::Running);
    assert_eq!(shell.started.iter().filter(|n| *n == "b").count(), 2);
    assert!(shell.supervisor.invalid_units().contains_key("e"));
}

#[test]
fn an_invalid_new_definition_keeps_the_old_one() {
    let mut shell = Shell::boot(&[("a", "command = \"a\"")]);
    let a = shell.pid_of("a").unwrap();
    let mut report = LoadReport::default();
    report.invalid.push((
        "a".into(),
        UnitError {
            path: "a.toml".into(),
            line: Some(2),
            column: Some(1),
            message: "bad".into(),
        },
    ));
    shell.send(Event::UnitsLoaded(Box::new(report)));
    assert_eq!(shell.pid_of("a"), Some(a));
    assert_eq!(shell.state("a"), State::Running);
}

#[test]
fn shutdown_cap_kills_everything() {
    let mut shell = Shell::boot(&[("stubborn", "command = \"x\"\n[stop]\ntimeout = \"1h\"")]);
    shell.send(Event::Signal {
        signal: Signal::TERM,
        from_self: false,
    });
    shell.now += Duration::from_secs(9);
    shell.send(Event::TimerFired {
        timer: SHUTDOWN_CAP_TIMER,
    });
    assert!(
        shell
            .signalled
            .contains(&(Target::Everything, Signal::KILL))
    );
    shell.live.clear();
    shell.send(Event::Drained {
        children_remain: false,
    });
    assert_eq!(shell.exit, Some(0));
}

fn control(
    shell: &mut Shell,
    request: crate::control::protocol::Request,
) -> crate::control::protocol::Reply {
    shell.send(Event::Control { client: 7, request });
    shell.replies.pop().unwrap()
}

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
    let Reply::Status { services } = control(&mut shell, Request::Status { name: None }) else {
        panic!()
    };
    assert_eq!(
        services
            .iter()
            .map(|s| (s.name.as_str(), s.state.as_str()))
            .collect::<Vec<_>>(),
        vec![("db", "running"), ("web", "running")]
    );
    let reply = control(&mut shell, Request::Stop { name: "db".into() });
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
    control(&mut shell, Request::Start { name: "db".into() });
    assert_eq!(shell.state("db"), State::Running);
    shell.exit("web", ExitStatus::Code(1));
    assert_eq!(shell.state("web"), State::Failed);
    let Reply::Status { services } = control(
        &mut shell,
        Request::Status {
            name: Some("web".into()),
        },
    ) else {
        panic!()
    };
    assert_eq!(services[0].last_exit.as_deref(), Some("exit 1"));
    assert_eq!(services[0].deaths.as_ref().map(Vec::len), Some(1));
    control(&mut shell, Request::Start { name: "web".into() });
    assert_eq!(
        shell.state("web"),
        State::Running,
        "explicit start bypasses the exhausted budget"
    );
    let before = shell.pid_of("web");
    control(&mut shell, Request::Restart { name: "web".into() });
    shell.die_on_signals();
    assert_ne!(shell.pid_of("web"), before);
    let reply = control(
        &mut shell,
        Request::Signal {
            name: "web".into(),
            signal: "HUP".into(),
        },
    );
    assert!(matches!(reply, Reply::Ok { .. }));
    assert!(matches!(
        control(
            &mut shell,
            Request::Signal {
                name: "web".into(),
                signal: "BOGUS".into()
            }
        ),
        Reply::Error { .. }
    ));
    assert!(
        matches!(control(&mut shell, Request::Start { name: "nope".into() }), Reply::Error { message } if message.contains("unknown service 'nope'"))
    );
    control(&mut shell, Request::Shutdown);
    assert!(matches!(
        control(&mut shell, Request::Start { name: "db".into() }),
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
    control(&mut shell, Request::Stop { name: "db".into() });
    shell.die_on_signals();
    shell.die_on_signals();
    assert_eq!(shell.state("db"), State::Down);
    assert_eq!(
        shell.state("web"),
        State::Down,
        "web follows db down and waits"
    );
    control(&mut shell, Request::Start { name: "db".into() });
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
