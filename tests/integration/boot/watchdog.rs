//! `[hardware-watchdog]` on qemu's emulated Intel 6300ESB: Phoenix pets it from its loop,
//! so the machine outlives the timeout many times over; once the loop stops turning (the
//! test build's fault hook, `PHOENIX_FAULT_HANG_ON`, here passed by the kernel command
//! line into init's environment) the watchdog resets the machine by itself — no final
//! sequence, no `reboot(2)`.

use std::time::Duration;

use super::machine::Image;
use crate::harness::TestResult;

const TIMEOUT: Duration = Duration::from_secs(6);

#[test]
fn the_hardware_watchdog_resets_a_machine_whose_loop_stopped() -> TestResult {
    let mut image = Image::new()?;
    image
        .module("i6300esb")
        .config(&format!(
            "[hardware-watchdog]\ndevice = \"/dev/watchdog\"\ntimeout = \"{}s\"\n",
            TIMEOUT.as_secs()
        ))
        // Waits until the machine has run for three timeouts, petted, then wedges PID 1.
        .unit(
            "wedge",
            "command = [\"/bin/sh\", \"-c\", \"until [ $(cut -d. -f1 /proc/uptime) -ge 20 ]; do sleep 0.2; done; echo wedge: stopping the loop; kill -WINCH 1; exec sleep 1000\"]\n",
        )?;
    let mut machine = image.boot("PHOENIX_FAULT_HANG_ON=SIGWINCH", &["-device", "i6300esb"])?;
    let armed = format!(
        "hardware watchdog /dev/watchdog: armed, timeout {}s",
        TIMEOUT.as_secs()
    );
    machine.wait_for(&armed)?;
    machine.wait_for("fault injected on SIGWINCH: the loop stops turning")?;
    let wedged = machine.uptime();
    let ended = machine.wait_exit()?;
    let console = machine.console();
    let context = machine.context();
    assert!(machine.events().contains("\"WATCHDOG\""), "{context}");
    assert_eq!(
        machine.shutdown_reason().as_deref(),
        Some("guest-reset"),
        "{context}"
    );
    assert!(!console.contains("calling reboot(2)"), "{context}");
    let reset_after = ended.saturating_sub(wedged);
    // The 6300ESB's two stages each take the timeout.
    assert!(
        reset_after <= 2 * TIMEOUT + Duration::from_secs(5),
        "{reset_after:?}{context}"
    );
    eprintln!("watchdog: the loop stopped, the machine reset {reset_after:?} later");
    Ok(())
}
