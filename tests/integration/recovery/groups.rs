//! Supervision groups from `phoenix.toml`: `one_for_all` restarts every member when one
//! fails, `rest_for_one` only the members after it in start order, and the group's own
//! budget escalates.

use crate::control::ctl::{daemon, start};
use crate::harness::{DEADLINE, Phoenix, TestResult};
use crate::services::setup::ServicesDir;

/// Members a, b, c (in that start order) of group `pay`, with the group's `settings`.
fn group(settings: &str) -> TestResult<ServicesDir> {
    let layout = ServicesDir::new()?;
    layout.settings(&format!("[groups.pay]\n{settings}"))?;
    for (name, after) in [("a", ""), ("b", "\"a\""), ("c", "\"b\"")] {
        let extra = format!(
            "after = [{after}]\nsupervision-group = \"pay\"\n[restart]\ndelay = \"50ms\"\nmin-uptime = \"100ms\""
        );
        // `after` must come before the tables, so it goes into the daemon's top level.
        layout.unit(name, &daemon(name, &extra))?;
    }
    Ok(layout)
}

fn starts(phoenix: &Phoenix, name: &str) -> usize {
    phoenix.lines(&format!("{name}.pids")).len()
}

#[track_caller]
fn wait_started(phoenix: &Phoenix) -> TestResult {
    for name in ["a", "b", "c"] {
        phoenix.wait_for_lines(&format!("{name}.pids"), 1)?;
    }
    Ok(())
}

#[test]
fn one_for_all_restarts_every_member_when_one_fails() -> TestResult {
    let phoenix = start(group("strategy = \"one_for_all\"")?)?;
    wait_started(&phoenix)?;
    phoenix.touch("b.crash")?;
    for name in ["a", "b", "c"] {
        phoenix.wait_for_lines(&format!("{name}.pids"), 2)?;
    }
    phoenix.wait_for_lines("a.stops", 1)?;
    phoenix.wait_for_lines("c.stops", 1)?;
    Ok(())
}

#[test]
fn rest_for_one_restarts_only_the_members_after_it() -> TestResult {
    let phoenix = start(group("strategy = \"rest_for_one\"")?)?;
    wait_started(&phoenix)?;
    phoenix.touch("b.crash")?;
    phoenix.wait_for_lines("b.pids", 2)?;
    phoenix.wait_for_lines("c.pids", 2)?;
    phoenix.wait_for_lines("c.stops", 1)?;
    // a is before b: never touched. Its stop would be written before c's restart.
    assert_eq!(starts(&phoenix, "a"), 1);
    assert!(!phoenix.exists("a.stops"));
    Ok(())
}

#[test]
fn the_group_budget_escalates() -> TestResult {
    let settings = "strategy = \"one_for_one\"\nmax-failures = 2\nwindow = \"1m\"\non-exhausted = \"escalate\"";
    let mut phoenix = start(group(settings)?)?;
    wait_started(&phoenix)?;
    phoenix.touch("a.crash")?;
    phoenix.wait_for_lines("a.pids", 2)?;
    phoenix.touch("c.crash")?;
    let code = phoenix.wait_exit(DEADLINE)?;
    assert_eq!(code, 3, "the last failing member's status");
    assert!(
        phoenix.stderr().contains("group pay: 2 failures in 1m"),
        "{}",
        phoenix.stderr()
    );
    Ok(())
}
