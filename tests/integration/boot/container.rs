//! Phoenix as PID 1 of a PID namespace (the usual tier): a container's init, not a
//! machine's. None of stage 1 runs — the mount table stays the one the namespace was
//! given, the hostname the host's, nothing is logged as stage 1 — and the power verbs end
//! the run in order with an exit status: 133 for reboot (systemd-nspawn's "start me
//! again"), 0 for poweroff and halt.

use std::process::Command;

use crate::control::ctl::{daemon, phoenixctl, start};
use crate::harness::{DEADLINE, TestResult};
use crate::services::setup::ServicesDir;

/// The mount points a fresh namespace of the same kind sees.
fn mount_points_of_a_bare_namespace() -> TestResult<Vec<String>> {
    let output = Command::new("unshare")
        .args(["--pid", "--fork", "--kill-child", "--mount-proc"])
        .args(["sh", "-c", "cut -d' ' -f5 /proc/self/mountinfo"])
        .output()?;
    Ok(String::from_utf8(output.stdout)?
        .lines()
        .map(str::to_string)
        .collect())
}

#[test]
fn in_a_container_none_of_stage_one_runs() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit(
        "probe",
        "kind = \"oneshot\"\ncommand = \"cut -d' ' -f5 /proc/self/mountinfo > mounts; hostname > hostname\"\n",
    )?;
    let phoenix = start(layout)?;
    // `mounts` is written first: once `hostname` holds its line, both are complete.
    let mounts = phoenix
        .wait_for_lines("hostname", 1)
        .map(|_| phoenix.lines("mounts"))?;
    assert_eq!(
        mounts,
        mount_points_of_a_bare_namespace()?,
        "{}",
        phoenix.context()
    );
    let host = String::from_utf8(Command::new("hostname").output()?.stdout)?;
    assert_eq!(phoenix.read("hostname"), host);
    assert!(
        !phoenix.stderr().contains("stage 1"),
        "{}",
        phoenix.context()
    );
    Ok(())
}

#[test]
fn in_a_container_reboot_ends_with_133_and_poweroff_or_halt_with_0() -> TestResult {
    for (verb, code) in [("reboot", 133), ("poweroff", 0), ("halt", 0)] {
        let layout = ServicesDir::new()?;
        layout.unit("web", &daemon("web", ""))?;
        let mut phoenix = start(layout)?;
        phoenix.wait_for_lines("web.pids", 1)?;
        let outcome = phoenixctl(&phoenix, &[verb])?.ok()?;
        assert!(
            outcome.stdout.contains(&format!("{verb}: shutting down")),
            "{outcome:?}"
        );
        assert_eq!(
            phoenix.wait_exit(DEADLINE)?,
            code,
            "{verb}{}",
            phoenix.context()
        );
        assert_eq!(
            phoenix.lines("web.stops"),
            ["stop"],
            "{verb}: web stopped in order"
        );
        phoenix.wait_for_log(&format!(
            "phoenixctl: {verb}, shutting down, then exit {code} (in a container)"
        ))?;
    }
    Ok(())
}

#[test]
fn on_critical_failure_rescue_hands_the_services_to_phoenix_rescue() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.settings("on-critical-failure = \"rescue\"\n")?;
    layout.unit("web", &daemon("web", ""))?;
    layout.unit(
        "core",
        "critical = true\ncommand = \"exit 3\"\n[restart]\nmax-failures = 1\n",
    )?;
    let phoenix = layout.start(&[])?;
    phoenix.wait_for_log("core: recovery exhausted; on-critical-failure = \"rescue\"")?;
    phoenix.wait_for_log("[phoenix-rescue]")?;
    let web = phoenix.wait_for_lines("web.pids", 1)?[0].clone();
    phoenix.eventually("phoenix-rescue adopted web", || {
        phoenix
            .stderr()
            .lines()
            .any(|line| line.starts_with("[phoenix-rescue]") && line.contains(&web))
    })?;
    assert!(
        phoenix
            .stderr()
            .contains("core exhausted its recovery (on-critical-failure = \"rescue\")"),
        "the rescue report names why{}",
        phoenix.context()
    );
    Ok(())
}

#[test]
fn a_watchdog_device_that_is_missing_or_no_watchdog_leaves_supervision_running() -> TestResult {
    for (device, expected) in [
        (
            "/nonexistent/watchdog",
            "/nonexistent/watchdog: No such file or directory",
        ),
        ("/dev/null", "/dev/null: refuses a timeout of 10s"),
    ] {
        let layout = ServicesDir::new()?;
        layout.settings(&format!(
            "[hardware-watchdog]\ndevice = \"{device}\"\ntimeout = \"10s\"\n"
        ))?;
        layout.unit("web", &daemon("web", ""))?;
        let mut phoenix = start(layout)?;
        phoenix.wait_for_log(&format!("hardware watchdog: {expected}"))?;
        phoenix.wait_for_log("running without one")?;
        phoenix.wait_for_lines("web.pids", 1)?;
        phoenixctl(&phoenix, &["shutdown"])?.ok()?;
        assert_eq!(phoenix.wait_exit(DEADLINE)?, 0, "{}", phoenix.context());
    }
    Ok(())
}
