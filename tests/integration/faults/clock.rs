//! The wall clock jumping: a time namespace cannot move CLOCK_REALTIME and the host's
//! clock is not ours to change, so Phoenix runs under libfaketime (LD_PRELOAD, the
//! `faketime` package) with the monotonic clock left alone (`DONT_FAKE_MONOTONIC=1`) and
//! its wall clock read from a file the test rewrites: a day back, then a year ahead.
//! Restart delays use the monotonic clock, so the crasher's restarts stay a second apart
//! (measured with /proc/uptime, which libfaketime does not touch), while the event log's
//! timestamps show Phoenix saw each jump.

use super::count_lines;
use crate::harness::{Phoenix, TestResult};
use crate::services::setup::ServicesDir;

const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/// Appends its start time (seconds since boot, from /proc/uptime) to `starts.log`.
const TIMED_CRASHER: &str = r#"command = "cut -d' ' -f1 /proc/uptime >> starts.log; exit 1"
[restart]
delay = "1s"
multiplier = 1.0
max-delay = "1s"
max-failures = 100000
window = "1m"
"#;

#[test]
fn wall_clock_jumps_do_not_disturb_restart_delays() -> TestResult {
    if !std::path::Path::new(LIBFAKETIME).exists() {
        return Err(format!("{LIBFAKETIME} is missing: apt-get install faketime").into());
    }
    let layout = ServicesDir::new()?;
    layout.unit("crasher", TIMED_CRASHER)?;
    let clock = layout.path("faketime");
    std::fs::write(&clock, "+0\n")?;
    let clock_text = clock.display().to_string();
    let env = [
        ("LD_PRELOAD", LIBFAKETIME),
        ("FAKETIME_TIMESTAMP_FILE", clock_text.as_str()),
        ("FAKETIME_NO_CACHE", "1"),
        ("DONT_FAKE_MONOTONIC", "1"),
    ];
    let phoenix = layout.start_with_env(&env, &[])?;
    let year = |phoenix: &Phoenix| last_event_year(phoenix);
    let now_year =
        wait_for_starts(&phoenix, 3).and_then(|_| year(&phoenix).ok_or("no events".into()))?;
    std::fs::write(&clock, "-1d\n")?;
    let back = phoenix.lines("starts.log").len();
    wait_for_starts(&phoenix, back + 4)?;
    std::fs::write(&clock, "+365d\n")?;
    let ahead = phoenix.lines("starts.log").len();
    wait_for_starts(&phoenix, ahead + 4)?;
    assert_eq!(
        year(&phoenix),
        Some(now_year + 1),
        "Phoenix saw the jump{}",
        phoenix.context()
    );
    let times: Vec<f64> = phoenix
        .lines("starts.log")
        .iter()
        .filter_map(|line| line.trim().parse().ok())
        .collect();
    for pair in times.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            (0.9..3.0).contains(&gap),
            "restarts {gap:.2}s apart around a wall-clock jump: {times:?}{}",
            phoenix.context()
        );
    }
    assert_eq!(
        count_lines(&phoenix, "panicked"),
        0,
        "{}",
        phoenix.context()
    );
    Ok(())
}

#[track_caller]
fn wait_for_starts(phoenix: &Phoenix, count: usize) -> TestResult {
    // A second apart: the default deadline covers a few of them only.
    let deadline = std::time::Duration::from_secs(5 + 2 * count as u64);
    if crate::wait::wait_until(deadline, || phoenix.lines("starts.log").len() >= count) {
        Ok(())
    } else {
        Err(format!("{count} starts within {deadline:?}{}", phoenix.context()).into())
    }
}

/// The year of the last record of `state/events.jsonl` ("2026-12-02T…").
fn last_event_year(phoenix: &Phoenix) -> Option<i32> {
    let text = std::fs::read_to_string(phoenix.path("state/events.jsonl")).ok()?;
    let last = text.lines().last()?;
    let record: serde_json::Value = serde_json::from_str(last).ok()?;
    record["time"].as_str()?.get(..4)?.parse().ok()
}
