//! All services together: the pid index, the dependency graph, the main service, reloads
//! and orderly shutdown. Routes each event to the service it concerns, then settles the
//! whole: starts what has become startable, stops what must follow a dependency down.
//! Pure, like the services it drives.

mod alerting;
mod control;
pub mod counters;
mod dependencies;
mod disks;
mod groups;
mod handoff;
mod http;
mod power;
mod records;
mod reload;
mod stopping;
#[cfg(test)]
mod tests;
mod upward;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use crate::core::{Action, Core, Event, Pid, SpawnError, Target, TimerId};
use crate::exit_status::{ExitStatus, remap_exit_code};
use crate::service::record::Records;
use crate::service::{
    Service, SpawnKind, TimerKind, decode_check_token, decode_probe_id, decode_spawn_token,
};
use crate::shutdown::{FINAL_TIMER, GRACE_TIMER, Leftovers};
use crate::unit::{CriticalAction, ExitCodeSetting, LoadReport, Settings, Signal, Unit, UnitError};
pub use handoff::SupervisorHandoff;

/// The supervisor's own timer: the cap on the whole shutdown.
const SHUTDOWN_CAP_TIMER: TimerId = 3;

#[derive(Clone, Debug, PartialEq)]
pub struct SupervisorConfig {
    pub settings: Settings,
    /// `-g`: signals for the main service go to its process group.
    pub signal_group: bool,
    /// `-e`: exit codes reported as 0.
    pub success_codes: Vec<u8>,
    pub warn_on_reap: bool,
    /// PID 1 of a machine, not of a container: power signals and requests end in
    /// `reboot(2)` (DESIGN.md §10).
    pub machine: bool,
}

pub struct Supervisor {
    config: SupervisorConfig,
    services: Vec<Service>,
    by_name: HashMap<String, usize>,
    /// Live pids: the service index, and whether it is the program, `finish` or a probe.
    pids: HashMap<Pid, (usize, SpawnKind)>,
    /// Units that failed to load, shown as failed.
    invalid: BTreeMap<String, UnitError>,
    /// Service indices in dependency order.
    order: Vec<usize>,
    /// What an earlier run saved, applied at start to the units it still matches.
    records: Records,
    shutting_down: bool,
    exit_code: u8,
    /// The power action asked for (`supervisor/power.rs`), the strongest so far.
    power: Option<crate::power::PowerAction>,
    leftovers: Leftovers,
    /// The answer of this wake-up's drain, once it was seen: the shell queues signals,
    /// control requests and exits ahead of its drain, and everything else after it. A
    /// service that ends after the drain (its group found empty, a sweep given up) hands
    /// the last one over to the leftovers phase, which would otherwise wait for a drain
    /// that no child may ever cause.
    last_drain: Option<bool>,
    incident_ids: crate::recovery::IncidentIds,
    /// Supervision groups: their members' failures within the window.
    groups: groups::Groups,
    /// Set when this image carries on from a re-exec: `start` resumes from it.
    resume: Option<SupervisorHandoff>,
    /// What was told to the service manager above Phoenix.
    upward: upward::Upward,
    /// What `/metrics` counts.
    counters: counters::Counters,
    /// `[[disk]]`: the disk checks and their cleanup hooks.
    disks: disks::Disks,
    /// Alert thresholds, cooldowns and suppressed counts.
    alerts: crate::alerts::Alerts,
}

impl Supervisor {
    /// `command` is the main service given on the command line, if any; `records` are
    /// those an earlier run saved, applied at start.
    pub fn new(
        config: SupervisorConfig,
        report: LoadReport,
        command: Option<Unit>,
        records: Records,
    ) -> Supervisor {
        let leftovers = Leftovers::new(config.settings.grace);
        let disks = disks::Disks::new(&config.settings.disks);
        let alerts = crate::alerts::Alerts::new(config.settings.alerts.clone());
        let mut supervisor = Supervisor {
            config,
            services: Vec::new(),
            by_name: HashMap::new(),
            pids: HashMap::new(),
            invalid: BTreeMap::new(),
            order: Vec::new(),
            records,
            shutting_down: false,
            exit_code: 0,
            power: None,
            leftovers,
            last_drain: None,
            incident_ids: crate::recovery::IncidentIds::starting_at(1),
            groups: groups::Groups::default(),
            resume: None,
            upward: upward::Upward::default(),
            counters: counters::Counters::default(),
            disks,
            alerts,
        };
        for unit in report.units {
            supervisor.add(unit);
        }
        if let Some(unit) = command {
            let index = supervisor.add(unit);
            if let Some(service) = supervisor.services.get_mut(index) {
                service.foreground = true;
            }
        }
        supervisor.invalid = report.invalid.into_iter().collect();
        supervisor.refresh_graph();
        supervisor
    }

    fn add(&mut self, unit: Unit) -> usize {
        let index = self.services.len();
        self.by_name.insert(unit.name.clone(), index);
        let mut service = Service::new(index, unit);
        service.incident_ids = self.incident_ids.clone();
        self.services.push(service);
        index
    }

    /// The first id a new incident gets (one past the highest in `incidents.jsonl`).
    pub fn set_next_incident_id(&mut self, id: u64) {
        self.incident_ids.set_next(id);
    }

    /// Last-known-good definitions kept by an earlier run; each applies only to the
    /// service of its name whose unit comes from the same source.
    pub fn restore_known_good(&mut self, units: Vec<Unit>) {
        for unit in units {
            if let Some(service) = self
                .by_name
                .get(&unit.name)
                .and_then(|&index| self.services.get_mut(index))
                .filter(|service| service.unit.source == unit.source)
            {
                service.known_good = Some(Box::new(unit));
            }
        }
    }

    pub fn services(&self) -> &[Service] {
        &self.services
    }

    pub fn invalid_units(&self) -> &BTreeMap<String, UnitError> {
        &self.invalid
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        self.by_name
            .get(name)
            .and_then(|&index| self.services.get(index))
    }

    fn service_mut(&mut self, index: Option<usize>) -> Option<&mut Service> {
        index.and_then(|index| self.services.get_mut(index))
    }

    fn main_service(&self) -> Option<&Service> {
        self.services.iter().find(|s| s.unit.main && !s.removed)
    }

    fn on_exited(&mut self, pid: Pid, status: ExitStatus, now: Instant) -> Vec<Action> {
        if let Some(actions) = self.disks.on_exited(pid, status) {
            return actions;
        }
        let Some((index, kind)) = self.pids.remove(&pid) else {
            if self.config.warn_on_reap {
                log::warn!("{}", crate::exit_status::reaped_orphan_line(pid, status));
            }
            return Vec::new();
        };
        let Some(service) = self.services.get_mut(index) else {
            return Vec::new();
        };
        match kind {
            SpawnKind::Finish => return service.on_finish_exit(status, now),
            SpawnKind::Probe => return service.on_probe_exit(status, now),
            SpawnKind::Hook => return service.on_hook_exit(status, now),
            SpawnKind::Program => {}
        }
        let mut actions = service.on_exit(status, now);
        if service.unit.main && !self.shutting_down {
            let code = remap_exit_code(status, &self.config.success_codes);
            log::info!(
                "{}: main service ended ({status}), shutting down",
                service.unit.name
            );
            actions.extend(self.begin_shutdown(code, now));
            return actions;
        }
        if self.shutting_down {
            return actions;
        }
        actions.extend(self.stop_requirers(index, now));
        actions
    }

    /// A drain may have reaped leftovers of a sweeping service: its group is counted again.
    fn on_drained(&mut self, children_remain: bool, now: Instant) -> Vec<Action> {
        self.last_drain = Some(children_remain);
        let mut actions = self.leftovers.on_drained(children_remain, now);
        for service in &self.services {
            actions.extend(service.recheck_group());
        }
        actions
    }

    fn on_spawn_result(
        &mut self,
        token: u64,
        result: Result<Pid, SpawnError>,
        now: Instant,
    ) -> Vec<Action> {
        if disks::is_disk_id(token) {
            return self.disks.on_spawn_result(token, result, now);
        }
        let Some((index, kind)) = decode_spawn_token(token) else {
            return Vec::new();
        };
        let Some(service) = self.services.get_mut(index) else {
            return Vec::new();
        };
        if let Ok(pid) = result {
            self.pids.insert(pid, (index, kind));
        }
        match (result, kind) {
            (Ok(pid), SpawnKind::Program) => service.on_spawned(pid, now),
            (Ok(pid), SpawnKind::Finish) => service.on_finish_spawned(pid, now),
            (Ok(pid), SpawnKind::Probe) => service.on_probe_spawned(pid),
            (Ok(pid), SpawnKind::Hook) => service.on_hook_spawned(pid),
            (Err(error), SpawnKind::Hook) => service.on_hook_spawn_failed(&error, now),
            (Err(error), SpawnKind::Probe) => service.on_probe_spawn_failed(&error, now),
            (Err(error), SpawnKind::Program) => {
                let mut actions = service.on_spawn_failed(&error, now);
                if service.unit.main && !self.shutting_down {
                    actions.extend(self.begin_shutdown(error.exit_code(), now));
                }
                actions
            }
            (Err(error), SpawnKind::Finish) => service.on_finish_failed(&error, now),
        }
    }

    fn on_signal(&mut self, signal: Signal, from_self: bool, now: Instant) -> Vec<Action> {
        let power = crate::power::PowerAction::for_machine_signal(signal);
        if let Some(action) = power.filter(|_| self.config.machine) {
            return self.request_power(action, &format!("received {signal}"), now);
        }
        match signal {
            Signal::TERM | Signal::INT | Signal::PWR | Signal::RTMIN_3 => {
                let code = self
                    .main_service()
                    .and_then(|s| s.last_exit)
                    .map_or(0, |status| {
                        remap_exit_code(status, &self.config.success_codes)
                    });
                log::info!("received {signal}, shutting down");
                self.begin_shutdown(code, now)
            }
            Signal::HUP if !self.shutting_down => {
                log::info!("received SIGHUP, reloading units");
                vec![Action::LoadUnits]
            }
            Signal::CHLD | Signal::TTIN | Signal::TTOU | Signal::HUP => Vec::new(),
            Signal::PIPE if from_self => Vec::new(),
            _ => self.forward_to_main(signal),
        }
    }

    fn forward_to_main(&self, signal: Signal) -> Vec<Action> {
        let Some(pid) = self.main_service().and_then(|s| s.pid) else {
            log::debug!("no main service to forward {signal} to");
            return Vec::new();
        };
        let target = if self.config.signal_group {
            Target::Group(pid)
        } else {
            Target::Process(pid)
        };
        vec![Action::Signal { target, signal }]
    }

    fn on_timer(&mut self, timer: TimerId, now: Instant) -> Vec<Action> {
        match timer {
            GRACE_TIMER | FINAL_TIMER => self.leftovers.on_timer(timer, now),
            SHUTDOWN_CAP_TIMER => {
                log::warn!("shutdown-timeout reached, killing every remaining process");
                self.leftovers.begin(self.exit_code);
                self.leftovers.kill_now(now)
            }
            _ if disks::is_disk_id(timer) => self.disks.on_timer(timer),
            _ => match TimerKind::decode(timer) {
                Some((index, kind)) => self
                    .services
                    .get_mut(index)
                    .map_or_else(Vec::new, |s| s.on_timer(kind, now)),
                None => Vec::new(),
            },
        }
    }

    /// A service whose budget ran out with `on-exhausted = "escalate"`.
    fn escalate(&mut self, now: Instant) -> Vec<Action> {
        let Some(service) = self.services.iter_mut().find(|s| s.escalated) else {
            return Vec::new();
        };
        service.escalated = false;
        let name = service.unit.name.clone();
        let status_code = service.last_exit.map_or(1, ExitStatus::shell_code);
        let code = match self.config.settings.exit_code {
            ExitCodeSetting::Service => status_code,
            ExitCodeSetting::Fixed(code) => code,
        };
        match self.config.settings.on_critical_failure {
            CriticalAction::None => {
                log::error!(
                    "{name}: recovery exhausted; on-critical-failure = \"none\", carrying on"
                );
                Vec::new()
            }
            CriticalAction::Exit => {
                log::error!("{name}: recovery exhausted, shutting down with status {code}");
                self.begin_shutdown(code, now)
            }
            other => self.critical_power(other, &name, code, now),
        }
    }
}

impl Core for Supervisor {
    fn start(&mut self, now: Instant) -> Vec<Action> {
        self.counters.start(&self.services, now);
        let disks = self.disks.start();
        for (name, error) in &self.invalid {
            log::error!("{name}: not started, invalid unit: {error}");
        }
        // A re-exec carries everything over; saved records are for a cold start.
        if let Some(handoff) = self.resume.take() {
            let mut actions = self.resume(handoff, now);
            actions.extend(disks);
            actions.extend(self.settle(now));
            actions.extend(self.notify_upward());
            actions.extend(self.raise_alerts(&[], now));
            return actions;
        }
        self.restore_records(now);
        let mut actions = self.resume_circuits(now);
        actions.extend(disks);
        actions.extend(self.settle(now));
        actions.extend(self.notify_upward());
        actions.extend(self.raise_alerts(&[], now));
        actions
    }

    fn hand_off(&self, now: Instant) -> Option<SupervisorHandoff> {
        Some(Supervisor::hand_off(self, now))
    }

    fn step(&mut self, event: Event, now: Instant) -> Vec<Action> {
        if matches!(
            event,
            Event::Signal { .. } | Event::Exited { .. } | Event::Control { .. }
        ) {
            self.last_drain = None;
        }
        self.count_event(&event, now);
        let mut actions = match event {
            Event::Signal { signal, from_self } => self.on_signal(signal, from_self, now),
            Event::Spawned { token, pid } => self.on_spawn_result(token, Ok(pid), now),
            Event::SpawnFailed { token, error } => self.on_spawn_result(token, Err(error), now),
            Event::Exited { pid, status } => self.on_exited(pid, status, now),
            Event::Drained { children_remain } => self.on_drained(children_remain, now),
            Event::GroupChecked {
                token,
                pgid,
                members,
            } => match decode_check_token(token).and_then(|i| self.services.get_mut(i)) {
                Some(service) => service.on_group_checked(pgid, members, now),
                None => Vec::new(),
            },
            Event::TimerFired { timer } => self.on_timer(timer, now),
            Event::UnitsLoaded(report) => self.reload(*report, now),
            Event::FilesRestored { probe, result } => self
                .service_mut(decode_probe_id(probe))
                .map_or_else(Vec::new, |s| s.on_files_restored(result, now)),
            Event::Control { client, request } => self.on_control(client, request, now),
            Event::Notified { token, messages } => match decode_spawn_token(token) {
                Some((index, SpawnKind::Program)) => self
                    .services
                    .get_mut(index)
                    .map_or_else(Vec::new, |s| s.on_notified(messages, now)),
                _ => Vec::new(),
            },
            Event::ProbeFinished { probe, outcome } => self
                .service_mut(decode_probe_id(probe))
                .map_or_else(Vec::new, |s| s.on_probe_finished(outcome, now)),
            Event::HttpRequest { client, path } => self.on_http(client, &path, now),
            // Shutting down: no more checks, no cleanup started.
            Event::DiskChecked { .. } if self.shutting_down => Vec::new(),
            Event::DiskChecked { disk, used_percent } => {
                self.disks.on_checked(disk, used_percent, now)
            }
            Event::HeartbeatChecked { probe, age } => self
                .service_mut(decode_probe_id(probe))
                .map_or_else(Vec::new, |s| s.on_heartbeat(age, now)),
            Event::AlertDelivered { ok } => {
                self.counters.count_alert(ok);
                Vec::new()
            }
            Event::LogLinesDropped { service, dropped } => {
                if let Some(index) = self.services.iter().position(|s| s.unit.name == service) {
                    self.counters.count_log_drops(index, dropped);
                }
                self.alert_log_drops(service, dropped);
                Vec::new()
            }
            Event::LastLines { service, lines } => {
                if let Some(found) = self.services.iter_mut().find(|s| s.unit.name == service) {
                    found.last_lines = lines;
                }
                Vec::new()
            }
        };
        actions.extend(self.restart_dependencies(now));
        actions.extend(self.supervise_groups(now));
        actions.extend(self.escalate(now));
        actions.extend(self.settle(now));
        actions.extend(self.collect_dirty());
        self.count_outcomes(&actions);
        actions.extend(self.collect_transitions(now));
        actions.extend(self.raise_alerts(&actions, now));
        actions.extend(self.notify_upward());
        actions
    }
}

/// The unit for a command given on the command line with `--services`: the main service,
/// named after its program. It escalates (its exit ends the run) and has no `min-uptime`,
/// since a command that finishes quickly is not a crash loop.
pub fn command_unit(argv: Vec<String>) -> Unit {
    let name = argv
        .first()
        .and_then(|program| program.rsplit('/').next())
        .filter(|name| crate::unit::is_valid_name(name))
        .unwrap_or("main")
        .to_string();
    let source = std::path::PathBuf::from("<command line>");
    let mut unit = Unit::new(&name, source, crate::unit::Command::Argv(argv));
    unit.main = true;
    unit.restart = crate::unit::RestartConfig::defaults(crate::unit::Kind::Daemon, true);
    unit.restart.min_uptime = Duration::ZERO;
    unit
}
