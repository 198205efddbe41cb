//! `runc run` ends with the status of its container's PID 1, so a container running
//! Phoenix reports its child's: the code, 128+N for signal N (runc exits with that code,
//! it does not die of the signal), 127 for a missing command, 0 for a code given to `-e`.

use super::runtime::{Bundle, DEADLINE};
use crate::harness::TestResult;

#[track_caller]
fn assert_container_exit(args: &[&str], expected: i32) -> TestResult {
    let mut container = Bundle::new()?.start(args)?;
    let status = container.wait_exit(DEADLINE)?;
    assert_eq!(status, expected, "exit status{}", container.context());
    Ok(())
}

#[test]
fn container_exits_with_the_child_code() -> TestResult {
    assert_container_exit(&["--", "sh", "-c", "exit 7"], 7)
}

#[test]
fn child_killed_by_sigkill_is_137() -> TestResult {
    assert_container_exit(&["--", "sh", "-c", "kill -9 $$"], 137)
}

#[test]
fn missing_command_is_127() -> TestResult {
    assert_container_exit(&["--", "/usr/bin/phoenix-test-no-such-command"], 127)
}

#[test]
fn code_given_to_e_is_0() -> TestResult {
    assert_container_exit(&["-e", "7", "--", "sh", "-c", "exit 7"], 0)
}
