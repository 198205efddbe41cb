//! The end of a machine's run (DESIGN.md §10), once the core stopped every service and
//! ended every leftover process: sync, unmount every filesystem of the mount table deepest
//! first — one that will not unmount is remounted read-only, and named — the root
//! remounted read-only, sync again, a bounded wait for the console to send what it holds,
//! then `reboot(2)`. Each step is one log line.

use std::path::Path;

use super::mount_table::{self, MountEntry};
use crate::power::PowerAction;
use crate::sys::{degraded, mounts, power};

/// How long the console gets to send what it still holds before `reboot(2)`.
const CONSOLE_DRAIN: std::time::Duration = std::time::Duration::from_secs(2);

/// Never returns: the machine reboots, halts or powers off, or, if the kernel refuses,
/// Phoenix reaps forever.
pub fn final_sequence(action: PowerAction) -> ! {
    log::info!("final sequence: {action}");
    log::info!("syncing filesystems");
    mounts::sync();
    match std::fs::read_to_string("/proc/self/mountinfo") {
        Ok(text) => {
            for entry in mount_table::unmount_order(mount_table::parse_mountinfo(&text)) {
                unmount(&entry);
            }
        }
        Err(error) => log::error!(
            "/proc/self/mountinfo: {}; nothing unmounted",
            crate::sys::io_error_text(&error)
        ),
    }
    mounts::sync();
    log::info!("{action}: calling reboot(2)");
    crate::sys::log_console::drain_terminal(CONSOLE_DRAIN);
    let error = power::reboot(action);
    log::error!("reboot(2) refused the {action}: {error}");
    degraded::reap_forever()
}

fn unmount(entry: &MountEntry) {
    let target = entry.target.display();
    let fstype = &entry.fstype;
    if entry.target == Path::new("/") {
        match mounts::remount_read_only(&entry.target) {
            Ok(()) => log::info!("remounted / ({fstype}) read-only"),
            Err(error) => log::error!("unable to remount / ({fstype}) read-only: {error}"),
        }
        return;
    }
    let Err(error) = mounts::unmount(&entry.target) else {
        log::info!("unmounted {target} ({fstype})");
        return;
    };
    match mounts::remount_read_only(&entry.target) {
        Ok(()) => {
            log::warn!("{target} ({fstype}): unable to unmount ({error}), remounted read-only")
        }
        Err(remount) => log::error!(
            "{target} ({fstype}): unable to unmount ({error}) or remount read-only ({remount})"
        ),
    }
}
