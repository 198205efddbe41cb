//! The only place Phoenix talks to the kernel: signals, fork/exec, credentials, reaping,
//! kill, prctl, the notify socket, heartbeat files, stale files, the state directory's
//! lock, and a machine's mounts, console, watchdog and `reboot(2)`. Everything above this
//! boundary works on Phoenix's own types (`Signal`, `ExitStatus`, `ProcessSpec`) and never
//! sees an errno it did not ask for.

pub mod alert_hook;
pub mod console;
pub mod credentials;
pub mod degraded;
pub mod disk_usage;
pub mod environment;
pub mod hardware_watchdog;
pub mod heartbeat;
pub mod lock_file;
pub mod log_console;
pub mod log_file;
pub mod machine_console;
pub mod mounts;
pub mod network;
pub mod notify_socket;
pub mod pipes;
pub mod power;
pub mod process;
pub mod process_stats;
pub mod reap;
pub mod reexec;
pub mod s6_supervise;
pub mod service_manager;
pub mod signals;
pub mod socket_file;
pub mod spawn;
pub mod stale_files;
pub mod start;

/// An I/O error's text without std's "(os error N)" suffix.
pub fn io_error_text(error: &std::io::Error) -> String {
    error
        .raw_os_error()
        .map_or_else(|| error.to_string(), errno_text)
}

/// The text of an errno value, as `strerror` gives it.
pub fn errno_text(errno: i32) -> String {
    std::io::Error::from_raw_os_error(errno)
        .to_string()
        .split(" (os error")
        .next()
        .unwrap_or_default()
        .to_string()
}
