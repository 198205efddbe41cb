//! The supervisor driven by a simulated shell: spawns succeed at once with fresh pids,
//! kills are recorded, timers are collected, process groups hold the leftovers a test puts
//! there. Events are queued as the event loop queues them: a spawn's or a group check's
//! answer after whatever was already waiting. Table tests for the orchestration, proptest
//! for invariants over random event sequences.

use std::collections::{BTreeMap, HashMap, VecDeque};
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
    /// Leftover processes (besides the program itself) per process group.
    pub(super) groups: BTreeMap<Pid, usize>,
    /// Each service's latest program, whose pid is its process group.
    pub(super) group_of: HashMap<String, Pid>,
    /// A program or `finish` was spawned while the last program's group had leftovers.
    pub(super) spawned_over_leftovers: bool,
    checked: Vec<(Pid, Option<Signal>)>,
    queue: VecDeque<Event>,
    /// tcp/http probes in flight, by probe id.
    pub(super) probes: std::collections::BTreeSet<u64>,
    /// A probe was started while another of the same service was in flight.
    pub(super) double_probe: bool,
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
            groups: BTreeMap::new(),
            group_of: HashMap::new(),
            spawned_over_leftovers: false,
            probes: Default::default(),
            double_probe: false,
            checked: Vec::new(),
            queue: VecDeque::new(),
        };
        let actions = shell.supervisor.start(shell.now);
        shell.perform(actions);
        shell.deliver([]);
        shell
    }

    fn perform(&mut self, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Spawn { token, spec } => {
                    if self.supervisor.shutting_down {
                        self.spawned_after_shutdown = true;
                    }
                    let service = spec.name.trim_end_matches("/finish").to_string();
                    let group = self.group_of.get(&service);
                    if group.is_some_and(|pgid| self.groups.get(pgid).is_some_and(|&n| n > 0)) {
                        self.spawned_over_leftovers = true;
                    }
                    self.next_pid += 1;
                    if service == spec.name {
                        self.group_of.insert(service, self.next_pid);
                    }
                    self.live.insert(self.next_pid, spec.name.clone());
                    self.started.push(spec.name);
                    self.queue.push_back(Event::Spawned {
                        token,
                        pid: self.next_pid,
                    });
                }
                Action::Signal { target, signal } => {
                    if signal == Signal::KILL {
                        self.kill_leftovers(target);
                    }
                    self.signalled.push((target, signal));
                }
                Action::CheckGroup {
                    token,
                    pgid,
                    signal,
                } => {
                    self.checked.push((pgid, signal));
                    let mut members = self.groups.get(&pgid).copied().unwrap_or(0);
                    members += usize::from(self.live.contains_key(&pgid));
                    if signal == Some(Signal::KILL) {
                        self.kill_leftovers(Target::Group(pgid));
                    }
                    self.queue.push_back(Event::GroupChecked {
                        token,
                        pgid,
                        members,
                    });
                }
                Action::ArmTimer { timer, deadline } => {
                    self.timers.insert(timer, deadline);
                }
                Action::CancelTimer { timer } => {
                    self.timers.remove(&timer);
                }
                Action::Exit { code } => self.exit = Some(code),
                Action::Reply { reply, .. } => self.replies.push(reply),
                Action::StartProbe { probe, .. } => {
                    if self.supervisor.shutting_down {
                        self.spawned_after_shutdown = true;
                    }
                    self.double_probe |= !self.probes.insert(probe);
                }
                Action::CancelProbe { probe } => {
                    self.probes.remove(&probe);
                }
                Action::LoadUnits
                | Action::SaveState(_)
                | Action::Record(_)
                | Action::CheckHeartbeat { .. } => {}
            }
        }
    }

    /// SIGKILL ends a group's leftovers; Phoenix reaps them, so a drain follows.
    fn kill_leftovers(&mut self, target: Target) {
        let killed = match target {
            Target::Group(pgid) => self.groups.remove(&pgid).is_some_and(|n| n > 0),
            Target::Everything | Target::EverythingOutside(_) => {
                !std::mem::take(&mut self.groups).is_empty()
            }
            Target::Process(_) => false,
        };
        if killed {
            self.queue.push_back(self.drained());
        }
    }

    pub(super) fn drained(&self) -> Event {
        Event::Drained {
            children_remain: !self.live.is_empty() || self.groups.values().any(|&n| n > 0),
        }
    }

    /// Queues the events, then runs until nothing is left to do.
    pub(super) fn deliver(&mut self, events: impl IntoIterator<Item = Event>) {
        self.queue.extend(events);
        while let Some(event) = self.queue.pop_front() {
            let actions = self.supervisor.step(event, self.now);
            self.perform(actions);
        }
    }

    pub(super) fn send(&mut self, event: Event) {
        self.deliver([event]);
    }

    /// One leftover of the group `pgid` dies and is reaped.
    pub(super) fn leftover_dies(&mut self, pgid: Pid) {
        if let Some(members) = self.groups.get_mut(&pgid) {
            *members = members.saturating_sub(1);
            if *members == 0 {
                self.groups.remove(&pgid);
            }
        }
        let drained = self.drained();
        self.send(drained);
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
        let drained = self.drained();
        self.deliver([Event::Exited { pid, status }, drained]);
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
        control(&mut shell, request);
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
