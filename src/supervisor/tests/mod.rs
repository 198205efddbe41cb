//! The supervisor driven by a simulated shell: spawns succeed at once with fresh pids,
//! kills are recorded, timers are collected, process groups hold the leftovers a test puts
//! there. Events are queued as the event loop queues them: a spawn's or a group check's
//! answer after whatever was already waiting. Table tests for the orchestration, proptest
//! for invariants over random event sequences.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::Path;
use std::time::{Duration, Instant};

use super::*;
pub(super) use crate::service::{Circuit, State};

mod handoff;
mod http;
mod invariants;
mod logs;
mod metrics;
mod power;
mod recovery;
mod requests;
mod sweep;
mod upward;
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
    /// How a machine's run ended (`Action::Power`), or the rescue it handed over to.
    pub(super) power: Option<crate::power::PowerAction>,
    pub(super) rescue: Option<String>,
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
    pub restored_files: Vec<u64>,
    pub incidents: Vec<crate::recovery::Incident>,
    pub known_good: Vec<String>,
    /// tcp/http probes in flight, by probe id.
    pub(super) probes: std::collections::BTreeSet<u64>,
    /// A probe was started while another of the same service was in flight.
    pub(super) double_probe: bool,
    /// What was told to the service manager above (`NotifyManager`), in order.
    pub(super) upward: Vec<String>,
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
        machine: false,
    }
}

impl Shell {
    pub(super) fn boot(texts: &[(&str, &str)]) -> Shell {
        Shell::boot_with(units(texts), None)
    }

    fn boot_with(report: LoadReport, command: Option<Unit>) -> Shell {
        let mut shell = Shell {
            supervisor: Supervisor::new(config(), report, command, Default::default()),
            now: crate::testing::now(),
            next_pid: 100,
            live: BTreeMap::new(),
            timers: HashMap::new(),
            started: Vec::new(),
            signalled: Vec::new(),
            exit: None,
            power: None,
            rescue: None,
            spawned_after_shutdown: false,
            replies: Vec::new(),
            groups: BTreeMap::new(),
            group_of: HashMap::new(),
            spawned_over_leftovers: false,
            probes: Default::default(),
            double_probe: false,
            checked: Vec::new(),
            queue: VecDeque::new(),
            restored_files: Vec::new(),
            incidents: Vec::new(),
            known_good: Vec::new(),
            upward: Vec::new(),
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
                Action::CheckDisk { disk, .. } => self.queue.push_back(Event::DiskChecked {
                    disk,
                    used_percent: Ok(0.0),
                }),
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
                Action::Power(action) => self.power = Some(action),
                Action::Rescue { reason } => self.rescue = Some(reason),
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
                Action::RestoreFiles { probe, .. } => {
                    self.restored_files.push(probe);
                    self.queue.push_back(Event::FilesRestored {
                        probe,
                        result: Ok(1),
                    });
                }
                Action::RecordIncident(incident) => self.incidents.push(*incident),
                Action::NotifyManager { message } => self.upward.push(message),
                Action::SaveKnownGood { unit, .. } => self.known_good.push(unit.name.clone()),
                Action::LoadUnits
                | Action::SaveState(_)
                | Action::Record(_)
                | Action::SendAlert(_)
                | Action::ResolveAlerts(_)
                | Action::SaveAlerts(_)
                | Action::AdoptProgram { .. }
                | Action::HttpReply { .. }
                | Action::Reexec { .. }
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

/// Sends a control request and returns the reply.
pub(super) fn send_request(
    shell: &mut Shell,
    request: crate::control::protocol::Request,
) -> crate::control::protocol::Reply {
    shell.send(Event::Control { client: 7, request });
    shell.replies.pop().unwrap()
}
