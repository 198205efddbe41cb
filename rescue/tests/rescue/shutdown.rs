//! An orderly shutdown on SIGTERM: every unit's process group gets SIGTERM, rescue exits 0
//! as soon as everything is reaped, and SIGKILL ends what ignores SIGTERM after 5 s.

use std::time::Duration;

use crate::harness::{Rescue, SIGTERM, Scratch, TestResult};

fn trapping_unit(dir: &Scratch, name: &str) -> TestResult {
    let out = dir.file(&format!("{name}.out"));
    dir.unit(
        &format!("{name}.toml"),
        &format!(
            "command = \"trap 'echo term >> {out}; exit 0' TERM; echo ready >> {out}; sleep 1000 & wait\"\n"
        ),
    )
}

#[test]
fn sigterm_reaches_every_unit_and_rescue_exits_0_at_once() -> TestResult {
    let dir = Scratch::new()?;
    trapping_unit(&dir, "web")?;
    trapping_unit(&dir, "worker")?;
    let mut rescue = Rescue::pid1(dir, &[])?;
    rescue.wait_for_lines("web.out", 1)?;
    rescue.wait_for_lines("worker.out", 1)?;
    rescue.signal(SIGTERM)?;
    // Well before the 5 s grace: it ends when everything is reaped.
    let status = rescue.wait_exit(Duration::from_secs(4))?;
    assert_eq!(status.code(), Some(0), "{}", rescue.context());
    assert_eq!(rescue.dir.lines("web.out"), ["ready", "term"]);
    assert_eq!(rescue.dir.lines("worker.out"), ["ready", "term"]);
    assert!(
        rescue.stderr().contains("every process has ended: exiting"),
        "{}",
        rescue.context()
    );
    Ok(())
}

#[test]
fn what_ignores_sigterm_is_killed_after_the_grace() -> TestResult {
    let dir = Scratch::new()?;
    let out = dir.file("stubborn.out");
    dir.unit(
        "stubborn.toml",
        &format!("command = \"trap '' TERM; echo ready > {out}; while :; do sleep 0.1; done\"\n"),
    )?;
    let mut rescue = Rescue::pid1(dir, &[])?;
    rescue.wait_for_lines("stubborn.out", 1)?;
    rescue.signal(SIGTERM)?;
    let status = rescue.wait_exit(crate::harness::DEADLINE)?;
    assert_eq!(status.code(), Some(0), "{}", rescue.context());
    let log = rescue.stderr();
    assert!(
        log.contains("grace over: SIGKILL to what remains (services: stubborn)"),
        "{log}"
    );
    Ok(())
}
