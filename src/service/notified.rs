//! What the service says about itself (DESIGN.md §4.1, §4.3): datagrams on its notify
//! socket and lines on its readiness descriptor — `READY=1`, `STATUS=`, `WATCHDOG=1`,
//! `WATCHDOG=trigger`, `EXTEND_TIMEOUT_USEC=` and the rest. Part of `Service`; pure.

use std::time::{Duration, Instant};

use crate::core::Action;
use crate::notify::NotifyMessage;
use crate::recovery::Detection;
use crate::unit::{ReadyCheck, Signal, format_duration};

use super::{Service, State, TimerKind};

impl Service {
    /// Messages from the service on its notify socket or readiness descriptor.
    pub fn on_notified(&mut self, messages: Vec<NotifyMessage>, now: Instant) -> Vec<Action> {
        let mut actions = Vec::new();
        for message in messages {
            if self.pid.is_none() {
                break;
            }
            actions.extend(self.on_message(message, now));
        }
        actions
    }

    fn on_message(&mut self, message: NotifyMessage, now: Instant) -> Vec<Action> {
        let name = &self.unit.name;
        match message {
            NotifyMessage::Ready => match (&self.unit.ready.check, self.state) {
                (ReadyCheck::Notify, State::Starting) => self.become_ready(now, "ready: READY=1"),
                (ReadyCheck::Fd(fd), State::Starting) => {
                    let detail = format!("ready: a line on fd {fd}");
                    self.become_ready(now, &detail)
                }
                _ => Vec::new(),
            },
            NotifyMessage::Status(text) => {
                log::debug!("{name}: STATUS={text}");
                self.watch.status_text = Some(text);
                Vec::new()
            }
            NotifyMessage::Errno(errno) => {
                log::info!("{name}: reports errno {errno}");
                self.watch.errno = Some(errno);
                Vec::new()
            }
            NotifyMessage::Watchdog if self.state.is_up() => {
                let Some(watchdog) = &self.unit.watchdog else {
                    return Vec::new();
                };
                self.watch.last_ping = Some(now);
                vec![Action::ArmTimer {
                    timer: self.timer(TimerKind::Watchdog),
                    deadline: now + watchdog.timeout,
                }]
            }
            NotifyMessage::WatchdogTrigger if self.unit.watchdog.is_some() => {
                let signal = self
                    .unit
                    .watchdog
                    .as_ref()
                    .map_or(Signal::ABRT, |w| w.signal);
                let detection = (Detection::Hung, Duration::ZERO);
                self.fail_running(
                    "hung (WATCHDOG=trigger)".to_string(),
                    signal,
                    detection,
                    now,
                )
            }
            NotifyMessage::ExtendTimeout(extra) => self.extend_timeout(extra, now),
            NotifyMessage::Reloading => {
                log::info!("{name}: reloading (RELOADING=1)");
                Vec::new()
            }
            NotifyMessage::Stopping => {
                log::info!("{name}: stopping (STOPPING=1)");
                Vec::new()
            }
            NotifyMessage::MainPid(pid) => {
                log::debug!(
                    "{name}: MAINPID={pid} ignored: Phoenix follows the process it started"
                );
                Vec::new()
            }
            NotifyMessage::Watchdog | NotifyMessage::WatchdogTrigger => Vec::new(),
        }
    }

    /// `EXTEND_TIMEOUT_USEC`: the start may take until now + `extra`, never less than
    /// it already had (systemd's rule).
    fn extend_timeout(&mut self, extra: Duration, now: Instant) -> Vec<Action> {
        let (State::Starting, Some(current)) = (self.state, self.watch.ready_deadline) else {
            return Vec::new();
        };
        let Some(wanted) = now.checked_add(extra) else {
            return Vec::new();
        };
        if wanted <= current {
            return Vec::new();
        }
        log::info!(
            "{}: start may take {} more (EXTEND_TIMEOUT_USEC)",
            self.unit.name,
            format_duration(extra)
        );
        self.watch.ready_deadline = Some(wanted);
        vec![Action::ArmTimer {
            timer: self.timer(TimerKind::ReadyTimeout),
            deadline: wanted,
        }]
    }
}
