//! Without a console Phoenix can open, its log goes to the kernel's (`/dev/kmsg`), which
//! the kernel prints on its own console: the boot and the final sequence are still told.
//! Here `/init` mounts a bare tmpfs on `/dev` (so stage 1 keeps it, and there is no
//! `/dev/console`) and leaves `/proc` to Phoenix.

use super::machine::Image;
use crate::harness::TestResult;

const INIT: &str = "#!/bin/busybox sh
/bin/busybox mount -t tmpfs -o mode=0755 tmpfs /dev
/bin/busybox mknod -m 666 /dev/null c 1 3
/bin/busybox mknod -m 600 /dev/kmsg c 1 11
exec /sbin/phoenix
";

#[test]
fn without_a_console_the_log_goes_to_kmsg() -> TestResult {
    let mut image = Image::new()?;
    image.script("/init", INIT)?.unit(
        "power",
        "command = [\"/bin/sh\", \"-c\", \"until phoenixctl check >/dev/null 2>&1; do sleep 0.1; done; phoenixctl poweroff; exec sleep 1000\"]\n",
    )?;
    // The kernel prints records up to info (6) on its console, and every one of them
    // (it keeps 10 lines in 5s of a writer without printk.devkmsg=on).
    let mut machine = image.boot("loglevel=7 printk.devkmsg=on", &[])?;
    machine.wait_exit()?;
    let console = machine.console();
    let context = machine.context();
    for line in [
        "phoenix: warn: stage 1: /dev/console: No such file or directory: logging to /dev/kmsg",
        "phoenix: info: stage 1: mounted /proc (proc)",
        "phoenix: info: startup over",
        "phoenix: info: phoenixctl: poweroff, shutting down, then poweroff",
        "phoenix: info: poweroff: calling reboot(2)",
    ] {
        assert!(console.contains(line), "{line}{context}");
    }
    assert!(
        !console.contains("[phoenix]"),
        "nothing on the console itself{context}"
    );
    assert_eq!(
        machine.shutdown_reason().as_deref(),
        Some("guest-shutdown"),
        "{context}"
    );
    Ok(())
}
