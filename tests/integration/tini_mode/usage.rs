//! A usage error exits 1 (as tini, dumb-init and catatonit) with exactly one line on stderr
//! and starts nothing.

use crate::harness::{DEADLINE, Phoenix, Pid1, TestResult, sh};

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
    assert_the_command_ran(&mut phoenix, 0)?;
    Ok(())
}

/// A cosmetic variable never keeps PID 1 from starting: a `TINI_VERBOSITY` that is not a
/// number is one warning naming it, and the command runs (tini reads it as 0).
#[test]
fn issue_8_a_bad_tini_verbosity_is_a_warning_not_a_usage_error() -> TestResult {
    let env = [("TINI_VERBOSITY", "abc")];
    let mut phoenix = Pid1::start_with_env(&env, sh("touch ran; exit 7"))?;
    assert_the_command_ran(&mut phoenix, 7)?;
    let stderr = phoenix.stderr();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr{}", phoenix.context());
    assert!(
        lines[0].contains("warn") && lines[0].contains("TINI_VERBOSITY 'abc'"),
        "a warning naming TINI_VERBOSITY{}",
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

/// Phoenix exited with `code` and the command (which touches `ran`) ran.
fn assert_the_command_ran(phoenix: &mut Phoenix, code: i32) -> TestResult {
    assert_eq!(
        phoenix.wait_exit(DEADLINE)?,
        code,
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
