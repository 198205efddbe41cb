//! `phoenix.rescue=shell` on the kernel command line: after stage 1 Phoenix hands the
//! machine to `phoenix-rescue`, which runs the units it can read and a shell on the
//! console.

use super::machine::Image;
use crate::harness::TestResult;

#[test]
fn phoenix_rescue_shell_boots_into_phoenix_rescue_with_a_shell() -> TestResult {
    let mut image = Image::new()?;
    image.unit(
        "db",
        "command = [\"/bin/sh\", \"-c\", \"echo db: up under rescue; exec sleep 1000\"]\n",
    )?;
    let mut machine = image.boot("phoenix.rescue=shell", &[])?;
    machine.wait_for(
        "phoenix.rescue=shell on the kernel command line: handing over to phoenix-rescue",
    )?;
    machine.wait_for("[phoenix-rescue]")?;
    machine.wait_for("db: up under rescue")?;
    // The shell reads the console: what is typed there runs.
    let context = machine.context();
    let mut answered = false;
    for _ in 0..50 {
        machine.type_line("echo rescue-shell-$((6 * 7))")?;
        if crate::wait::wait_until(std::time::Duration::from_millis(500), || {
            machine.console().contains("rescue-shell-42")
        }) {
            answered = true;
            break;
        }
    }
    assert!(
        answered,
        "the shell never answered{context}{}",
        machine.context()
    );
    machine.type_line("poweroff -f")?;
    machine.wait_exit()?;
    assert_eq!(
        machine.shutdown_reason().as_deref(),
        Some("guest-shutdown"),
        "{}",
        machine.context()
    );
    Ok(())
}
