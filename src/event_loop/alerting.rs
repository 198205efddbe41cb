//! Alert delivery as the shell's: each `Action::SendAlert` runs the `[alerts] exec` hook as
//! a child (the JSON on its stdin, `PHOENIX_ALERT_*` in its environment), killed with its
//! group at `HOOK_TIMEOUT`. Its exit is reaped by the loop's drain like any child's, but
//! comes back to the core as `Event::AlertDelivered` rather than as an orphan's exit.
//! The webhook is not delivered yet (a warning at start says so).

use std::time::{Duration, Instant, SystemTime};

use crate::alerts::{Alert, json_body};
use crate::control::event_log::format_rfc3339;
use crate::core::{Event, Pid, Target};
use crate::exit_status::ExitStatus;
use crate::sys::alert_hook::spawn_alert_hook;
use crate::sys::process;
use crate::unit::{AlertSettings, Signal};

use super::EventLoop;

/// An exec hook still running after this is killed, and its alert counted as failed.
const HOOK_TIMEOUT: Duration = Duration::from_secs(10);

/// A running hook: its pid, its deadline, whether it was killed at it.
#[derive(Debug)]
struct Hook {
    pid: Pid,
    deadline: Instant,
    killed: bool,
}

#[derive(Debug, Default)]
pub struct AlertHooks {
    settings: AlertSettings,
    running: Vec<Hook>,
}

impl AlertHooks {
    pub fn new(settings: AlertSettings) -> AlertHooks {
        if let Some(webhook) = &settings.webhook {
            log::warn!(
                "alerts: webhook http://{}{} is not delivered to yet (only exec is)",
                webhook.host_header,
                webhook.path
            );
        }
        AlertHooks {
            settings,
            running: Vec::new(),
        }
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.running
            .iter()
            .filter(|hook| !hook.killed)
            .map(|hook| hook.deadline)
            .min()
    }

    /// Kills the hooks past their deadline (their exits are reaped later).
    pub fn expire(&mut self, now: Instant) {
        for hook in self
            .running
            .iter_mut()
            .filter(|h| !h.killed && h.deadline <= now)
        {
            log::warn!(
                "alerts: exec hook (pid {}) still running after {}s, killing it",
                hook.pid,
                HOOK_TIMEOUT.as_secs()
            );
            process::send_signal(Target::Group(hook.pid), Signal::KILL);
            hook.killed = true;
        }
    }

    /// The event for a reaped child: `AlertDelivered` for a hook, else its exit.
    pub fn reaped(&mut self, pid: Pid, status: ExitStatus) -> Event {
        let Some(at) = self.running.iter().position(|hook| hook.pid == pid) else {
            return Event::Exited { pid, status };
        };
        let hook = self.running.swap_remove(at);
        let ok = status.is_success() && !hook.killed;
        if ok {
            log::debug!("alerts: exec hook (pid {pid}) delivered the alert");
        } else {
            log::warn!("alerts: exec hook (pid {pid}) failed ({status})");
        }
        Event::AlertDelivered { ok }
    }
}

/// The wall-clock time of an instant the core saw.
fn wall_time(at: Instant) -> SystemTime {
    let ago = Instant::now().saturating_duration_since(at);
    SystemTime::now()
        .checked_sub(ago)
        .unwrap_or_else(SystemTime::now)
}

impl EventLoop {
    pub(super) fn send_alert(&mut self, alert: &Alert) {
        log::info!(
            "{}: alert {} {} ({})",
            alert.service,
            alert.level.name(),
            alert.kind.name(),
            alert.summary
        );
        let Some(argv) = self.alert_hooks.settings.exec.clone() else {
            return;
        };
        let time = format_rfc3339(wall_time(alert.at));
        let environment = [
            ("PHOENIX_ALERT_LEVEL", alert.level.name()),
            ("PHOENIX_ALERT_SERVICE", alert.service.as_str()),
            ("PHOENIX_ALERT_KIND", alert.kind.name()),
            ("PHOENIX_ALERT_SUMMARY", alert.summary.as_str()),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_string(), Some(value.to_string())))
        .collect();
        let body = json_body(alert, &time);
        match spawn_alert_hook(&argv, environment, &body, self.signals.child_signals()) {
            Ok(pid) => self.alert_hooks.running.push(Hook {
                pid,
                deadline: Instant::now() + HOOK_TIMEOUT,
                killed: false,
            }),
            Err(error) => {
                log::warn!("alerts: unable to run the exec hook: {}", error.message);
                self.queue.push_back(Event::AlertDelivered { ok: false });
            }
        }
    }
}
