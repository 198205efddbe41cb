//! Deaths and orphans under rescue as PID 1: a unit that dies is started again after the
//! fixed delay, one that keeps dying stays down after ten restarts in a minute, and an
//! orphan reparented to PID 1 is reaped.

use std::time::Duration;

use crate::harness::{Rescue, Scratch, TestResult, outer_pid, wait_until};

#[test]
fn a_unit_that_dies_is_started_again() -> TestResult {
    let dir = Scratch::new()?;
    let out = dir.file("dies.out");
    dir.unit(
        "dies.toml",
        &format!("command = \"echo run >> {out}; exit 3\"\n"),
    )?;
    let rescue = Rescue::pid1(dir, &[])?;
    assert_eq!(rescue.wait_for_lines("dies.out", 2)?, ["run", "run"]);
    assert!(
        rescue.stderr().contains("dies: exit 3, restarting in 1s"),
        "{}",
        rescue.context()
    );
    Ok(())
}

#[test]
fn a_unit_that_always_dies_stays_down_after_ten_restarts_in_a_minute() -> TestResult {
    let dir = Scratch::new()?;
    let out = dir.file("crash.out");
    dir.unit(
        "crash.toml",
        &format!("command = [\"sh\", \"-c\", \"echo run >> {out}; exit 1\"]\n"),
    )?;
    let rescue = Rescue::pid1(dir, &[])?;
    let capped = "crash: exit 1; restarted 10 times within a minute, stays down";
    // Eleven runs one second apart.
    rescue.eventually_within(Duration::from_secs(14), capped, || {
        rescue.stderr().contains(capped)
    })?;
    assert_eq!(
        rescue.dir.lines("crash.out").len(),
        11,
        "{}",
        rescue.context()
    );
    let restarted = wait_until(Duration::from_millis(1500), || {
        rescue.dir.lines("crash.out").len() > 11
    });
    assert!(
        !restarted,
        "started again after the cap{}",
        rescue.context()
    );
    Ok(())
}

#[test]
fn an_orphan_reparented_to_pid1_is_reaped() -> TestResult {
    let dir = Scratch::new()?;
    let pid_file = dir.file("orphan.pid");
    // The inner shell leaves its sleep behind: an orphan for PID 1 to reap.
    dir.unit(
        "parent.toml",
        &format!("command = '''sh -c 'sleep 0.3 & echo $! > {pid_file}'; exec sleep 1000'''\n"),
    )?;
    let rescue = Rescue::pid1(dir, &[])?;
    let inner: i32 = {
        rescue.eventually("the orphan's pid is written", || {
            rescue.dir.read("orphan.pid").trim().parse::<i32>().is_ok()
        })?;
        rescue.dir.read("orphan.pid").trim().parse()?
    };
    rescue.wait_for_log(&format!("reaped pid {inner} (exit 0), no unit's"))?;
    rescue.eventually("the orphan is gone from /proc, no zombie left", || {
        outer_pid(rescue.pid, inner).is_none()
    })?;
    Ok(())
}

#[test]
fn a_unit_that_cannot_start_is_retried_and_the_others_run() -> TestResult {
    let dir = Scratch::new()?;
    dir.unit("missing.toml", "command = [\"/nonexistent/program\"]\n")?;
    let out = dir.file("fine.out");
    dir.unit(
        "fine.toml",
        &format!("command = \"echo up > {out}; exec sleep 1000\"\n"),
    )?;
    let rescue = Rescue::pid1(dir, &[])?;
    rescue.wait_for_lines("fine.out", 1)?;
    let failed = "missing: unable to start: exec /nonexistent/program: No such file or directory";
    rescue.eventually("two failed starts", || {
        rescue.stderr().matches(failed).count() >= 2
    })?;
    assert!(
        rescue.stderr().contains("retrying in 1s"),
        "{}",
        rescue.context()
    );
    Ok(())
}
