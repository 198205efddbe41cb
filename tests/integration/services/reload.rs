//! SIGHUP reloads the services directory (DESIGN.md §3): new units start, removed ones
//! stop, changed ones restart with their new definition, unchanged ones are not touched,
//! and a unit made invalid keeps its old definition running.

use std::fs;

use nix::sys::signal::Signal;

use super::setup::{ServicesDir, logging_daemon};
use crate::harness::TestResult;

/// A daemon recording `start PID VERSION` and `stop PID` in `NAME.log`.
fn versioned(name: &str, version: u32) -> String {
    format!(
        r#"command = '''
trap 'echo "stop $$" >> {name}.log; exit 0' TERM
echo "start $$ $VERSION" >> {name}.log
while :; do sleep 0.05; done
'''
environment = {{ VERSION = "{version}" }}
"#
    )
}

#[test]
fn sighup_starts_new_stops_removed_restarts_changed_and_keeps_the_rest() -> TestResult {
    let layout = ServicesDir::new()?;
    for name in ["keep", "change", "remove", "spoil"] {
        layout.unit(name, &versioned(name, 1))?;
    }
    let phoenix = layout.start(&[])?;
    for name in ["keep", "change", "remove", "spoil"] {
        phoenix.wait_for_lines(&format!("{name}.log"), 1)?;
    }
    let keep_before = phoenix.lines("keep.log");

    phoenix.write("services.d/add.toml", &logging_daemon("add", "add.log", ""))?;
    fs::remove_file(phoenix.path("services.d/remove.toml"))?;
    phoenix.write("services.d/change.toml", &versioned("change", 2))?;
    phoenix.write("services.d/spoil.toml", "comand = \"true\"\n")?;
    phoenix.signal(Signal::SIGHUP)?;

    let added = phoenix.wait_for_lines("add.log", 1)?;
    let removed = phoenix.wait_for_lines("remove.log", 2)?;
    let changed = phoenix.wait_for_lines("change.log", 3)?;
    phoenix.wait_for_log("spoil: keeping the running definition, the new one is invalid")?;
    let context = phoenix.context();
    assert_eq!(added, ["start add"], "{context}");
    assert!(
        removed[1].starts_with("stop "),
        "remove: {removed:?}{context}"
    );
    let first_pid = changed[0].split(' ').nth(1).unwrap_or_default();
    assert!(changed[0].ends_with(" 1"), "change: {changed:?}{context}");
    assert_eq!(changed[1], format!("stop {first_pid}"), "{context}");
    assert!(
        changed[2].starts_with("start ") && changed[2].ends_with(" 2"),
        "change restarted with its new definition: {changed:?}{context}"
    );
    assert_eq!(
        phoenix.lines("keep.log"),
        keep_before,
        "keep was touched{context}"
    );
    assert_eq!(
        phoenix.lines("spoil.log").len(),
        1,
        "spoil was touched{context}"
    );
    let stderr = phoenix.stderr();
    assert!(!stderr.contains("keep: unit changed"), "{context}");
    assert!(stderr.contains("remove: unit removed"), "{context}");
    // A changed unit's restart is said as what it is, not as an operator's request.
    assert!(
        stderr.contains("change: stopping → starting (restarting with the changed unit)"),
        "{context}"
    );
    assert!(!stderr.contains("restarting by request"), "{context}");
    Ok(())
}

/// A unit changed while its circuit is open starts at once with its new definition and a
/// fresh budget, as the README promises for changed units.
#[test]
fn issue_8_sighup_restarts_a_changed_unit_in_cooldown() -> TestResult {
    let layout = ServicesDir::new()?;
    let budget = "[restart]\nmax-failures = 1\ncooldown = \"1h\"\n";
    layout.unit(
        "app",
        &format!("command = \"echo v1 >> app.log; exit 1\"\n{budget}"),
    )?;
    let phoenix = layout.start(&[])?;
    phoenix.wait_for_log("app: running → cooldown")?;
    phoenix.write(
        "services.d/app.toml",
        &format!("command = \"echo v2 >> app.log; exec sleep 1000\"\n{budget}"),
    )?;
    phoenix.signal(Signal::SIGHUP)?;
    phoenix.eventually("the changed unit ran", || {
        phoenix.lines("app.log").last().map(String::as_str) == Some("v2")
    })?;
    phoenix.wait_for_log("app: cooldown → down (unit changed)")?;
    assert!(
        !phoenix.stderr().contains("restarting by request"),
        "{}",
        phoenix.context()
    );
    assert_eq!(
        phoenix.lines("app.log"),
        ["v1", "v2"],
        "{}",
        phoenix.context()
    );
    Ok(())
}
