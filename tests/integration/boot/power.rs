//! Booting, and the three ways a machine's run ends in order: `phoenixctl poweroff` from
//! a service, a critical unit that exhausts its recovery with `on-critical-failure =
//! "reboot"`, and Ctrl-Alt-Del; on the way, the kernel command line's options and what
//! stage 1 cannot use. Under `-no-reboot` a reboot ends qemu too; QMP's
//! `SHUTDOWN` event tells a power-off (`guest-shutdown`) from a reboot (`guest-reset`).

use super::machine::Image;
use crate::harness::TestResult;

/// Waits until every wanted service is ready (`phoenixctl check`), then runs `then`.
fn when_started(then: &str) -> String {
    format!(
        "command = [\"/bin/sh\", \"-c\", \"until phoenixctl check >/dev/null 2>&1; do sleep 0.1; done; {then}; exec sleep 1000\"]\n"
    )
}

/// A daemon that says on the console when it is up and when TERM stopped it.
fn stoppable(name: &str, extra: &str) -> String {
    format!(
        "command = [\"/bin/sh\", \"-c\", \"trap 'echo {name}: stopped; exit 0' TERM; echo {name}: up; while :; do sleep 0.2; done\"]\n{extra}"
    )
}

fn position(console: &str, needle: &str) -> TestResult<usize> {
    console.find(needle).ok_or_else(|| {
        let tail: String = console
            .lines()
            .rev()
            .take(60)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n");
        format!("the console lacks {needle:?}\n--- console (last 60 lines) ---\n{tail}").into()
    })
}

/// What stage 1 mounts on a machine that has none of it.
const STAGE_ONE_MOUNTS: [&str; 7] = [
    "/proc",
    "/sys",
    "/dev",
    "/dev/pts",
    "/dev/shm",
    "/run",
    "/sys/fs/cgroup",
];
#[test]
fn phoenix_boots_as_init_and_phoenixctl_poweroff_ends_the_machine() -> TestResult {
    let mut image = Image::new()?;
    image
        .unit(
            "mounts",
            "kind = \"oneshot\"\ncommand = [\"/bin/sh\", \"-c\", \"echo mounted: $(cut -d' ' -f2 /proc/mounts | tr '\\\\n' ' '); echo host: $(hostname)\"]\n",
        )?
        .unit("db", &stoppable("db", ""))?
        .unit("web", &stoppable("web", "requires = [\"db\"]\n"))?
        .unit("power", &when_started("echo power: asking; phoenixctl poweroff"))?;
    let mut machine = image.boot("phoenix.bogus=1", &[])?;
    machine.wait_for("startup over")?;
    let started = machine.uptime();
    machine.wait_for("power: asking")?;
    let asked = machine.uptime();
    let ended = machine.wait_exit()?;
    let console = machine.console();
    let context = machine.context();
    for mount in STAGE_ONE_MOUNTS {
        assert!(
            console.contains(&format!("stage 1: mounted {mount} (")),
            "{mount}{context}"
        );
    }
    let mounted = console
        .lines()
        .find(|line| line.starts_with("mounted: "))
        .ok_or(format!("no mount table from the service{context}"))?;
    for mount in STAGE_ONE_MOUNTS {
        assert!(
            mounted.split(' ').any(|m| m == mount),
            "{mount} in {mounted}{context}"
        );
    }
    assert!(console.contains("host: appliance"), "{context}");
    assert!(
        console.contains("unknown option phoenix.bogus=1"),
        "{context}"
    );
    // Stop order: web requires db, so web stops first; then the final sequence.
    let web = position(&console, "web: stopped")?;
    let db = position(&console, "db: stopped")?;
    assert!(web < db, "web stops before db{context}");
    let cgroup = position(&console, "unmounted /sys/fs/cgroup (cgroup2)")?;
    let sys = position(&console, "unmounted /sys (sysfs)")?;
    assert!(
        db < cgroup && cgroup < sys,
        "deepest first, after the services{context}"
    );
    position(&console, "remounted / (rootfs) read-only")?;
    // /dev holds the console Phoenix writes to: it stays, read-only, and is named.
    position(
        &console,
        "/dev (devtmpfs): unable to unmount (Device or resource busy), remounted read-only",
    )?;
    position(&console, "poweroff: calling reboot(2)")?;
    assert_eq!(
        machine.shutdown_reason().as_deref(),
        Some("guest-shutdown"),
        "{context}"
    );
    assert!(!console.contains("Kernel panic"), "{context}");
    eprintln!(
        "boot: kernel start to startup over {:?} (guest clock), qemu start to startup over {started:?}; phoenixctl poweroff to qemu's exit {:?}",
        machine.guest_time_of("startup over"),
        ended.saturating_sub(asked)
    );
    Ok(())
}

#[test]
fn a_critical_unit_out_of_recovery_reboots_the_machine() -> TestResult {
    let mut image = Image::new()?;
    // The units are where the kernel command line says, not in the default directory;
    // a hardware watchdog is armed, and disarmed by the orderly reboot.
    image
        .module("i6300esb")
        .config(
            "on-critical-failure = \"reboot\"\n[hardware-watchdog]\ndevice = \"/dev/watchdog\"\ntimeout = \"30s\"\n",
        )
        .file(
            "/srv/units/core.toml",
            "critical = true\ncommand = [\"/bin/sh\", \"-c\", \"echo core: failing; exit 3\"]\n[restart]\nmax-failures = 2\ndelay = \"100ms\"\n",
        )?
        .file("/srv/units/db.toml", &stoppable("db", ""))?;
    let mut machine = image.boot(
        "phoenix.services=/srv/units phoenix.log=debug",
        &["-device", "i6300esb"],
    )?;
    machine.wait_exit()?;
    let console = machine.console();
    let context = machine.context();
    let why = position(
        &console,
        "core: recovery exhausted; on-critical-failure = \"reboot\"",
    )?;
    let db = position(&console, "db: stopped")?;
    let reboot = position(&console, "reboot: calling reboot(2)")?;
    assert!(why < db && db < reboot, "{context}");
    assert_eq!(
        machine.shutdown_reason().as_deref(),
        Some("guest-reset"),
        "{context}"
    );
    assert!(!console.contains("Kernel panic"), "{context}");
    position(&console, "/srv/units: 2 unit(s) loaded")?;
    position(&console, "[phoenix] debug: ")?;
    let armed = position(
        &console,
        "hardware watchdog /dev/watchdog: armed, timeout 30s",
    )?;
    let disarmed = position(&console, "hardware watchdog /dev/watchdog: disarmed")?;
    assert!(
        armed < db && db < disarmed && disarmed < reboot,
        "{context}"
    );
    // The kernel's word for a close without the magic `V`.
    assert!(!console.contains("watchdog did not stop"), "{context}");
    Ok(())
}

#[test]
fn ctrl_alt_del_reboots_in_order() -> TestResult {
    let mut image = Image::new()?;
    // Two things stage 1 cannot use, and boots on without: a bad /etc/hostname, and a
    // file where the mount point /run would go (the control socket moves to /dev/shm).
    // And an /init that mounts /proc before it execs Phoenix, as an initramfs that
    // switches root does: Phoenix is still the machine's init.
    image
        .unit("db", &stoppable("db", ""))?
        .file("/etc/hostname", "not a hostname!\n")?
        .file("/run", "not a directory\n")?
        .script(
            "/init",
            "#!/bin/busybox sh\n/bin/busybox mount -t proc proc /proc\nexec /sbin/phoenix\n",
        )?;
    let mut machine = image.boot("", &[])?;
    machine.wait_for("startup over")?;
    machine.send_keys(&["ctrl", "alt", "delete"])?;
    machine.wait_exit()?;
    let console = machine.console();
    let context = machine.context();
    assert!(!console.contains("stage 1: mounted /proc"), "{context}");
    position(&console, "stage 1: mounted /sys (sysfs)")?;
    position(
        &console,
        "stage 1: /etc/hostname: 'not a hostname!' is not a hostname",
    )?;
    position(
        &console,
        "stage 1: unable to mount /run (tmpfs): unable to create the mount point",
    )?;
    let signal = position(&console, "received SIGINT: reboot, shutting down")?;
    let db = position(&console, "db: stopped")?;
    let reboot = position(&console, "reboot: calling reboot(2)")?;
    assert!(signal < db && db < reboot, "{context}");
    assert_eq!(
        machine.shutdown_reason().as_deref(),
        Some("guest-reset"),
        "{context}"
    );
    Ok(())
}
