//! Services mode set up: where the control socket and the state go, the state directory
//! claimed (one Phoenix per directory, or none: no persistence), what earlier runs left
//! there read back — a corrupt file moved aside first, and its event the first line of the
//! event log — and the supervisor built over the services directory with the records that
//! still match it. Order matters: the state directory before any of its files, each file
//! checked before it is read or appended to, the event log's own events last.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::alert_state::AlertStore;
use crate::cli::Options;
use crate::config_file::{self, Config};
use crate::control::event_log::{self, EventLog};
use crate::control::paths::{SOCKET_NAME, runtime_dir_candidates};
use crate::corrupt_file::MovedAside;
use crate::event_loop::Host;
use crate::incident_log::{self, IncidentLog};
use crate::json_lines::JsonLines;
use crate::known_good::{self, KnownGood};
use crate::service::record::{Records, Start};
use crate::state_dir::default_state_dir;
use crate::state_file::StateStore;
use crate::supervisor::{Supervisor, SupervisorConfig, command_unit};
use crate::unit::{LoadReport, Settings, load_dir};

/// The shell's host and the core for supervising `dir`.
pub fn set_up(options: &Options, config: Config, dir: PathBuf) -> (Host, Supervisor) {
    let settings = config.settings;
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
    let chosen = crate::state_dir::choose(preferred, &runtime_dirs);
    let (state, state_lock) = crate::state_dir::claim(chosen);
    if let (Some(state), Some(text)) = (&state, &config.valid_text) {
        config_file::keep_last_good(state, text);
    }
    let now = SystemTime::now();
    let mut moved_aside = Vec::new();
    let mut event_log = state.as_ref().map(|dir| {
        let log = EventLog::new(
            dir.join(event_log::FILE_NAME),
            settings.event_log_max_bytes,
            settings.event_log_keep,
        );
        moved_aside.extend(log.move_aside_corrupt(now));
        log
    });
    let state_file = state
        .as_ref()
        .map(|dir| dir.join(crate::state_file::FILE_NAME));
    let saved = match &state_file {
        Some(path) => {
            let (saved, moved) = crate::state_file::load(path, now);
            moved_aside.extend(moved);
            saved
        }
        None => Vec::new(),
    };
    let records = Records {
        services_dir: canonical(&dir),
        saved,
        start: Start::Cold,
    };
    let supervision_groups = settings.group_names();
    let http = settings.http.clone();
    let alerts = settings.alerts.clone();
    let log_default = settings.log_default.clone();
    let hardware_watchdog = settings.hardware_watchdog.clone();
    let history = (settings.event_log_max_bytes, settings.event_log_keep);
    let mut supervisor = supervisor(options, settings, &dir, records);
    let (incidents, known_good) =
        recovery_stores(state.as_deref(), history, &mut supervisor, &mut moved_aside);
    let alert_state = state.as_deref().map(|dir| {
        let path = dir.join(crate::alert_state::FILE_NAME);
        let (saved, moved) = crate::alert_state::load(&path, now);
        moved_aside.extend(moved);
        supervisor.restore_alerts(saved);
        AlertStore::new(path)
    });
    supervisor.alert_corrupt_files(moved_aside.iter().map(MovedAside::describe));
    if let Some(log) = &mut event_log {
        for moved in &moved_aside {
            log.append(&moved.event(now));
        }
    }
    let host = Host {
        services_dir: Some(dir),
        supervision_groups,
        state_file: state_file.map(StateStore::new),
        state_lock,
        control_sockets,
        event_log,
        incidents,
        known_good,
        // Services mode only: in tini mode the command inherits NOTIFY_SOCKET and speaks
        // for itself.
        service_manager: crate::sys::service_manager::from_environment(),
        http,
        alerts,
        alert_state,
        log_default,
        hardware_watchdog,
    };
    (host, supervisor)
}

/// The directory as records name it: canonical (the same directory however it was
/// given), and as text, which is how the state file keeps it.
fn canonical(dir: &Path) -> PathBuf {
    let canonical = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    PathBuf::from(canonical.to_string_lossy().into_owned())
}

fn supervisor(
    options: &Options,
    mut settings: Settings,
    dir: &Path,
    records: Records,
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
        machine: crate::sys::process::is_machine_init(),
    };
    Supervisor::new(config, report, command, records)
}

/// The incident log and the last-known-good store in `state` (in memory without one), and
/// what earlier runs left in them handed to the supervisor before it starts: the next
/// incident id and the kept definitions. `history` is the event log's rotation (bytes,
/// files), which incidents share. Corrupt incident files are moved aside first.
fn recovery_stores(
    state: Option<&Path>,
    history: (u64, usize),
    supervisor: &mut Supervisor,
    moved_aside: &mut Vec<MovedAside>,
) -> (IncidentLog, KnownGood) {
    let mut incidents = match state {
        Some(dir) => {
            let (max_bytes, keep) = history;
            let file = JsonLines::new(dir.join(incident_log::FILE_NAME), max_bytes, keep);
            moved_aside.extend(file.move_aside_corrupt(SystemTime::now()));
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
