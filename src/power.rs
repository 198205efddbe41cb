//! How a run ends on a machine (DESIGN.md §10): reboot, power off or halt, which request
//! wins when a second one arrives during a shutdown, what each means inside a container,
//! and which signals ask for which on bare metal. Pure: the `reboot(2)` is the shell's
//! (`sys::power`), the final sequence before it `boot::final_sequence`.

use serde::{Deserialize, Serialize};

use crate::unit::Signal;

/// The exit status of a container whose init was asked to reboot: systemd-nspawn's
/// convention (its units restart on it with `RestartForceExitStatus=133`), so an
/// orchestrator can tell "start me again" from a clean stop (0) and from a failure.
pub const CONTAINER_REBOOT_EXIT: u8 = 133;

/// What the final `reboot(2)` asks the kernel for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PowerAction {
    // Declared weakest first: a later request replaces an earlier one only when it is
    // stronger, so the derived order is the rule (see `stronger`).
    Reboot,
    Halt,
    Poweroff,
}

impl PowerAction {
    pub fn name(self) -> &'static str {
        match self {
            PowerAction::Reboot => "reboot",
            PowerAction::Halt => "halt",
            PowerAction::Poweroff => "poweroff",
        }
    }

    /// The action a shutdown ends with when `requested` arrives while `current` was
    /// already chosen: the stronger of the two. A reboot brings the machine back, a halt
    /// stops it, a power-off stops it and cuts the power: an operator who asked for less
    /// downtime is overruled by one who asked for the machine to stay down, never the
    /// other way round.
    pub fn stronger(current: Option<PowerAction>, requested: PowerAction) -> PowerAction {
        current.map_or(requested, |current| current.max(requested))
    }

    /// Inside a container there is no machine to reboot: the run ends in order with this
    /// status, 0 for poweroff and halt, [`CONTAINER_REBOOT_EXIT`] for reboot.
    pub fn container_exit_code(self) -> u8 {
        match self {
            PowerAction::Reboot => CONTAINER_REBOOT_EXIT,
            PowerAction::Halt | PowerAction::Poweroff => 0,
        }
    }

    /// What a signal to a machine's PID 1 asks for: SIGINT is the kernel's Ctrl-Alt-Del
    /// (once `reboot(RB_DISABLE_CAD)` handed it to init) and reboots; SIGPWR (a UPS
    /// daemon, `systemd`'s convention) powers off; busybox's `halt`, `poweroff` and
    /// `reboot` send SIGUSR1, SIGUSR2 and SIGTERM; systemd's `halt` sends SIGRTMIN+3.
    pub fn for_machine_signal(signal: Signal) -> Option<PowerAction> {
        match signal {
            Signal::INT | Signal::TERM => Some(PowerAction::Reboot),
            Signal::PWR | Signal::USR2 => Some(PowerAction::Poweroff),
            Signal::USR1 | Signal::RTMIN_3 => Some(PowerAction::Halt),
            _ => None,
        }
    }
}

impl std::fmt::Display for PowerAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stronger_request_wins_whatever_the_order() {
        use PowerAction::*;
        // (current, requested, result)
        let rows = [
            (None, Reboot, Reboot),
            (None, Poweroff, Poweroff),
            (Some(Reboot), Poweroff, Poweroff),
            (Some(Poweroff), Reboot, Poweroff),
            (Some(Halt), Reboot, Halt),
            (Some(Halt), Poweroff, Poweroff),
            (Some(Poweroff), Halt, Poweroff),
            (Some(Reboot), Reboot, Reboot),
        ];
        for (current, requested, expected) in rows {
            assert_eq!(
                PowerAction::stronger(current, requested),
                expected,
                "{current:?} then {requested:?}"
            );
        }
    }

    #[test]
    fn machine_signals_follow_the_kernel_and_busybox() {
        use PowerAction::*;
        let rows = [
            (Signal::INT, Some(Reboot)),
            (Signal::TERM, Some(Reboot)),
            (Signal::PWR, Some(Poweroff)),
            (Signal::USR2, Some(Poweroff)),
            (Signal::USR1, Some(Halt)),
            (Signal::RTMIN_3, Some(Halt)),
            (Signal::HUP, None),
            (Signal::CHLD, None),
        ];
        for (signal, expected) in rows {
            assert_eq!(
                PowerAction::for_machine_signal(signal),
                expected,
                "{signal}"
            );
        }
    }

    #[test]
    fn in_a_container_only_reboot_asks_to_be_started_again() {
        assert_eq!(PowerAction::Reboot.container_exit_code(), 133);
        assert_eq!(PowerAction::Poweroff.container_exit_code(), 0);
        assert_eq!(PowerAction::Halt.container_exit_code(), 0);
    }
}
