//! A usage error exits 2 with exactly one line on stderr and starts nothing.

use crate::harness::{DEADLINE, Pid1, TestResult};

#[track_caller]
fn assert_usage_error(args: &[&str]) -> TestResult {
    let mut phoenix = Pid1::start(args)?;
    let status = phoenix.wait_exit(DEADLINE)?;
    assert_eq!(status, 2, "exit status for {args:?}{}", phoenix.context());
    let stderr = phoenix.stderr();
    assert_eq!(
        stderr.lines().count(),
        1,
        "one line on stderr for {args:?}{}",
        phoenix.context()
    );
    assert!(!phoenix.exists("ran"), "the command ran for {args:?}");
    Ok(())
}

#[test]
fn unknown_flag_is_usage_error() -> TestResult {
    assert_usage_error(&["--no-such-flag", "--", "touch", "ran"])
}

#[test]
fn exit_code_over_255_is_usage_error() -> TestResult {
    assert_usage_error(&["-e", "300", "--", "touch", "ran"])
}

#[test]
fn unknown_signal_is_usage_error() -> TestResult {
    assert_usage_error(&["-p", "NOTASIGNAL", "--", "touch", "ran"])
}

#[test]
fn missing_command_is_usage_error() -> TestResult {
    assert_usage_error(&[])
}
