//! What outlives a Phoenix run: the event log in the state directory (rotated by size,
//! keeping the configured number of files) and the restart counts and circuit states that
//! `phoenixctl status` shows.

use std::fs;
use std::path::Path;

use serde_json::Value;

use super::ctl::{phoenixctl, start, status_json, wait_for_state};
use crate::harness::{DEADLINE, Phoenix, TestResult, scratch};
use crate::services::setup::ServicesDir;

/// Runs until `NAME.crash` appears, then exits 3 (a failure: `min-uptime` is long).
fn crashable(name: &str) -> String {
    format!(
        "command = \"echo $$ >> {name}.pids; while [ ! -e {name}.crash ]; do sleep 0.05; done; \
         rm -f {name}.crash; exit 3\"\n\
         [restart]\nmin-uptime = \"1h\"\ndelay = \"100ms\"\n"
    )
}

/// Fails at once, always; its circuit opens after two failures and stays open an hour.
const BROKEN: &str = "command = \"exit 1\"\n[restart]\ndelay = \"100ms\"\nmax-failures = 2\n\
                      cooldown = \"1h\"\nmax-cooldown = \"1h\"\n";

/// `web` and `broken` in `base/services.d`, state in `base/state`: every run on the same
/// `base` is the same Phoenix restarted, whose records apply.
fn layout_with_units(base: &Path) -> TestResult<ServicesDir> {
    let layout = ServicesDir::with_dirs(&base.join("state"), &base.join("services.d"))?;
    layout.unit("web", &crashable("web"))?;
    layout.unit("broken", BROKEN)?;
    Ok(layout)
}

#[track_caller]
fn shut_down(phoenix: &mut Phoenix) -> TestResult {
    phoenixctl(phoenix, &["shutdown"])?.ok()?;
    assert_eq!(phoenix.wait_exit(DEADLINE)?, 0, "{}", phoenix.context());
    Ok(())
}

/// Name, restarts and circuit of every service.
fn counts(services: &[Value]) -> Vec<(Value, Value, Value)> {
    services
        .iter()
        .map(|s| {
            (
                s["name"].clone(),
                s["restarts"].clone(),
                s["circuit"].clone(),
            )
        })
        .collect()
}

#[test]
fn events_survive_a_restart_of_phoenix() -> TestResult {
    let state = scratch()?;
    let mut first = start(layout_with_units(state.path())?)?;
    first.wait_for_lines("web.pids", 1)?;
    first.touch("web.crash")?;
    first.wait_for_lines("web.pids", 2)?;
    wait_for_state(&first, "web", "running")?;
    shut_down(&mut first)?;
    let recorded = fs::read_to_string(state.path().join("state/events.jsonl"))?;
    let recorded: Vec<Value> = recorded
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    assert!(
        recorded
            .iter()
            .any(|e| e["service"] == "web" && e["to"] == "backoff" && e["exit"] == "exit 3"),
        "the crash is recorded: {recorded:#?}"
    );

    let second = start(layout_with_units(state.path())?)?;
    wait_for_state(&second, "web", "running")?;
    let file = fs::read_to_string(state.path().join("state/events.jsonl"))?;
    let in_file: Vec<Value> = file
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    assert!(in_file.len() > recorded.len(), "the second run appends");
    assert_eq!(
        in_file[..recorded.len()],
        recorded[..],
        "earlier events kept in order"
    );

    let shown = phoenixctl(&second, &["events"])?.ok()?.stdout;
    let shown: Vec<Value> = shown
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    assert!(shown.len() > recorded.len(), "{shown:#?}");
    assert_eq!(
        shown[..recorded.len()],
        recorded[..],
        "phoenixctl events shows them first"
    );
    Ok(())
}

#[test]
fn status_after_a_restart_of_phoenix_shows_the_same_counts_and_circuits() -> TestResult {
    let state = scratch()?;
    let mut first = start(layout_with_units(state.path())?)?;
    first.wait_for_lines("web.pids", 1)?;
    for crashes in 1..=2 {
        first.touch("web.crash")?;
        first.wait_for_lines("web.pids", crashes + 1)?;
    }
    wait_for_state(&first, "web", "running")?;
    wait_for_state(&first, "broken", "cooldown")?;
    let before = status_json(&first)?;
    shut_down(&mut first)?;

    let second = start(layout_with_units(state.path())?)?;
    wait_for_state(&second, "web", "running")?;
    let after = status_json(&second)?;
    assert_eq!(counts(&after), counts(&before), "{before:#?}\n{after:#?}");
    let broken = after
        .iter()
        .find(|s| s["name"] == "broken")
        .ok_or("no broken")?;
    assert_eq!(broken["circuit"], "open", "{broken}");
    assert_eq!(broken["state"], "cooldown", "{broken}");
    let web = after.iter().find(|s| s["name"] == "web").ok_or("no web")?;
    assert_eq!(web["restarts"], 2, "{web}");
    Ok(())
}

#[test]
fn event_log_rotation_keeps_the_configured_number_of_files() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.settings("event-log-max-bytes = 4096\nevent-log-keep = 3\n")?;
    layout.unit(
        "loop",
        "command = [\"/bin/false\"]\n[restart]\nmin-uptime = \"1h\"\ndelay = \"0s\"\n\
         multiplier = 1.0\nmax-failures = 1000000\n",
    )?;
    let phoenix = start(layout)?;
    let state = phoenix.path("state");
    let file = |suffix: &str| state.join(format!("events.jsonl{suffix}"));
    phoenix.eventually(
        "events.jsonl.2 exists and events.jsonl has grown again",
        || file(".2").exists() && fs::metadata(file("")).is_ok_and(|m| m.len() > 1024),
    )?;
    phoenixctl(&phoenix, &["stop", "loop", "--wait"])?.ok()?;

    let mut files: Vec<String> = fs::read_dir(&state)?
        .map(|entry| entry.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()?;
    files.retain(|name| name.starts_with("events"));
    files.sort();
    assert_eq!(files, ["events.jsonl", "events.jsonl.1", "events.jsonl.2"]);
    for suffix in ["", ".1", ".2"] {
        let size = fs::metadata(file(suffix))?.len();
        assert!(size <= 4096, "events.jsonl{suffix} is {size} bytes");
        let text = fs::read_to_string(file(suffix))?;
        for line in text.lines() {
            serde_json::from_str::<Value>(line)
                .map_err(|error| format!("events.jsonl{suffix}: {line:?}: {error}"))?;
        }
    }
    // The history phoenixctl shows spans the kept files, oldest first.
    let shown = phoenixctl(&phoenix, &["events"])?.ok()?.stdout;
    let kept: usize = ["", ".1", ".2"]
        .iter()
        .map(|suffix| fs::read_to_string(file(suffix)).map(|t| t.lines().count()))
        .sum::<Result<_, _>>()?;
    assert_eq!(shown.lines().count(), kept);
    Ok(())
}
