//! The service manager above Phoenix, as the loop sees it: the core's `NotifyManager`
//! messages sent on, and `WATCHDOG=1` every half of `WATCHDOG_USEC`, from the loop itself so
//! a loop that stops turning stops the pings. Without `WATCHDOG_USEC` there is no deadline,
//! hence no wake-up.

use std::time::{Duration, Instant};

use crate::sys::service_manager::ManagerSocket;

pub struct Manager {
    socket: ManagerSocket,
    /// The ping interval and when the next ping is due.
    watchdog: Option<(Duration, Instant)>,
}

impl Manager {
    /// The first ping is due at once.
    pub fn new(socket: ManagerSocket, watchdog: Option<Duration>, now: Instant) -> Manager {
        Manager {
            socket,
            watchdog: watchdog.map(|interval| (interval, now)),
        }
    }

    pub fn notify(&mut self, message: &str) {
        self.socket.send(message);
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.watchdog.map(|(_, due)| due)
    }

    /// Pings when due; the next ping is an interval from now, so a late wake-up never
    /// causes a burst.
    pub fn ping_if_due(&mut self, now: Instant) {
        let Some((interval, due)) = self.watchdog else {
            return;
        };
        if now >= due {
            self.socket.send("WATCHDOG=1");
            self.watchdog = Some((interval, now + interval));
        }
    }
}
