//! `phoenixctl events --follow`: the recorded history first, then every state change live,
//! each one a JSON line with the fields of DESIGN.md §8.

use serde_json::Value;

use super::ctl::{Follower, daemon, start, wait_for_state};
use crate::harness::TestResult;
use crate::services::setup::ServicesDir;

fn is_transition(event: &Value, service: &str, from: &str, to: &str) -> bool {
    event["service"] == service && event["from"] == from && event["to"] == to
}

#[test]
fn events_follow_sees_a_crash_then_backoff_then_running() -> TestResult {
    let layout = ServicesDir::new()?;
    let restart = "[restart]\nmin-uptime = \"1h\"\ndelay = \"200ms\"";
    layout.unit("web", &daemon("web", restart))?;
    let phoenix = start(layout)?;
    wait_for_state(&phoenix, "web", "running")?;

    let follower = Follower::start(&phoenix)?;
    let mut seen = Vec::new();
    // Reading the history's start of `web` means the stream is live: Phoenix subscribes a
    // follower as it sends the history.
    follower.next_matching(&mut seen, "web started (history)", |event| {
        is_transition(event, "web", "starting", "running")
    })?;
    phoenix.touch("web.crash")?;
    let crash = follower.next_matching(&mut seen, "web: running → backoff", |event| {
        is_transition(event, "web", "running", "backoff")
    })?;
    assert_eq!(crash["exit"], "exit 3", "{crash}");
    assert_eq!(crash["restarts"], 1, "{crash}");
    assert!(crash["next_attempt_ms"].is_u64(), "{crash}");
    assert!(
        crash["reason"].as_str().is_some_and(|r| !r.is_empty()),
        "{crash}"
    );
    let time = crash["time"].as_str().unwrap_or_default();
    assert!(
        time.len() >= 20 && time.as_bytes()[10] == b'T' && time.ends_with('Z'),
        "not RFC 3339 UTC: {crash}"
    );
    follower.next_matching(&mut seen, "web: backoff → starting", |event| {
        is_transition(event, "web", "backoff", "starting")
    })?;
    let running = follower.next_matching(&mut seen, "web: starting → running", |event| {
        is_transition(event, "web", "starting", "running")
    })?;
    assert_eq!(running["restarts"], 1, "{running}");
    phoenix.wait_for_lines("web.pids", 2)?;
    Ok(())
}

#[test]
fn events_follow_streams_an_administrators_commands() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit("web", &daemon("web", ""))?;
    let phoenix = start(layout)?;
    wait_for_state(&phoenix, "web", "running")?;
    let follower = Follower::start(&phoenix)?;
    let mut seen = Vec::new();
    follower.next_matching(&mut seen, "web started (history)", |event| {
        is_transition(event, "web", "starting", "running")
    })?;
    super::ctl::phoenixctl(&phoenix, &["stop", "web"])?.ok()?;
    follower.next_matching(&mut seen, "web: running → stopping", |event| {
        is_transition(event, "web", "running", "stopping")
    })?;
    follower.next_matching(&mut seen, "web: stopping → down", |event| {
        is_transition(event, "web", "stopping", "down")
    })?;
    Ok(())
}
