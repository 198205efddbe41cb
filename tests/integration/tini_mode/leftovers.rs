//! When the child exits while other processes remain, Phoenix sends them SIGTERM, waits
//! up to `--grace` (ending early when none remain), SIGKILLs the rest, then exits.

use std::time::Duration;

use crate::harness::{DEADLINE, Pid1, TestResult};

/// Well under the 30 s grace the tests give: only an early end can pass.
const EARLY: Duration = Duration::from_secs(4);

#[test]
fn leftover_is_terminated_and_grace_ends_early() -> TestResult {
    let mut phoenix = Pid1::start(["--grace", "30s", "--", "sh", "-c", "sleep 1000 & exit 0"])?;
    assert_eq!(
        phoenix.wait_exit(EARLY)?,
        0,
        "exit status{}",
        phoenix.context()
    );
    Ok(())
}

#[test]
fn leftover_receives_sigterm() -> TestResult {
    let script = r#"
( trap 'echo TERM > leftover.term; exit 0' TERM; touch leftover.ready
  while :; do sleep 0.01; done ) &
while [ ! -e leftover.ready ]; do sleep 0.01; done
exit 0
"#;
    let mut phoenix = Pid1::start(["--grace", "30s", "--", "sh", "-c", script])?;
    assert_eq!(
        phoenix.wait_exit(EARLY)?,
        0,
        "exit status{}",
        phoenix.context()
    );
    assert_eq!(
        phoenix.read("leftover.term").trim(),
        "TERM",
        "{}",
        phoenix.context()
    );
    Ok(())
}

#[test]
fn leftover_ignoring_sigterm_is_killed_after_grace() -> TestResult {
    // The leftover survives TERM (it only notes it) and says so on its next round.
    let script = r#"
( trap 'touch leftover.term' TERM; touch leftover.ready
  while :; do [ -e leftover.term ] && touch leftover.survived; sleep 0.01; done ) &
while [ ! -e leftover.ready ]; do sleep 0.01; done
exit 0
"#;
    let mut phoenix = Pid1::start(["--grace", "2s", "--", "sh", "-c", script])?;
    phoenix.wait_for_file("leftover.survived")?;
    assert_eq!(
        phoenix.try_exit()?,
        None,
        "phoenix ended before the grace{}",
        phoenix.context()
    );
    assert_eq!(
        phoenix.wait_exit(DEADLINE)?,
        0,
        "exit status{}",
        phoenix.context()
    );
    Ok(())
}

#[test]
fn leftover_status_does_not_replace_child_status() -> TestResult {
    let mut phoenix = Pid1::start(["--grace", "30s", "--", "sh", "-c", "sleep 1000 & exit 5"])?;
    assert_eq!(
        phoenix.wait_exit(EARLY)?,
        5,
        "exit status{}",
        phoenix.context()
    );
    Ok(())
}

#[test]
fn leftover_in_another_session_is_terminated() -> TestResult {
    // Not in the child's process group or session: only "every remaining process" finds it.
    let script = r#"
setsid sh -c 'trap "echo TERM > leftover.term; exit 0" TERM; touch leftover.ready
              while :; do sleep 0.01; done' &
while [ ! -e leftover.ready ]; do sleep 0.01; done
exit 0
"#;
    let mut phoenix = Pid1::start(["--grace", "30s", "--", "sh", "-c", script])?;
    assert_eq!(
        phoenix.wait_exit(EARLY)?,
        0,
        "exit status{}",
        phoenix.context()
    );
    assert_eq!(
        phoenix.read("leftover.term").trim(),
        "TERM",
        "{}",
        phoenix.context()
    );
    Ok(())
}

/// With `-g` the forwarded SIGTERM already reached the whole group: a member still there
/// when the child exits gets the grace period, then SIGKILL, never a second SIGTERM (an
/// application may take a second one as "quit now"). A process outside the group still
/// gets its SIGTERM.
#[test]
fn issue_8_group_member_gets_one_sigterm_with_g() -> TestResult {
    let script = r#"
( trap 'echo TERM >> member.terms' TERM; touch member.ready
  while :; do sleep 0.01; done ) &
( setsid sh -c 'trap "echo TERM >> outsider.terms; exit 0" TERM; touch outsider.ready
  while :; do sleep 0.01; done' & )
trap 'exit 0' TERM
while :; do sleep 0.01; done
"#;
    let mut phoenix = Pid1::start(["-g", "--grace", "1s", "--", "sh", "-c", script])?;
    phoenix.wait_for_file("member.ready")?;
    phoenix.wait_for_file("outsider.ready")?;
    phoenix.signal(nix::sys::signal::Signal::SIGTERM)?;
    assert_eq!(
        phoenix.wait_exit(DEADLINE)?,
        0,
        "exit status{}",
        phoenix.context()
    );
    assert_eq!(
        phoenix.lines("member.terms"),
        ["TERM"],
        "the group member's SIGTERMs{}",
        phoenix.context()
    );
    assert_eq!(
        phoenix.lines("outsider.terms"),
        ["TERM"],
        "the process outside the group{}",
        phoenix.context()
    );
    Ok(())
}
