//! Phoenix forwards every catchable signal except CHLD, TTIN and TTOU to its child, or to
//! the child's process group with `-g`, and ignores TTIN and TTOU itself.

use nix::sys::signal::Signal;

use crate::harness::{Phoenix, Pid1, TestResult, sh};
use crate::procfs::state;

/// The signals a test sends, by the name a shell's `trap` knows them by.
const FORWARDED: &[(Signal, &str)] = &[
    (Signal::SIGHUP, "HUP"),
    (Signal::SIGUSR1, "USR1"),
    (Signal::SIGUSR2, "USR2"),
    (Signal::SIGWINCH, "WINCH"),
    (Signal::SIGQUIT, "QUIT"),
    (Signal::SIGTERM, "TERM"),
    (Signal::SIGINT, "INT"),
];

/// A background job of a non-interactive shell starts with INT and QUIT ignored, and a
/// shell cannot trap what it inherited as ignored: the grandchild records the others.
const GRANDCHILD_RECORDS: &[&str] = &["HUP", "USR1", "USR2", "WINCH", "TERM"];

/// Shell lines that append each of `names` to `file` when received, without exiting.
fn record_signals(names: &[&str], file: &str) -> String {
    names
        .iter()
        .map(|name| format!("trap 'echo {name} >> {file}' {name}\n"))
        .collect()
}

/// Polls for the `done` file; trapped signals interrupt the short sleeps.
const UNTIL_DONE: &str = "while [ ! -e done ]; do sleep 0.01; done\n";

fn child_script() -> String {
    let mut names: Vec<&str> = FORWARDED.iter().map(|(_, name)| *name).collect();
    names.extend(["TTIN", "TTOU"]);
    format!(
        "{}touch child.ready\n{UNTIL_DONE}exit 0\n",
        record_signals(&names, "child.signals")
    )
}

fn has_line(phoenix: &Phoenix, file: &str, name: &str) -> bool {
    phoenix.read(file).lines().any(|line| line == name)
}

#[test]
fn forwards_signals_to_child() -> TestResult {
    let mut phoenix = Pid1::start(sh(&child_script()))?;
    phoenix.wait_for_file("child.ready")?;
    for &(signal, name) in FORWARDED {
        phoenix.signal(signal)?;
        phoenix.eventually(&format!("the child got {name}"), || {
            has_line(&phoenix, "child.signals", name)
        })?;
    }
    phoenix.finish_when_done()?;
    Ok(())
}

#[test]
fn ignores_ttin_and_ttou() -> TestResult {
    let mut phoenix = Pid1::start(sh(&child_script()))?;
    phoenix.wait_for_file("child.ready")?;
    phoenix.signal(Signal::SIGTTIN)?;
    phoenix.signal(Signal::SIGTTOU)?;
    // A later signal still arrives: Phoenix neither stopped nor died.
    phoenix.signal(Signal::SIGUSR1)?;
    phoenix.eventually("the child got USR1", || {
        has_line(&phoenix, "child.signals", "USR1")
    })?;
    assert_ne!(
        state(phoenix.pid()?),
        Some('T'),
        "phoenix is stopped{}",
        phoenix.context()
    );
    let received = phoenix.read("child.signals");
    assert!(
        !received.contains("TTIN") && !received.contains("TTOU"),
        "forwarded: {received}"
    );
    phoenix.finish_when_done()?;
    Ok(())
}

/// The child starts a grandchild in its own process group; both record what they get.
fn group_script() -> String {
    let grandchild = format!(
        "(\n{}touch grandchild.ready\n{UNTIL_DONE}) &\n\
         while [ ! -e grandchild.ready ]; do sleep 0.01; done\n",
        record_signals(GRANDCHILD_RECORDS, "grandchild.signals"),
    );
    let child = child_script().replace("exit 0\n", "wait\nexit 0\n");
    format!("{grandchild}{child}")
}

#[track_caller]
fn assert_group_receives_signals(mut phoenix: Phoenix) -> TestResult {
    phoenix.wait_for_file("child.ready")?;
    for &(signal, name) in FORWARDED {
        phoenix.signal(signal)?;
        phoenix.eventually(&format!("the child got {name}"), || {
            has_line(&phoenix, "child.signals", name)
        })?;
        if GRANDCHILD_RECORDS.contains(&name) {
            phoenix.eventually(&format!("the grandchild got {name}"), || {
                has_line(&phoenix, "grandchild.signals", name)
            })?;
        }
    }
    phoenix.finish_when_done()?;
    Ok(())
}

#[test]
fn forwards_signals_to_process_group_with_g() -> TestResult {
    let mut args = vec!["-g".to_string()];
    args.extend(sh(&group_script()));
    assert_group_receives_signals(Pid1::start(args)?)
}

#[test]
fn forwards_signals_to_process_group_with_tini_kill_process_group() -> TestResult {
    let env = [("TINI_KILL_PROCESS_GROUP", "1")];
    assert_group_receives_signals(Pid1::start_with_env(&env, sh(&group_script()))?)
}

/// tini tests the variable's presence, as its README documents: `ENV
/// TINI_KILL_PROCESS_GROUP=` in a Dockerfile (set, empty) turns group signalling on.
#[test]
fn issue_8_an_empty_tini_kill_process_group_forwards_to_the_group() -> TestResult {
    let env = [("TINI_KILL_PROCESS_GROUP", "")];
    assert_group_receives_signals(Pid1::start_with_env(&env, sh(&group_script()))?)
}

#[test]
fn without_g_only_the_child_is_signalled() -> TestResult {
    let script = format!(
        "(\n{}touch grandchild.ready\n{UNTIL_DONE}) &\n{}touch child.ready\n{UNTIL_DONE}wait\nexit 0\n",
        record_signals(&["USR1"], "grandchild.signals"),
        record_signals(&["USR1", "USR2"], "child.signals"),
    );
    let mut phoenix = Pid1::start(sh(&script))?;
    phoenix.wait_for_file("child.ready")?;
    phoenix.wait_for_file("grandchild.ready")?;
    phoenix.signal(Signal::SIGUSR1)?;
    phoenix.eventually("the child got USR1", || {
        has_line(&phoenix, "child.signals", "USR1")
    })?;
    // USR2 goes the same way after USR1; once it arrived, USR1 would have reached the group.
    phoenix.signal(Signal::SIGUSR2)?;
    phoenix.eventually("the child got USR2", || {
        has_line(&phoenix, "child.signals", "USR2")
    })?;
    assert_eq!(
        phoenix.read("grandchild.signals"),
        "",
        "the grandchild was signalled"
    );
    phoenix.finish_when_done()?;
    Ok(())
}

#[test]
fn forwards_power_signals() -> TestResult {
    // RTMIN+3 is 37 with glibc and musl; `trap` takes the number.
    let script = format!(
        "{}touch child.ready\n{UNTIL_DONE}exit 0\n",
        record_signals(&["PWR", "37"], "child.signals")
    );
    let mut phoenix = Pid1::start(sh(&script))?;
    phoenix.wait_for_file("child.ready")?;
    phoenix.signal(Signal::SIGPWR)?;
    phoenix.eventually("the child got PWR", || {
        has_line(&phoenix, "child.signals", "PWR")
    })?;
    phoenix.signal_number(libc::SIGRTMIN() + 3)?;
    phoenix.eventually("the child got RTMIN+3", || {
        has_line(&phoenix, "child.signals", "37")
    })?;
    phoenix.finish_when_done()?;
    Ok(())
}
