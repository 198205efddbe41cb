//! The `[hardware-watchdog]` table of `phoenix.toml` (DESIGN.md §10): the watchdog device
//! the loop pets and its timeout. Parsing only; the device is the shell's
//! (`event_loop/hardware_watchdog.rs`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::super::error::UnitError;
use super::super::value::DurationValue;

/// The shortest timeout accepted: the loop pets every half of it.
pub const MIN_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HardwareWatchdogSettings {
    pub device: PathBuf,
    /// Whole seconds: the kernel's watchdog API counts in seconds.
    pub timeout: Duration,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "a [hardware-watchdog] table"
)]
pub(super) struct RawHardwareWatchdog {
    device: Option<Spanned<PathBuf>>,
    timeout: Option<Spanned<DurationValue>>,
}

impl RawHardwareWatchdog {
    /// The watchdog, or none without `device`; the timeout is checked either way.
    pub(super) fn settings(
        self,
        path: &Path,
        text: &str,
    ) -> Result<Option<HardwareWatchdogSettings>, UnitError> {
        let timeout = match self.timeout {
            Some(timeout)
                if timeout.get_ref().0 < MIN_TIMEOUT || timeout.get_ref().0.subsec_nanos() != 0 =>
            {
                return Err(UnitError::at(
                    path,
                    text,
                    timeout.span().start,
                    format!(
                        "invalid timeout {}: expected whole seconds, at least 2s",
                        crate::unit::format_duration(timeout.get_ref().0)
                    ),
                ));
            }
            Some(timeout) => timeout.into_inner().0,
            None => Duration::from_secs(60),
        };
        let Some(device) = self.device else {
            return Ok(None);
        };
        if !device.get_ref().is_absolute() {
            return Err(UnitError::at(
                path,
                text,
                device.span().start,
                format!(
                    "invalid device '{}': expected an absolute path",
                    device.get_ref().display()
                ),
            ));
        }
        Ok(Some(HardwareWatchdogSettings {
            device: device.into_inner(),
            timeout,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse_settings;
    use super::*;

    fn parse(text: &str) -> Result<Option<HardwareWatchdogSettings>, UnitError> {
        parse_settings(Path::new("/etc/phoenix/phoenix.toml"), text).map(|s| s.hardware_watchdog)
    }

    #[test]
    fn no_device_means_no_watchdog() {
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(
            parse("[hardware-watchdog]\ntimeout = \"10s\"\n").unwrap(),
            None
        );
    }

    #[test]
    fn a_device_alone_gets_a_minute() {
        let settings = parse("[hardware-watchdog]\ndevice = \"/dev/watchdog\"\n")
            .unwrap()
            .unwrap();
        assert_eq!(settings.device, PathBuf::from("/dev/watchdog"));
        assert_eq!(settings.timeout, Duration::from_secs(60));
    }

    #[test]
    fn bad_timeouts_and_relative_devices_are_refused() {
        for (text, expected) in [
            (
                "timeout = \"1s\"",
                "invalid timeout 1s: expected whole seconds",
            ),
            ("timeout = \"2500ms\"", "invalid timeout 2500ms"),
            ("device = \"watchdog\"", "invalid device 'watchdog'"),
        ] {
            let error = parse(&format!("[hardware-watchdog]\n{text}\n")).unwrap_err();
            assert!(error.message.contains(expected), "{text}: {error}");
        }
    }
}
