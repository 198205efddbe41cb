//! Power requests (DESIGN.md §10): `phoenixctl reboot|poweroff|halt`, a machine's power
//! signals and `on-critical-failure = "reboot" | "poweroff" | "rescue"`. Each begins the
//! orderly shutdown; on a machine the shutdown then ends with the final sequence and
//! `reboot(2)`, in a container with an exit status (`PowerAction::container_exit_code`).
//! A request during a shutdown changes only how it ends, and only to a stronger action.
//! A machine's run that ends for any other reason (the main service ended, `shutdown`)
//! powers off: PID 1 of a machine cannot exit.

use std::time::Instant;

use crate::core::Action;
use crate::power::PowerAction;
use crate::unit::CriticalAction;

use super::Supervisor;

impl Supervisor {
    /// A request for `action`, from `source` ("phoenixctl", "SIGINT", …).
    pub(super) fn request_power(
        &mut self,
        action: PowerAction,
        source: &str,
        now: Instant,
    ) -> Vec<Action> {
        let chosen = PowerAction::stronger(self.power, action);
        let unchanged = self.power == Some(chosen);
        self.power = Some(chosen);
        if self.config.machine {
            self.leftovers.end_with(chosen);
        } else {
            self.exit_code = chosen.container_exit_code();
            self.leftovers.exit_with(self.exit_code);
        }
        let outcome = if self.config.machine {
            chosen.to_string()
        } else {
            format!("exit {} (in a container)", self.exit_code)
        };
        if !self.shutting_down {
            log::info!("{source}: {action}, shutting down, then {outcome}");
            return self.begin_shutdown(self.exit_code, now);
        }
        if unchanged || chosen != action {
            log::info!("{source}: {action} during a shutdown that already ends with {outcome}");
        } else {
            log::info!("{source}: {action}: the shutdown under way now ends with {outcome}");
        }
        Vec::new()
    }

    /// A machine's shutdown ends with a power-off unless a request says otherwise.
    pub(super) fn default_power_end(&mut self) {
        if self.config.machine && self.power.is_none() {
            self.leftovers.end_with(PowerAction::Poweroff);
        }
    }

    /// `on-critical-failure` is reboot, poweroff or rescue: `name` exhausted its recovery;
    /// `code` is what an exit would have reported.
    pub(super) fn critical_power(
        &mut self,
        action: CriticalAction,
        name: &str,
        code: u8,
        now: Instant,
    ) -> Vec<Action> {
        let source = format!("{name}: recovery exhausted; on-critical-failure");
        match action {
            CriticalAction::Reboot => {
                log::error!("{source} = \"reboot\"");
                self.request_power(PowerAction::Reboot, &source, now)
            }
            CriticalAction::Poweroff if self.config.machine => {
                log::error!("{source} = \"poweroff\"");
                self.request_power(PowerAction::Poweroff, &source, now)
            }
            // A failure must not look like a clean stop to the orchestrator.
            CriticalAction::Poweroff => {
                log::error!(
                    "{source} = \"poweroff\": no machine to power off in a container, shutting down with status {code}"
                );
                self.begin_shutdown(code, now)
            }
            CriticalAction::Rescue => {
                log::error!("{source} = \"rescue\": handing over to phoenix-rescue");
                vec![Action::Rescue {
                    reason: format!(
                        "{name} exhausted its recovery (on-critical-failure = \"rescue\")"
                    ),
                }]
            }
            CriticalAction::Exit | CriticalAction::None => Vec::new(),
        }
    }
}
