//! The rescue run: report, recreate the directories, then one loop — reap everything,
//! start what is due, wait for the next signal or deadline — until an orderly shutdown.
//!
//! Error policy: from here on nothing may end the process but the shutdown. A start that
//! fails is a death (restarted after the delay, and capped like any other); a directory
//! that cannot be created, a signal that cannot be sent, a `/proc` that is missing are
//! logged and passed over. Signals are blocked and taken with `sigtimedwait`, whose
//! timeout is the next restart (or none), so an idle rescue makes no system calls.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::cli::Options;
use crate::procfs;
use crate::report::diagnose;
use crate::services::read_services;
use crate::spawn::spawn_unit;
use crate::supervisor::{ExitStatus, Fate, MAX_RESTARTS, Plan, RESTART_DELAY, Supervisor};
use crate::sys::{self, Reaped, SignalSet};
use crate::unit::{Command, Unit};

/// From SIGTERM to SIGKILL for whatever still runs.
const GRACE: Duration = Duration::from_secs(5);
/// After SIGKILL, how long to wait for the reaping before exiting anyway.
const KILL_WAIT: Duration = Duration::from_secs(1);

const SHELL_NAME: &str = "console shell";

pub fn run(options: &Options) -> ! {
    // Before anything opens a file: whatever Phoenix left open is not for our services.
    sys::close_inherited_descriptors();
    sys::reset_dispositions();
    let signals = sys::catchable_signals();
    if let Err(error) = sys::block_signals(&signals) {
        say!("unable to block signals ({error}): a signal may end the rescue path");
    }
    let is_pid1 = std::process::id() == 1;
    if !is_pid1 {
        match sys::become_subreaper() {
            Ok(()) => say!("not PID 1: registered as child subreaper, orphans come here"),
            Err(error) => say!("not PID 1 and unable to become child subreaper: {error}"),
        }
    }
    let services = read_services(&options.services);
    for line in diagnose(options, &services).lines {
        say!("{line}");
    }
    recreate(&options.runtime_dir);
    recreate(&options.state_dir);
    let mut units = services.units;
    if options.has_shell {
        units.push(console_shell());
    }
    let plans: Vec<Plan> = units
        .iter()
        .map(|unit| Plan {
            name: &unit.name,
            is_enabled: unit.is_enabled,
            is_oneshot: unit.is_oneshot,
        })
        .collect();
    let mut supervisor = Supervisor::new(&plans, Instant::now());
    for (name, pid) in &options.adopt {
        adopt(&mut supervisor, name, *pid);
    }
    if units.iter().all(|unit| !unit.is_enabled) {
        say!("nothing to start: reaping orphans and waiting for signals (SIGTERM ends it)");
    }
    Rescue {
        supervisor,
        units,
        signals,
        is_pid1,
        stop_deadline: None,
        has_killed: false,
        unit_groups: Vec::new(),
    }
    .supervise()
}

struct Rescue {
    supervisor: Supervisor,
    /// Indexed like the supervisor's services.
    units: Vec<Unit>,
    signals: SignalSet,
    is_pid1: bool,
    stop_deadline: Option<Instant>,
    has_killed: bool,
    /// The process groups of the services being stopped.
    unit_groups: Vec<i32>,
}

impl Rescue {
    fn supervise(mut self) -> ! {
        loop {
            let has_children = self.reap();
            if self.supervisor.is_stopping() {
                self.check_stop(has_children);
            } else {
                self.start_due();
            }
            let timeout = self.timeout();
            match sys::wait_signal(&self.signals, timeout) {
                None | Some(sys::SIGCHLD | sys::SIGTTIN | sys::SIGTTOU) => {}
                Some(sys::SIGTERM | sys::SIGINT | sys::SIGPWR | sys::SIGRTMIN_3) => {
                    self.begin_stop();
                }
                Some(signal) => self.forward(signal),
            }
        }
    }

    /// Reaps every child that ended; whether any child remains.
    fn reap(&mut self) -> bool {
        loop {
            let (pid, status) = match sys::reap_one() {
                Reaped::Child(pid, raw) => (pid, ExitStatus::from_raw(raw)),
                Reaped::NoneEnded => return true,
                Reaped::NoChildren => return false,
            };
            let Some((index, fate)) = self.supervisor.exited(pid, status, Instant::now()) else {
                say!("reaped pid {pid} ({status}), no unit's");
                continue;
            };
            let name = self.supervisor.name(index);
            match fate {
                Fate::RestartAt(_) => say!("{name}: {status}, restarting in {RESTART_DELAY:?}"),
                Fate::Finished => say!("{name}: finished ({status})"),
                Fate::Stopped => say!("{name}: stopped ({status})"),
                Fate::Capped => say!(
                    "{name}: {status}; restarted {MAX_RESTARTS} times within a minute, stays down"
                ),
            }
        }
    }

    fn start_due(&mut self) {
        for index in self.supervisor.due(Instant::now()) {
            let Some(unit) = self.units.get(index) else {
                continue;
            };
            match spawn_unit(unit) {
                Ok(pid) => {
                    self.supervisor.started(index, pid);
                    say!("{}: started (pid {pid})", unit.name);
                }
                Err(error) => match self.supervisor.start_failed(index, Instant::now()) {
                    Fate::Capped => say!(
                        "{}: unable to start: {error}; tried {MAX_RESTARTS} times within a minute, stays down",
                        unit.name
                    ),
                    _ => say!(
                        "{}: unable to start: {error}; retrying in {RESTART_DELAY:?}",
                        unit.name
                    ),
                },
            }
        }
    }

    fn timeout(&self) -> Option<Duration> {
        let deadline = if self.supervisor.is_stopping() {
            self.stop_deadline
        } else {
            self.supervisor.next_deadline()
        };
        deadline.map(|deadline| deadline.saturating_duration_since(Instant::now()))
    }

    fn begin_stop(&mut self) {
        if self.supervisor.is_stopping() {
            return say!("already shutting down");
        }
        say!("shutting down: SIGTERM to every service, SIGKILL after {GRACE:?}");
        let stopping = self.supervisor.begin_stop();
        // The services' groups got theirs: everything else gets one too, but a service's
        // process must not get a second SIGTERM (a shell's trap would run twice).
        self.unit_groups = stopping.iter().map(|(_, pid)| *pid).collect();
        for (index, pid) in stopping {
            sys::signal_group(pid, sys::SIGTERM);
            if self.units.get(index).is_some_and(|unit| unit.is_console) {
                // An interactive shell ignores SIGTERM; a hangup ends it.
                sys::signal_group(pid, sys::SIGHUP);
            }
            sys::signal_group(pid, sys::SIGCONT);
        }
        self.signal_everything_else(sys::SIGTERM);
        self.signal_everything_else(sys::SIGCONT);
        self.stop_deadline = Some(Instant::now() + GRACE);
    }

    /// Called after each reap while stopping: exits once nothing is left, or once the
    /// grace and the SIGKILL that ends it have run out.
    fn check_stop(&mut self, has_children: bool) {
        if !has_children {
            say!("every process has ended: exiting");
            std::process::exit(0);
        }
        if self
            .stop_deadline
            .is_some_and(|deadline| Instant::now() < deadline)
        {
            return;
        }
        if self.has_killed {
            say!("processes remain after SIGKILL: exiting anyway");
            std::process::exit(0);
        }
        let names: Vec<&str> = self
            .supervisor
            .running()
            .into_iter()
            .map(|(index, _)| self.supervisor.name(index))
            .collect();
        say!(
            "grace over: SIGKILL to what remains (services: {})",
            names.join(", ")
        );
        for (_, pid) in self.supervisor.running() {
            sys::signal_group(pid, sys::SIGKILL);
        }
        self.signal_everything_else(sys::SIGKILL);
        self.has_killed = true;
        self.stop_deadline = Some(Instant::now() + KILL_WAIT);
    }

    /// As PID 1, every process of the namespace; otherwise our own children, orphans
    /// adopted as subreaper included.
    /// Every other process of the namespace (as PID 1) or every other child, outside
    /// the services' process groups; SIGKILL goes to everything.
    fn signal_everything_else(&self, signal: i32) {
        if self.is_pid1 && signal == sys::SIGKILL {
            sys::send_signal(-1, signal);
            return;
        }
        let ours = std::process::id();
        let candidates: Vec<i32> = if self.is_pid1 {
            procfs::all_pids()
                .into_iter()
                .filter(|&pid| pid != ours)
                .filter_map(|pid| i32::try_from(pid).ok())
                .collect()
        } else {
            procfs::own_children()
        };
        for pid in candidates {
            let group = u32::try_from(pid).ok().and_then(procfs::group);
            if group.is_some_and(|group| self.unit_groups.contains(&group)) {
                continue;
            }
            sys::send_signal(pid, signal);
        }
    }

    fn forward(&self, signal: i32) {
        let running = self.supervisor.running();
        for (_, pid) in &running {
            sys::send_signal(*pid, signal);
        }
        say!("signal {signal} forwarded to {} process(es)", running.len());
    }
}

fn adopt(supervisor: &mut Supervisor, name: &str, pid: i32) {
    let ours = std::process::id();
    let parent = u32::try_from(pid).ok().and_then(procfs::parent);
    if !sys::is_alive(pid) {
        return say!("{name}: pid {pid} is not running, starting the unit fresh");
    }
    if parent.is_some_and(|parent| parent != ours) {
        return say!(
            "{name}: pid {pid} is not a child of phoenix-rescue, whose end it could not see: starting the unit fresh"
        );
    }
    match supervisor.adopt(name, pid) {
        Ok(_) => say!("{name}: adopted pid {pid}"),
        Err(error) => say!("--adopt {name}={pid}: {error}; that process is reaped when it ends"),
    }
}

fn recreate(directory: &Path) {
    if directory.is_dir() {
        return;
    }
    match fs::create_dir_all(directory) {
        Ok(()) => say!("created {}", directory.display()),
        Err(error) => say!("unable to create {}: {error}", directory.display()),
    }
}

/// `--shell`: `/bin/sh` on the terminal rescue was given, restarted like a getty.
fn console_shell() -> Unit {
    Unit {
        name: SHELL_NAME.into(),
        source: "--shell".into(),
        command: Command::Argv(vec!["/bin/sh".into()]),
        environment: vec![("PS1".into(), Some("phoenix-rescue# ".into()))],
        working_directory: Some("/".into()),
        is_enabled: true,
        is_oneshot: false,
        is_console: true,
        skipped: Vec::new(),
        notes: Vec::new(),
    }
}
