//! `reboot(2)`: handing Ctrl-Alt-Del to PID 1 as SIGINT, and the machine's last call.

use crate::power::PowerAction;

/// Ctrl-Alt-Del sends SIGINT to PID 1 instead of rebooting at once (`RB_DISABLE_CAD`), so
/// it gets the orderly sequence.
pub fn hand_ctrl_alt_del_to_init() -> Result<(), String> {
    // SAFETY: reboot(2) with a command constant touches no memory.
    if unsafe { libc::reboot(libc::RB_DISABLE_CAD) } == 0 {
        Ok(())
    } else {
        Err(super::io_error_text(&std::io::Error::last_os_error()))
    }
}

/// Reboots, halts or powers off now; returns only on failure, with its text.
pub fn reboot(action: PowerAction) -> String {
    let command = match action {
        PowerAction::Reboot => libc::RB_AUTOBOOT,
        PowerAction::Halt => libc::RB_HALT_SYSTEM,
        PowerAction::Poweroff => libc::RB_POWER_OFF,
    };
    // SAFETY: as above.
    unsafe { libc::reboot(command) };
    super::io_error_text(&std::io::Error::last_os_error())
}
