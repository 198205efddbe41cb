//! A machine's PID 1 and its console: `/dev/console` made stdin, stdout and stderr (not
//! the controlling terminal: a ^C there must not reach PID 1 as SIGINT, which means
//! reboot), `/dev/kmsg` for the log when there is no console, and the time since boot that
//! stamps each console line.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::time::Duration;

/// Opens `/dev/console` and makes it descriptors 0, 1 and 2.
pub fn console_as_stdio() -> Result<(), String> {
    let console = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY)
        .open("/dev/console")
        .map_err(|error| format!("/dev/console: {}", super::io_error_text(&error)))?;
    for target in 0..=2 {
        // SAFETY: dup2 onto the standard descriptors, from one that is open.
        if unsafe { libc::dup2(console.as_raw_fd(), target) } < 0 {
            let error = std::io::Error::last_os_error();
            return Err(format!(
                "/dev/console: dup2: {}",
                super::io_error_text(&error)
            ));
        }
    }
    Ok(())
}

/// `/dev/kmsg`, for a log without a console.
pub fn open_kmsg() -> Result<File, String> {
    OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_CLOEXEC)
        .open("/dev/kmsg")
        .map_err(|error| format!("/dev/kmsg: {}", super::io_error_text(&error)))
}

/// Time since boot (`CLOCK_BOOTTIME`), as the kernel stamps its own lines.
pub fn since_boot() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec.
    if unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut now) } != 0 {
        return Duration::ZERO;
    }
    Duration::new(
        u64::try_from(now.tv_sec).unwrap_or(0),
        u32::try_from(now.tv_nsec).unwrap_or(0),
    )
}
