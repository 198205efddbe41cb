//! Stage 1 of a machine's boot, before logging starts: every step is tried, its outcome
//! kept as a log line told once the log is set up (on the console, or `/dev/kmsg`), and a
//! step that fails never stops the boot. `/proc` comes first (the mount table and the
//! kernel command line are read from it); the console once `/dev` is there, before any
//! line is written.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::cmdline::{self, KernelOptions};
use super::mount_table::{self, STAGE_ONE, StageOneMount};
use crate::sys::{machine_console as console, mounts, network, power};

/// What stage 1 found and did.
pub struct StageOne {
    pub options: KernelOptions,
    /// `/dev/kmsg`, when the console could not be opened: the log goes there.
    pub kmsg: Option<File>,
    report: Vec<(log::Level, String)>,
}

impl StageOne {
    /// A variable of Phoenix's environment, as the kernel command line overrides it:
    /// `phoenix.services` stands for `$PHOENIX_SERVICES` (so `--services` still wins).
    pub fn environment(&self, name: &str) -> Option<String> {
        match (&self.options.services, name) {
            (Some(dir), "PHOENIX_SERVICES") => Some(dir.display().to_string()),
            _ => None,
        }
    }

    /// Tells what stage 1 did, now that there is a log.
    pub fn tell(&self) {
        for (level, line) in &self.report {
            log::log!(*level, "stage 1: {line}");
        }
    }
}

pub fn stage_one() -> StageOne {
    let mut report = Vec::new();
    if let Some(proc) = STAGE_ONE.iter().find(|mount| mount.target == "/proc") {
        if !Path::new("/proc/self").exists() {
            mount_one(proc, &mut report);
        }
    }
    let mounted = std::fs::read_to_string("/proc/self/mountinfo")
        .map(|text| mount_table::parse_mountinfo(&text))
        .unwrap_or_default();
    for mount in mount_table::missing(&mounted) {
        mount_one(mount, &mut report);
    }
    let kmsg = match console::console_as_stdio() {
        Ok(()) => None,
        Err(error) => match console::open_kmsg() {
            Ok(kmsg) => {
                report.push((
                    log::Level::Warn,
                    format!("{error}: logging to /dev/kmsg{}", kmsg_limit()),
                ));
                Some(kmsg)
            }
            Err(kmsg_error) => {
                report.push((log::Level::Error, format!("{error}, and {kmsg_error}")));
                None
            }
        },
    };
    let options = match std::fs::read_to_string("/proc/cmdline") {
        Ok(text) => cmdline::parse(&text),
        Err(error) => {
            let text = crate::sys::io_error_text(&error);
            report.push((log::Level::Error, format!("/proc/cmdline: {text}")));
            KernelOptions::default()
        }
    };
    for warning in &options.warnings {
        report.push((log::Level::Warn, warning.clone()));
    }
    report.push(set_hostname());
    report.push(match network::loopback_up() {
        Ok(()) => (log::Level::Info, "loopback interface lo up".to_string()),
        Err(error) => (log::Level::Error, format!("unable to bring lo up: {error}")),
    });
    if let Err(error) = power::hand_ctrl_alt_del_to_init() {
        let line = format!("Ctrl-Alt-Del stays the kernel's (reboot(RB_DISABLE_CAD): {error})");
        report.push((log::Level::Warn, line));
    }
    StageOne {
        options,
        kmsg,
        report,
    }
}

/// The kernel drops a writer's lines to `/dev/kmsg` beyond 10 in 5 seconds unless
/// `printk.devkmsg=on`: said once, so a short log is not taken for a quiet boot.
fn kmsg_limit() -> &'static str {
    match std::fs::read_to_string("/proc/sys/kernel/printk_devkmsg") {
        Ok(setting) if setting.trim() == "on" => "",
        _ => " (the kernel keeps 10 lines in 5s of it: boot with printk.devkmsg=on for all)",
    }
}

fn mount_one(mount: &StageOneMount, report: &mut Vec<(log::Level, String)>) {
    report.push(match mounts::mount(mount) {
        Ok(()) => (
            log::Level::Info,
            format!("mounted {} ({})", mount.target, mount.fstype),
        ),
        Err(error) => (
            log::Level::Error,
            format!(
                "unable to mount {} ({}): {error}; booting on without it",
                mount.target, mount.fstype
            ),
        ),
    });
}

fn set_hostname() -> (log::Level, String) {
    let path = PathBuf::from("/etc/hostname");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return (
                log::Level::Info,
                "no /etc/hostname, hostname left as the kernel's".into(),
            );
        }
        Err(error) => {
            let text = crate::sys::io_error_text(&error);
            return (log::Level::Error, format!("{}: {text}", path.display()));
        }
    };
    match super::hostname::parse(&text).and_then(|name| {
        network::set_hostname(&name)
            .map(|()| name.clone())
            .map_err(|error| format!("unable to set the hostname '{name}': {error}"))
    }) {
        Ok(name) => (log::Level::Info, format!("hostname {name}")),
        Err(error) => (
            log::Level::Error,
            format!("{error}; hostname left as the kernel's"),
        ),
    }
}
