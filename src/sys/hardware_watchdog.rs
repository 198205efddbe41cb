//! A hardware watchdog device (`/dev/watchdog`, the kernel's watchdog API): opened (which
//! arms it), its timeout set with `WDIOC_SETTIMEOUT`, petted with `WDIOC_KEEPALIVE`, and
//! disarmed by the magic close — writing `V` just before closing — on an orderly end. A
//! close without `V` (a crash, an exec) leaves it armed: the machine resets unless a new
//! Phoenix opens it again in time.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

// <linux/watchdog.h>: _IOR('W', 5, int) and _IOWR('W', 6, int).
const WDIOC_KEEPALIVE: libc::c_ulong = 0x8004_5705;
const WDIOC_SETTIMEOUT: libc::c_ulong = 0xC004_5706;

pub struct WatchdogDevice {
    file: File,
    path: PathBuf,
}

impl WatchdogDevice {
    /// Opens `path` and sets its timeout; returns the device and the timeout the driver
    /// chose (it may round). A device that refuses the timeout is disarmed again at once.
    pub fn open(path: &Path, timeout: Duration) -> Result<(WatchdogDevice, Duration), String> {
        let file = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|error| format!("{}: {}", path.display(), super::io_error_text(&error)))?;
        let device = WatchdogDevice {
            file,
            path: path.to_path_buf(),
        };
        let mut seconds = libc::c_int::try_from(timeout.as_secs()).unwrap_or(libc::c_int::MAX);
        let asked = seconds;
        // SAFETY: WDIOC_SETTIMEOUT reads and writes one int, `seconds`, which outlives it.
        let result =
            unsafe { libc::ioctl(device.file.as_raw_fd(), WDIOC_SETTIMEOUT, &mut seconds) };
        if result != 0 {
            let error = std::io::Error::last_os_error();
            let message = format!(
                "{}: refuses a timeout of {asked}s: {}",
                path.display(),
                super::io_error_text(&error)
            );
            // Opening armed it: left like this it would reset the machine.
            if let Err(close) = device.disarm() {
                return Err(format!("{message}; and {close}"));
            }
            return Err(message);
        }
        let chosen = Duration::from_secs(u64::try_from(seconds).unwrap_or(0));
        Ok((device, chosen))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn pet(&self) -> Result<(), String> {
        let mut ignored: libc::c_int = 0;
        // SAFETY: WDIOC_KEEPALIVE takes a pointer to an int it does not need; it is valid.
        let result = unsafe { libc::ioctl(self.file.as_raw_fd(), WDIOC_KEEPALIVE, &mut ignored) };
        if result == 0 {
            return Ok(());
        }
        Err(format!(
            "{}: {}",
            self.path.display(),
            super::io_error_text(&std::io::Error::last_os_error())
        ))
    }

    /// The magic close: `V`, then the close that stops the timer.
    pub fn disarm(mut self) -> Result<(), String> {
        self.file
            .write_all(b"V")
            .map_err(|error| format!("{}: {}", self.path.display(), super::io_error_text(&error)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_device_is_an_error_naming_it() {
        let error =
            WatchdogDevice::open(Path::new("/nonexistent/watchdog"), Duration::from_secs(5))
                .err()
                .unwrap();
        assert!(
            error.contains("/nonexistent/watchdog: No such file"),
            "{error}"
        );
    }

    #[test]
    fn a_file_that_is_no_watchdog_refuses_the_timeout() {
        let file = tempfile::NamedTempFile::new().unwrap();
        let error = WatchdogDevice::open(file.path(), Duration::from_secs(5))
            .err()
            .unwrap();
        assert!(error.contains("refuses a timeout of 5s"), "{error}");
        // The magic close went to the file.
        assert_eq!(std::fs::read(file.path()).unwrap(), b"V");
    }
}
