//! `[hardware-watchdog]` as the loop sees it: the device opened at start, petted every half
//! of its timeout from the loop itself — the pet's deadline is the one wake-up it adds, so
//! a loop that stops turning stops petting and the machine resets — and disarmed with the
//! magic close when the run ends in order. A device that is missing or refuses the timeout
//! is one error line; supervision goes on without it.

use std::time::{Duration, Instant};

use crate::sys::hardware_watchdog::WatchdogDevice;
use crate::unit::HardwareWatchdogSettings;

pub struct HardwareWatchdog {
    device: WatchdogDevice,
    interval: Duration,
    due: Instant,
}

impl HardwareWatchdog {
    pub fn open(settings: &HardwareWatchdogSettings, now: Instant) -> Option<HardwareWatchdog> {
        match WatchdogDevice::open(&settings.device, settings.timeout) {
            Ok((device, timeout)) => {
                let interval = (timeout / 2).max(Duration::from_millis(500));
                log::info!(
                    "hardware watchdog {}: armed, timeout {}, petted every {}",
                    settings.device.display(),
                    crate::unit::format_duration(timeout),
                    crate::unit::format_duration(interval)
                );
                Some(HardwareWatchdog {
                    device,
                    interval,
                    due: now + interval,
                })
            }
            Err(error) => {
                log::error!("hardware watchdog: {error}; running without one");
                None
            }
        }
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        Some(self.due)
    }

    /// Pets when due; the next pet is an interval from now.
    pub fn pet_if_due(&mut self, now: Instant) {
        if now < self.due {
            return;
        }
        if let Err(error) = self.device.pet() {
            log::warn!("hardware watchdog: unable to pet {error}");
        }
        self.due = now + self.interval;
    }

    /// The orderly end: the magic close, so the coming power action or exit is not cut
    /// short by a reset.
    pub fn disarm(self) {
        let path = self.device.path().display().to_string();
        match self.device.disarm() {
            Ok(()) => log::info!("hardware watchdog {path}: disarmed"),
            Err(error) => log::warn!("hardware watchdog: unable to disarm {error}"),
        }
    }
}

/// The watchdog of `[hardware-watchdog]`, if it is set and its device works.
pub fn open(settings: Option<&HardwareWatchdogSettings>) -> Option<HardwareWatchdog> {
    settings.and_then(|settings| HardwareWatchdog::open(settings, Instant::now()))
}

impl super::EventLoop {
    pub(super) fn watchdog_deadline(&self) -> Option<Instant> {
        self.hardware_watchdog
            .as_ref()
            .and_then(HardwareWatchdog::next_deadline)
    }

    pub(super) fn pet_watchdog(&mut self, now: Instant) {
        if let Some(watchdog) = &mut self.hardware_watchdog {
            watchdog.pet_if_due(now);
        }
    }

    /// Disarms the hardware watchdog (the magic close): the run ends in order.
    pub fn disarm_watchdog(&mut self) {
        if let Some(watchdog) = self.hardware_watchdog.take() {
            watchdog.disarm();
        }
    }
}
