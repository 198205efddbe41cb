//! What Phoenix tells the service manager above it (systemd, through Phoenix's own
//! `NOTIFY_SOCKET`; DESIGN.md §7): `READY=1` once, when startup is over; `STATUS=` with a
//! one-line summary whenever the summary changes; `STOPPING=1` when shutdown begins. Pure:
//! it only emits `Action::NotifyManager`, which the shell sends, or drops when nothing
//! listens. `WATCHDOG=1` is the shell's own, since it proves the loop turns.
//!
//! "Startup is over" is systemd's meaning of a started unit: every wanted service has
//! settled — ready (a daemon up, a oneshot finished well), or given up on for now (failed,
//! exited, cooling down, or waiting on a dependency that failed). Holding `READY=1` back
//! for a service that keeps failing would have systemd kill Phoenix at `TimeoutStartSec`,
//! taking the healthy services down too; the `STATUS=` line tells the failure instead. The
//! command-line main service counts like any other: once it runs, Phoenix is ready. A
//! re-exec starts over and may send `READY=1` again, which systemd accepts.

use crate::core::Action;
use crate::health::Health;
use crate::service::{Service, State};

use super::Supervisor;

/// What was already told upward.
#[derive(Debug, Default)]
pub(super) struct Upward {
    ready_sent: bool,
    stopping_sent: bool,
    last_status: Option<String>,
}

fn message(text: String) -> Action {
    Action::NotifyManager { message: text }
}

impl Supervisor {
    /// The messages this step's changes call for, to be sent after its other actions.
    pub(super) fn notify_upward(&mut self) -> Vec<Action> {
        let mut actions = Vec::new();
        if self.shutting_down && !self.upward.stopping_sent {
            self.upward.stopping_sent = true;
            actions.push(message("STOPPING=1".to_string()));
        }
        let status = summary(self.visible(), self.invalid.len());
        if self.upward.last_status.as_ref() != Some(&status) {
            actions.push(message(format!("STATUS={status}")));
            self.upward.last_status = Some(status);
        }
        if !self.shutting_down && !self.upward.ready_sent && self.is_started() {
            self.upward.ready_sent = true;
            log::info!(
                "startup over: {}",
                self.upward.last_status.as_deref().unwrap_or_default()
            );
            actions.push(message("READY=1".to_string()));
        }
        actions
    }

    fn visible(&self) -> impl Iterator<Item = &Service> {
        self.services.iter().filter(|s| !s.removed)
    }

    /// Every wanted service has settled (see the file's doc).
    fn is_started(&self) -> bool {
        self.visible().filter(|s| s.wanted).all(|service| {
            service.is_settled()
                || (service.state == State::Down
                    && self
                        .blocker(service.index)
                        .is_some_and(|(_, hopeless)| hopeless))
        })
    }
}

/// "8 services: 7 running, 1 cooldown; 1 unhealthy", states in their table's order; an
/// invalid unit counts as failed, as `status` shows it.
pub(super) fn summary<'a>(services: impl Iterator<Item = &'a Service>, invalid: usize) -> String {
    let mut counts = [0usize; State::ALL.len()];
    let mut unhealthy = 0;
    for service in services {
        if let Some(position) = State::ALL.iter().position(|&s| s == service.state) {
            if let Some(count) = counts.get_mut(position) {
                *count += 1;
            }
        }
        let health = service.watch.health.as_ref().map(|t| t.health());
        unhealthy += usize::from(health == Some(Health::Unhealthy));
    }
    if let Some(position) = State::ALL.iter().position(|&s| s == State::Failed) {
        if let Some(count) = counts.get_mut(position) {
            *count += invalid;
        }
    }
    let total: usize = counts.iter().sum();
    let parts: Vec<String> = State::ALL
        .iter()
        .zip(counts)
        .filter(|(_, count)| *count > 0)
        .map(|(state, count)| format!("{count} {state}"))
        .collect();
    let noun = if total == 1 { "service" } else { "services" };
    let mut line = format!("{total} {noun}");
    if !parts.is_empty() {
        line.push_str(&format!(": {}", parts.join(", ")));
    }
    if unhealthy > 0 {
        line.push_str(&format!("; {unhealthy} unhealthy"));
    }
    line
}
