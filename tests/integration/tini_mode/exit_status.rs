//! Phoenix exits with its child's status: the code, 128+N for signal N, 127 and 126 for
//! a command that cannot be found or executed, 0 for codes listed with `-e`.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use crate::harness::{DEADLINE, Pid1, TestResult, scratch, sh};

#[track_caller]
fn assert_exit<S: AsRef<str>>(args: &[S], expected: i32) -> TestResult {
    let mut phoenix = Pid1::start(args.iter().map(|arg| arg.as_ref()))?;
    let status = phoenix.wait_exit(DEADLINE)?;
    assert_eq!(status, expected, "exit status{}", phoenix.context());
    Ok(())
}

#[test]
fn exit_code_of_child() -> TestResult {
    assert_exit(&sh("exit 7"), 7)
}

#[test]
fn options_after_the_command_belong_to_it() -> TestResult {
    // `--` is optional: parsing stops at the command (tini 0.19 needs the `--`).
    assert_exit(&["sh", "-c", "exit 7"], 7)
}

#[test]
fn exit_code_zero() -> TestResult {
    assert_exit(&sh("exit 0"), 0)
}

#[test]
fn child_killed_by_signal_is_128_plus_n() -> TestResult {
    assert_exit(&sh("kill -KILL $$"), 137)
}

#[test]
fn command_not_found_is_127() -> TestResult {
    assert_exit(&["--", "phoenix-test-no-such-command"], 127)
}

#[test]
fn missing_path_is_127() -> TestResult {
    assert_exit(&["--", "/nonexistent/phoenix-test/command"], 127)
}

#[test]
fn empty_command_name_is_127() -> TestResult {
    // execvp("") fails with ENOENT; a PATH entry joined with "" is a directory, not it.
    assert_exit(&["--", ""], 127)
}

#[test]
fn non_executable_file_is_126() -> TestResult {
    let dir = scratch()?;
    let script = dir.path().join("script.sh");
    fs::write(&script, "#!/bin/sh\ntouch ran\n")?;
    fs::set_permissions(&script, fs::Permissions::from_mode(0o644))?;
    let mut phoenix = Pid1::start_in(dir, ["--".as_ref(), script.as_os_str()])?;
    let status = phoenix.wait_exit(DEADLINE)?;
    assert_eq!(status, 126, "exit status{}", phoenix.context());
    assert!(
        !phoenix.exists("ran"),
        "the script ran{}",
        phoenix.context()
    );
    Ok(())
}

#[test]
fn remapped_signal_status_is_zero() -> TestResult {
    assert_exit(&["-e", "143", "--", "sh", "-c", "kill -TERM $$"], 0)
}

#[test]
fn remapped_code_is_zero_and_others_are_kept() -> TestResult {
    assert_exit(&["-e", "3", "-e", "4", "--", "sh", "-c", "exit 4"], 0)?;
    assert_exit(&["-e", "3", "--", "sh", "-c", "exit 5"], 5)
}
