//! What to run: argv, environment and session placement, as plain data. The OS boundary
//! turns it into a fork and an exec; nothing here touches the system.

use std::path::PathBuf;

/// How the new process is placed among process groups and sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Its own process group in Phoenix's session, taking the terminal's foreground when
    /// stdin is one (tini mode, so an interactive shell works).
    ForegroundGroup,
    /// Its own session (services: no controlling terminal, a group to signal as one).
    NewSession,
}

/// Where the program's stdout and stderr go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Phoenix's own, shared as they are (no copy).
    Inherit,
    /// `[log] default` of `phoenix.toml` if there is one, else `Inherit`.
    SystemDefault,
    /// Into pipes Phoenix reads, per the unit's `[log]`.
    Capture(crate::unit::LogConfig),
}

#[derive(Clone, Debug, PartialEq)]
pub struct ProcessSpec {
    /// Shown in logs and errors.
    pub name: String,
    /// `argv[0]` is looked up in `PATH` when it has no slash.
    pub argv: Vec<String>,
    /// Variables set over Phoenix's inherited environment; `None` unsets.
    pub environment: Vec<(String, Option<String>)>,
    pub working_directory: Option<PathBuf>,
    pub placement: Placement,
    /// Files of `KEY=VALUE` lines read at each spawn, applied before `environment`.
    pub environment_files: Vec<EnvironmentFileSpec>,
    /// Run as this user (name or numeric id): its uid, its primary group unless `group` is
    /// set, and its supplementary groups from the group database.
    pub user: Option<String>,
    pub group: Option<String>,
    pub umask: Option<u32>,
    /// Services get `/dev/null`; tini mode passes Phoenix's stdin through.
    pub stdin_null: bool,
    /// s6 `log/`: stdout goes into the pipe named here (the logger's name)…
    pub stdout_pipe: Option<String>,
    /// …and the logger reads it as its stdin. Phoenix holds both ends, so the pipe
    /// outlives restarts of either side.
    pub stdin_pipe: Option<String>,
    /// Captured or inherited; an s6 logger pipe (`stdout_pipe`) takes stdout first.
    pub output: Output,
    /// Tini mode: the command keeps the signal mask and the ignored dispositions Phoenix
    /// inherited (`nohup` stays in force), less what Phoenix itself changed. Otherwise
    /// (services) every disposition is the default and the mask is empty.
    pub inherit_signals: bool,
    /// Give it `NOTIFY_SOCKET`: a datagram socket of this service's own, whose messages
    /// from the service's processes come back as `Event::Notified` with the spawn's token.
    pub notify_socket: bool,
    /// s6's notification-fd: a pipe whose write end is this descriptor in the child; a
    /// line written on it comes back as `Event::Notified` with `Ready`.
    pub readiness_fd: Option<i32>,
    /// `[watchdog]`: `WATCHDOG_USEC` is set to this, and `WATCHDOG_PID` to the child's pid.
    pub watchdog_usec: Option<u64>,
    /// Checked before the start: a pid file naming a dead process, or a lock file nobody
    /// holds, is removed (logged, and recorded as an event of the service).
    pub stale_files: Vec<PathBuf>,
    /// An s6 service directory: Phoenix holds its `supervise/lock` and announces state
    /// changes in its `event/` fifodir, as s6-supervise does, for s6's own tools.
    pub s6_service_dir: Option<PathBuf>,
    /// `[limits]`: resource limits, `oom_score_adj`, no-new-privileges.
    pub limits: crate::unit::Limits,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvironmentFileSpec {
    pub path: PathBuf,
    /// A missing optional file is skipped silently (systemd's leading `-`).
    pub optional: bool,
}

impl ProcessSpec {
    pub fn command(name: &str, argv: Vec<String>, placement: Placement) -> ProcessSpec {
        ProcessSpec {
            name: name.to_string(),
            argv,
            environment: Vec::new(),
            working_directory: None,
            placement,
            environment_files: Vec::new(),
            user: None,
            group: None,
            umask: None,
            stdin_null: false,
            stdout_pipe: None,
            stdin_pipe: None,
            output: Output::Inherit,
            inherit_signals: false,
            notify_socket: false,
            readiness_fd: None,
            watchdog_usec: None,
            stale_files: Vec::new(),
            s6_service_dir: None,
            limits: crate::unit::Limits::default(),
        }
    }
}
