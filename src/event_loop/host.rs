//! What the shell is given to run a core over: where units, state, sockets and histories
//! live, and the settings of the shell's own sources (HTTP, alerts, captured output). Set
//! up by `run/services.rs`; empty in tini mode.

use std::time::Duration;

use crate::control::event_log::EventLog;

/// Where the shell finds units to reload, keeps state, listens for `phoenixctl` and keeps
/// the event history; empty in tini mode.
#[derive(Default)]
pub struct Host {
    pub services_dir: Option<std::path::PathBuf>,
    /// The `[groups.NAME]` of `phoenix.toml`, which a reload checks units against.
    pub supervision_groups: std::collections::BTreeSet<String>,
    pub state_file: Option<crate::state_file::StateStore>,
    /// The state directory's lock, held for Phoenix's life (none: no state directory, or
    /// another Phoenix owns it).
    pub state_lock: Option<crate::sys::lock_file::StateLock>,
    /// Where to listen, best first: the first that binds is used, and its directory is the
    /// runtime directory, where notify sockets go too (`notify/NAME.sock`).
    pub control_sockets: Vec<std::path::PathBuf>,
    pub event_log: Option<EventLog>,
    /// Incidents, in `<state-dir>/incidents.jsonl` or in memory only.
    pub incidents: crate::incident_log::IncidentLog,
    /// Last-known-good snapshots, in `<state-dir>/known-good/` or in memory only.
    pub known_good: crate::known_good::KnownGood,
    /// The service manager Phoenix runs under (its own `NOTIFY_SOCKET`) and the watchdog
    /// interval it asked for (half of `WATCHDOG_USEC`).
    pub service_manager: Option<(crate::sys::service_manager::ManagerSocket, Option<Duration>)>,
    /// `[http]`: the endpoint to serve, if any.
    pub http: Option<crate::unit::HttpSettings>,
    /// `[alerts]`: where alerts go.
    pub alerts: crate::unit::AlertSettings,
    /// `<state-dir>/alerts.json`, where the alert bookkeeping is kept (none: no state
    /// directory).
    pub alert_state: Option<crate::alert_state::AlertStore>,
    /// `[log] default`: the capture of services whose unit has no `[log]`.
    pub log_default: Option<crate::unit::LogConfig>,
    /// `[hardware-watchdog]`: the device to open and pet, if any.
    pub hardware_watchdog: Option<crate::unit::HardwareWatchdogSettings>,
}
