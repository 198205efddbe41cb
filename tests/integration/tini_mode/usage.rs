//! A usage error exits 1 (as tini, dumb-init and catatonit) with exactly one line on stderr
//! and starts nothing.

use crate::harness::{DEADLINE, Pid1, TestResult, sh};

#[track_caller]
fn assert_usage_error(args: &[&str]) -> TestResult {
    let mut phoenix = Pid1::start(args)?;
    let status = phoenix.wait_exit(DEADLINE)?;
    assert_eq!(status, 1, "exit status for {args:?}{}", phoenix.context());
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

#[test]
fn tini_flags_are_accepted() -> TestResult {
    let mut args: Vec<String> = ["-s", "-v", "-v", "-w", "-g", "-p", "SIGKILL", "-e", "1"]
        .map(String::from)
        .into();
    args.extend(sh("touch ran"));
    let mut phoenix = Pid1::start(args)?;
    assert_eq!(
        phoenix.wait_exit(DEADLINE)?,
        0,
        "exit status{}",
        phoenix.context()
    );
    assert!(
        phoenix.exists("ran"),
        "the command did not run{}",
        phoenix.context()
    );
    Ok(())
}

#[test]
fn version_and_help_exit_zero() -> TestResult {
    for flag in ["-V", "--version", "-h", "--help"] {
        let mut phoenix = Pid1::start([flag, "--", "touch", "ran"])?;
        assert_eq!(
            phoenix.wait_exit(DEADLINE)?,
            0,
            "exit status for {flag}{}",
            phoenix.context()
        );
        assert!(
            !phoenix.read(".stdout").is_empty(),
            "nothing on stdout for {flag}"
        );
        assert!(!phoenix.exists("ran"), "the command ran for {flag}");
    }
    Ok(())
}
