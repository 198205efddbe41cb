//! From parsed options to a running Phoenix: process attributes first (subreaper,
//! parent-death signal), then the signal source, then the mode's core in the event loop.
//! Tini mode runs one command; services mode (a services directory, with or without a
//! command as the main service) runs the supervisor. `--check` validates and exits.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::cli::Options;
use crate::control::event_log::{self, EventLog};
use crate::control::paths::{SOCKET_NAME, runtime_dir_candidates};
use crate::core::Core;
use crate::event_loop::{EventLoop, Host, LoopEnd};
use crate::incident_log::{self, IncidentLog};
use crate::init::{Init, InitConfig};
use crate::json_lines::JsonLines;
use crate::known_good::{self, KnownGood};
use crate::process_spec::{Placement, ProcessSpec};
use crate::reexec::{self, Rising};
use crate::state_dir::default_state_dir;
use crate::supervisor::{Supervisor, SupervisorConfig, command_unit};
use crate::sys::{degraded, process, signals::SignalSource};
use crate::unit::{LoadReport, Settings, load_dir, parse_settings};

/// Leftovers get this long between SIGTERM and SIGKILL unless `--grace` says otherwise.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);

const SYSTEM_CONFIG: &str = "/etc/phoenix/phoenix.toml";
/// Runs Phoenix; returns its exit code. Never returns on a broken loop: that degrades.
/// `options.services` is already resolved by [`crate::mode::choose`].
pub fn run(options: Options) -> u8 {
    let services = options.services.clone();
    if options.check {
        return check(&options, services.as_deref());
    }
    let settings = match load_settings(&options) {
        Ok(settings) => settings,
        Err(message) => {
            log::error!("{message}; using default settings");
            Settings::default()
        }
    };
    set_process_attributes(&options);
    let signals = match SignalSource::install() {
        Ok(signals) => signals,
        Err(error) => {
            log::error!("unable to take over signals: {error}");
            degraded::reap_forever()
        }
    };
    let mut host = Host::default();
    let mut rising = Rising::at_start();
    let mut kept_pipes = Vec::new();
    let mut core: Box<dyn Core> = match services {
        None => Box::new(Init::new(init_config(&options))),
        Some(dir) => {
            let runtime_dirs = match &settings.runtime_dir {
                Some(dir) => vec![dir.clone()],
                None => runtime_dir_candidates(),
            };
            let control_sockets = match &settings.control_socket {
                Some(path) => vec![path.clone()],
                None => runtime_dirs
                    .iter()
                    .map(|dir| dir.join(SOCKET_NAME))
                    .collect(),
            };
            let preferred = settings.state_dir.clone().or_else(default_state_dir);
            let state = crate::state_dir::choose(preferred, &runtime_dirs);
            let state_file = state.as_ref().map(|dir| dir.join("state.json"));
            let event_log = state.as_ref().map(|dir| {
                EventLog::new(
                    dir.join(event_log::FILE_NAME),
                    settings.event_log_max_bytes,
                    settings.event_log_keep,
                )
            });
            let supervision_groups = settings.group_names();
            let history = (settings.event_log_max_bytes, settings.event_log_keep);
            let mut supervisor = supervisor(&options, settings, &dir, state_file.as_deref());
            let (incidents, known_good) =
                recovery_stores(state.as_deref(), history, &mut supervisor);
            if let Some(fd) = options.resume {
                (rising.resumed_at, kept_pipes) = resume(&mut supervisor, fd);
            }
            rising.services_dir = Some(dir.clone());
            rising.runtime_dir = runtime_dirs.first().cloned();
            rising.state_dir = state.clone();
            host = Host {
                services_dir: Some(dir),
                supervision_groups,
                state_file: state_file.map(crate::state_file::StateStore::new),
                control_sockets,
                event_log,
                incidents,
                known_good,
            };
            Box::new(supervisor)
        }
    };
    let mut event_loop = match EventLoop::new(signals, host) {
        Ok(event_loop) => event_loop,
        Err(error) => {
            log::error!("unable to create the event loop: {error}");
            degraded::reap_forever()
        }
    };
    event_loop.adopt_logger_pipes(kept_pipes);
    let (reason, deliberate) = match event_loop.run(core.as_mut()) {
        LoopEnd::Exit(code) => return code,
        LoopEnd::Reexec(reason) => (reason, true),
        LoopEnd::Broken(reason) => (reason, false),
    };
    let pipes = event_loop.logger_pipes();
    reexec::rise(core.as_ref(), &reason, deliberate, &rising, pipes)
}

/// The handoff a re-exec left on `fd`: the supervisor carries on from it. A refused one
/// (malformed, truncated, another version) means a cold start; the children still running
/// are reaped as they exit. Returns when this image resumed.
fn resume(
    supervisor: &mut Supervisor,
    fd: std::os::fd::RawFd,
) -> (Option<std::time::Instant>, Vec<reexec::KeptPipe>) {
    match reexec::take_handoff(fd) {
        Ok(handoff) => {
            log::warn!(
                "resumed after a re-exec ({}): {} service(s) handed over {}ms ago",
                handoff.reason,
                handoff.core.services.len(),
                reexec::age(&handoff).as_millis()
            );
            supervisor.resume_from(handoff.core);
            (Some(std::time::Instant::now()), handoff.pipes)
        }
        Err(error) => {
            log::error!(
                "refusing the handoff on descriptor {fd}: {error}; starting cold, the children still running are reaped as they exit"
            );
            (None, Vec::new())
        }
    }
}

fn supervisor(
    options: &Options,
    mut settings: Settings,
    dir: &Path,
    state_file: Option<&Path>,
) -> Supervisor {
    let report = load_dir(dir, &settings.group_names());
    log_load_report(dir, &report);
    if let Some(grace) = options.grace {
        settings.grace = grace;
    }
    let command = (!options.command.is_empty()).then(|| command_unit(options.command.clone()));
    let config = SupervisorConfig {
        settings,
        signal_group: options.signal_group,
        success_codes: options.success_codes.clone(),
        warn_on_reap: options.warn_on_reap,
    };
    let restored = state_file.map(crate::state_file::load).unwrap_or_default();
    Supervisor::new(config, report, command, restored)
}

/// The incident log and the last-known-good store in `state` (in memory without one), and
/// what earlier runs left in them handed to the supervisor before it starts: the next
/// incident id and the kept definitions. `history` is the event log's rotation (bytes,
/// files), which incidents share.
fn recovery_stores(
    state: Option<&Path>,
    history: (u64, usize),
    supervisor: &mut Supervisor,
) -> (IncidentLog, KnownGood) {
    let mut incidents = match state {
        Some(dir) => {
            let (max_bytes, keep) = history;
            let file = JsonLines::new(dir.join(incident_log::FILE_NAME), max_bytes, keep);
            IncidentLog::load(file, SystemTime::now())
        }
        None => IncidentLog::default(),
    };
    supervisor.set_next_incident_id(incidents.next_id());
    let services = supervisor.services().iter().map(|s| s.unit.name.clone());
    let invalid = supervisor.invalid_units().keys().cloned();
    incidents.add_services(services.chain(invalid));
    let known_good = KnownGood::new(state.map(|dir| dir.join(known_good::DIR_NAME)));
    supervisor.restore_known_good(known_good.definitions());
    (incidents, known_good)
}

fn log_load_report(dir: &Path, report: &LoadReport) {
    log::info!(
        "{}: {} unit(s) loaded, {} invalid",
        dir.display(),
        report.units.len(),
        report.invalid.len()
    );
    for warning in &report.warnings {
        log::warn!("{warning}");
    }
}

/// `phoenix.toml`: `--config`, else the system file when it exists, else defaults.
fn load_settings(options: &Options) -> Result<Settings, String> {
    let path = match &options.config {
        Some(path) => path.clone(),
        None if Path::new(SYSTEM_CONFIG).is_file() => PathBuf::from(SYSTEM_CONFIG),
        None => return Ok(Settings::default()),
    };
    let text =
        std::fs::read_to_string(&path).map_err(|error| format!("{}: {error}", path.display()))?;
    parse_settings(&path, &text).map_err(|error| error.to_string())
}

/// `--check`: every problem as `path:line:col: message` on stderr; 0 valid, 1 invalid.
fn check(options: &Options, services: Option<&Path>) -> u8 {
    let mut problems = 0;
    // Broken settings run with the defaults, so the units are checked against those.
    let settings = load_settings(options).unwrap_or_else(|message| {
        eprintln!("{message}");
        problems += 1;
        Settings::default()
    });
    match services {
        Some(dir) => {
            let report = load_dir(dir, &settings.group_names());
            for error in &report.errors {
                eprintln!("{error}");
            }
            for warning in &report.warnings {
                eprintln!("warning: {warning}");
            }
            problems += report.errors.len();
            if problems == 0 {
                println!(
                    "{}: {} unit(s), all valid",
                    dir.display(),
                    report.units.len()
                );
            }
        }
        None if problems == 0 => println!("settings valid, no services directory"),
        None => {}
    }
    u8::from(problems > 0)
}

fn init_config(options: &Options) -> InitConfig {
    let name = options.command.first().cloned().unwrap_or_default();
    let mut spec = ProcessSpec::command(&name, options.command.clone(), Placement::ForegroundGroup);
    spec.inherit_signals = true;
    InitConfig {
        spec,
        signal_group: options.signal_group,
        success_codes: options.success_codes.clone(),
        warn_on_reap: options.warn_on_reap,
        grace: options.grace.unwrap_or(DEFAULT_GRACE),
    }
}

fn set_process_attributes(options: &Options) {
    if let Some(signal) = options.parent_death_signal {
        if let Err(error) = process::set_parent_death_signal(signal) {
            log::warn!("unable to set the parent-death signal {signal}: {error}");
        }
    }
    // Under a proxy that already made Phoenix a subreaper (the flag survives exec) there
    // is nothing to do and nothing to warn about.
    if process::is_pid1() || process::is_child_subreaper() {
        return;
    }
    if !options.subreaper {
        log::warn!(
            "not running as PID 1: registering as a child subreaper so orphans are still reaped"
        );
    }
    if let Err(error) = process::set_child_subreaper() {
        log::warn!("unable to register as a child subreaper, orphans will not be reaped: {error}");
    }
}
