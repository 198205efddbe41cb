//! What the child inherits from Phoenix: the signal state Phoenix was given (less what
//! Phoenix itself changed) and no descriptor of its own, Phoenix's directory; and how Phoenix treats the child's stops and its own parent.

use nix::sys::signal::Signal;

use crate::harness::{DEADLINE, Pid1, TestResult, scratch, sh};
use crate::procfs::{children, state};

/// A signal mask from `/proc/<pid>/status`, e.g. `SigIgn`.
fn signal_mask(status: &str, field: &str) -> Option<u64> {
    let line = status
        .lines()
        .find(|line| line.starts_with(&format!("{field}:")))?;
    u64::from_str_radix(line.split_whitespace().nth(1)?, 16).ok()
}

#[test]
fn child_starts_with_no_blocked_or_ignored_signals() -> TestResult {
    let script = "cat /proc/self/status > status.tmp && mv status.tmp child.status
                  while [ ! -e done ]; do sleep 0.01; done";
    let mut phoenix = Pid1::start(sh(script))?;
    phoenix.wait_for_file("child.status")?;
    // What Phoenix was given passes through (glibc's posix_spawn, used by cargo and std,
    // leaves its internal signal 32 ignored); what Phoenix changed must not.
    let launcher = std::fs::read_to_string(format!("/proc/{}/status", phoenix.launcher_pid()))?;
    let inherited = signal_mask(&launcher, "SigIgn").ok_or("no SigIgn for the launcher")?;
    phoenix.finish_when_done()?;
    let status = phoenix.read("child.status");
    assert_eq!(
        signal_mask(&status, "SigBlk"),
        Some(0),
        "blocked in the child\n{status}"
    );
    let ignored = signal_mask(&status, "SigIgn").ok_or("no SigIgn for the child")?;
    assert_eq!(
        ignored & !inherited,
        0,
        "ignored in the child (inherited {inherited:x})\n{status}"
    );
    Ok(())
}

/// tini's signal-configuration test ignores INT, SEGV and TTOU and blocks TTIN, ILL and
/// TERM before starting tini; `nohup` ignores HUP; a shell pipeline's writer may come with
/// PIPE ignored. The command keeps them all, as under tini.
const HANDED_OVER: &[i32] = &[
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGPIPE,
    libc::SIGSEGV,
    libc::SIGTTOU,
];
const BLOCKED: &[i32] = &[libc::SIGTTIN, libc::SIGILL, libc::SIGTERM];

fn bit(signal: i32) -> u64 {
    1 << (signal - 1)
}

/// As tini's signal-configuration test runs it: `cat /proc/self/status` straight (a shell
/// would clear the mask), its output on Phoenix's stdout.
#[test]
fn issue_8_command_keeps_the_signal_state_phoenix_inherited() -> TestResult {
    let args = ["--", "cat", "/proc/self/status"];
    // The launcher gets this process's ignored signals (less SIGPIPE, which std resets
    // in a child) plus HANDED_OVER; it may be gone before it could be looked at.
    let own = std::fs::read_to_string("/proc/self/status")?;
    let own = signal_mask(&own, "SigIgn").ok_or("no SigIgn for the test")?;
    let expected = HANDED_OVER.iter().fold(0, |mask, &s| mask | bit(s));
    let inherited = (own & !bit(libc::SIGPIPE)) | expected;
    let mut phoenix = Pid1::start_with_signals(scratch()?, HANDED_OVER, BLOCKED, args)?;
    assert_eq!(
        phoenix.wait_exit(DEADLINE)?,
        0,
        "exit status{}",
        phoenix.context()
    );
    let status = phoenix.read(".stdout");
    let ignored = signal_mask(&status, "SigIgn").ok_or("no SigIgn for the child")?;
    assert_eq!(
        ignored & expected,
        expected,
        "ignored in the child (inherited {inherited:x})\n{status}"
    );
    assert_eq!(
        ignored, inherited,
        "the child's SigIgn is the launcher's\n{status}"
    );
    let blocked = BLOCKED.iter().fold(0, |mask, &s| mask | bit(s));
    assert_eq!(
        signal_mask(&status, "SigBlk"),
        Some(blocked),
        "the child's SigBlk is the launcher's\n{status}"
    );
    Ok(())
}

/// `nohup phoenix -- sh -c 'kill -HUP $$; echo survived'` prints `survived`, as with tini.
#[test]
fn issue_8_nohup_stays_in_force() -> TestResult {
    let script = "kill -HUP $$; echo survived > survived";
    let mut phoenix = Pid1::start_with_signals(scratch()?, &[libc::SIGHUP], &[], sh(script))?;
    assert_eq!(
        phoenix.wait_exit(DEADLINE)?,
        0,
        "exit status{}",
        phoenix.context()
    );
    assert_eq!(
        phoenix.read("survived").trim(),
        "survived",
        "{}",
        phoenix.context()
    );
    Ok(())
}

#[test]
fn child_runs_in_phoenix_directory() -> TestResult {
    let mut phoenix = Pid1::start(sh("pwd > cwd"))?;
    assert_eq!(
        phoenix.wait_exit(DEADLINE)?,
        0,
        "exit status{}",
        phoenix.context()
    );
    let expected = phoenix.dir().canonicalize()?;
    assert_eq!(phoenix.read("cwd").trim(), expected.to_string_lossy());
    Ok(())
}

#[test]
fn parent_death_signal_reaches_the_child() -> TestResult {
    let script = r#"
trap 'echo TERM > child.term; exit 0' TERM
touch child.ready
while :; do sleep 0.01; done
"#;
    let mut args = vec!["-p".to_string(), "SIGTERM".into()];
    args.extend(sh(script));
    let mut phoenix = Pid1::start(args)?;
    phoenix.wait_for_file("child.ready")?;
    phoenix.kill_parent()?;
    phoenix.eventually("the child got TERM", || {
        phoenix.read("child.term").trim() == "TERM"
    })?;
    Ok(())
}

#[test]
fn child_inherits_no_descriptor_of_phoenix() -> TestResult {
    let script =
        "for fd in /proc/$$/fd/*; do readlink \"$fd\" || :; done > fds.tmp; mv fds.tmp fds";
    let mut phoenix = Pid1::start(sh(script))?;
    assert_eq!(
        phoenix.wait_exit(DEADLINE)?,
        0,
        "exit status{}",
        phoenix.context()
    );
    let fds = phoenix.read("fds");
    let leaked: Vec<&str> = fds
        .lines()
        .filter(|target| target.starts_with("anon_inode:") || target.starts_with("socket:"))
        .collect();
    assert!(leaked.is_empty(), "the child inherited {leaked:?}\n{fds}");
    Ok(())
}

#[test]
fn stopped_child_is_not_an_exit() -> TestResult {
    let mut phoenix = Pid1::start(sh("kill -STOP $$; exit 4"))?;
    let pid = phoenix.pid()?;
    phoenix.eventually("the child is stopped", || {
        children(pid).iter().any(|&child| state(child) == Some('T'))
    })?;
    assert_eq!(
        phoenix.try_exit()?,
        None,
        "phoenix ended with a stopped child{}",
        phoenix.context()
    );
    // CONT is forwarded like any catchable signal.
    phoenix.signal(Signal::SIGCONT)?;
    assert_eq!(
        phoenix.wait_exit(DEADLINE)?,
        4,
        "exit status{}",
        phoenix.context()
    );
    Ok(())
}

/// Started with its stdin closed (`<&-`), Phoenix puts `/dev/null` there before it opens
/// anything, as Rust's start-up would: otherwise its own first descriptor (the signalfd)
/// would sit at 0, and the command would start with no stdin at all.
#[test]
fn a_closed_stdin_is_dev_null_for_the_command() -> TestResult {
    let wrapper = ["sh", "-c", "exec \"$@\" <&-", "sh"];
    let script = "readlink /proc/self/fd/0 > stdin.tmp; mv stdin.tmp stdin";
    let mut phoenix = Pid1::start_wrapped(scratch()?, &[], &wrapper, sh(script))?;
    assert_eq!(
        phoenix.wait_exit(DEADLINE)?,
        0,
        "exit status{}",
        phoenix.context()
    );
    assert_eq!(
        phoenix.read("stdin").trim(),
        "/dev/null",
        "{}",
        phoenix.context()
    );
    Ok(())
}
