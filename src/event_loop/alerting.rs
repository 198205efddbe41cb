//! Alert delivery as the shell's: each `Action::SendAlert` runs the `[alerts] exec` hook as
//! a child (the JSON on its stdin, `PHOENIX_ALERT_*` in its environment), killed with its
//! group at `HOOK_TIMEOUT`, and posts to the `webhook` (`webhooks.rs`) in its `format`.
//! A hook's exit is reaped by the loop's drain like any child's, but comes back to the core
//! as `Event::AlertDelivered` rather than as an orphan's exit; so does a webhook's end.
//! `Action::ResolveAlerts` goes to an `alertmanager` webhook only: the other channels got
//! the recovery's own alert, and only Alertmanager holds alerts that need closing.

use std::time::{Duration, Instant};

use mio::{Registry, Token};

use crate::alerts::{Alert, Firing, alertmanager_body, alertmanager_resolution, json_body};
use crate::clocks::Clocks;
use crate::control::event_log::format_rfc3339;
use crate::core::{Event, Pid, Target};
use crate::exit_status::ExitStatus;
use crate::sys::alert_hook::spawn_alert_hook;
use crate::sys::process;
use crate::unit::{AlertFormat, AlertSettings, Signal};

use super::EventLoop;
use super::webhooks::Webhooks;

/// An exec hook still running after this is killed, and its alert counted as failed.
const HOOK_TIMEOUT: Duration = Duration::from_secs(10);

/// A running hook: its pid, its deadline, whether it was killed at it.
#[derive(Debug)]
struct Hook {
    pid: Pid,
    deadline: Instant,
    killed: bool,
}

pub struct AlertHooks {
    settings: AlertSettings,
    running: Vec<Hook>,
    webhooks: Option<Webhooks>,
}

impl AlertHooks {
    /// The channels of `settings`; webhook deliveries take the tokens `first_token ..
    /// first_token + capacity`.
    pub fn new(settings: AlertSettings, first_token: usize, capacity: usize) -> AlertHooks {
        let webhooks = settings
            .webhook
            .clone()
            .map(|target| Webhooks::new(target, first_token, capacity));
        AlertHooks {
            settings,
            running: Vec::new(),
            webhooks,
        }
    }

    pub fn owns(&self, token: Token) -> bool {
        self.webhooks.as_ref().is_some_and(|w| w.owns(token))
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        let hooks = self
            .running
            .iter()
            .filter(|hook| !hook.killed)
            .map(|hook| hook.deadline)
            .min();
        let webhooks = self.webhooks.as_ref().and_then(Webhooks::next_deadline);
        [hooks, webhooks].into_iter().flatten().min()
    }

    /// A readiness event on a webhook delivery's socket.
    pub fn handle(
        &mut self,
        token: Token,
        now: Instant,
        registry: &Registry,
        events: &mut std::collections::VecDeque<Event>,
    ) {
        if let Some(webhooks) = &mut self.webhooks {
            webhooks.handle(token, now, registry, events);
        }
    }

    /// Kills the hooks past their deadline (their exits are reaped later); fails webhook
    /// tries past theirs and starts the retries that are due.
    pub fn expire(
        &mut self,
        now: Instant,
        registry: &Registry,
        events: &mut std::collections::VecDeque<Event>,
    ) {
        if let Some(webhooks) = &mut self.webhooks {
            webhooks.expire(now, registry, events);
        }
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

impl EventLoop {
    pub(super) fn send_alert(&mut self, alert: &Alert) {
        log::info!(
            "{}: alert {} {} ({})",
            alert.service,
            alert.level.name(),
            alert.kind.name(),
            alert.summary
        );
        let clocks = Clocks::now();
        let time = format_rfc3339(clocks.to_system_time(alert.at));
        if self.alert_hooks.webhooks.is_some() {
            let body = match self.alert_hooks.settings.format {
                AlertFormat::Json => json_body(alert, &time),
                AlertFormat::Alertmanager => alertmanager_body(alert, &time),
            };
            let what = format!("the {} alert of {}", alert.kind.name(), alert.service);
            self.post_to_webhook(&body, what);
        }
        let Some(argv) = self.alert_hooks.settings.exec.clone() else {
            return;
        };
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

impl EventLoop {
    /// `Action::ResolveAlerts`: to an `alertmanager` webhook, the alerts as they fired
    /// with `endsAt` now.
    pub(super) fn resolve_alerts(&mut self, firing: &[Firing]) {
        if self.alert_hooks.settings.format != AlertFormat::Alertmanager
            || self.alert_hooks.webhooks.is_none()
        {
            return;
        }
        let clocks = Clocks::now();
        let started: Vec<String> = firing
            .iter()
            .map(|alert| format_rfc3339(clocks.to_system_time(alert.started)))
            .collect();
        let now = format_rfc3339(clocks.to_system_time(Instant::now()));
        let body = alertmanager_resolution(firing, &started, &now);
        let services: Vec<&str> = firing.iter().map(|alert| alert.service.as_str()).collect();
        log::info!(
            "alerts: resolving {} alert(s) of {}",
            firing.len(),
            services.join(", ")
        );
        let what = format!("the resolution of {} alert(s)", firing.len());
        self.post_to_webhook(&body, what);
    }

    fn post_to_webhook(&mut self, body: &str, what: String) {
        if let Some(webhooks) = &mut self.alert_hooks.webhooks {
            let registry = self.poll.registry();
            webhooks.post(body, what, Instant::now(), registry, &mut self.queue);
        }
    }
}
