//! Alerts that outlive one run of Phoenix and alerts about its own files and disks: a
//! cooldown kept in `<state-dir>/alerts.json` holds a repeat back after a restart of
//! Phoenix; a corrupt state file found at start is a `corrupt-file` alert; a `[[disk]]`
//! path filled past its critical threshold is a `disk-critical` alert; captured output
//! dropped is a `logs-dropped` alert, once per cooldown.

use std::path::Path;

use nix::sys::signal::Signal;
use serde_json::Value;

use crate::disk::Tmpfs;
use crate::harness::{DEADLINE, TestResult, scratch};
use crate::services::setup::ServicesDir;

const DOOMED: &str = "command = \"echo x >> starts; exit 1\"\n[restart]\ndelay = \"50ms\"\nmax-failures = 1\non-exhausted = \"stop\"\n";

/// `[alerts]` with an exec hook appending its stdin (one JSON line) to `log`, then `extra`.
fn settings(layout: &ServicesDir, log: &Path, extra: &str) -> TestResult {
    let hook = log.with_extension("sh");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\ncat >> {:?}\necho >> {:?}\n",
            log.display(),
            log.display()
        ),
    )?;
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    layout.settings(&format!("[alerts]\nexec = [{:?}]\n{extra}", hook.display()))
}

fn alerts_in(log: &Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

#[test]
fn a_cooldown_outlives_a_restart_of_phoenix() -> TestResult {
    let state = scratch()?;
    let units = scratch()?;
    let log = units.path().join("alerts.jsonl");
    let cooldown = "[alerts.critical]\ncooldown = \"1h\"\n";

    let first = ServicesDir::with_dirs(state.path(), units.path())?;
    settings(&first, &log, cooldown)?;
    first.unit("doomed", DOOMED)?;
    let mut phoenix = first.start(&[])?;
    phoenix.eventually("the first failure is alerted", || {
        alerts_in(&log).len() == 1
    })?;
    phoenix.eventually("alerts.json keeps the alert sent", || {
        std::fs::read_to_string(state.path().join("alerts.json"))
            .is_ok_and(|text| text.contains("\"last_sent_unix_ms\": 1"))
    })?;
    phoenix.signal(Signal::SIGTERM)?;
    assert_eq!(phoenix.wait_exit(DEADLINE)?, 0, "{}", phoenix.context());
    drop(phoenix);

    let second = ServicesDir::with_dirs(state.path(), units.path())?;
    settings(&second, &log, cooldown)?;
    second.unit("doomed", DOOMED)?;
    let phoenix = second.start(&[])?;
    phoenix.wait_for_log(
        "doomed: failed alert held back by the cooldown (1 since the last one sent)",
    )?;
    let context = phoenix.context();
    assert_eq!(alerts_in(&log).len(), 1, "the repeat was sent{context}");
    Ok(())
}

#[test]
fn a_corrupt_state_file_found_at_start_is_an_alert() -> TestResult {
    let layout = ServicesDir::new()?;
    let log = layout.path("alerts.jsonl");
    settings(&layout, &log, "")?;
    let state_dir = layout.path("state");
    std::fs::create_dir_all(&state_dir)?;
    std::fs::write(state_dir.join("state.json"), b"\x00\x01 not json")?;
    layout.unit("idle", "command = \"exec sleep 1000\"\n")?;
    let phoenix = layout.start(&[])?;
    phoenix.eventually("the corrupt file is alerted", || {
        !alerts_in(&log).is_empty()
    })?;
    let alert = &alerts_in(&log)[0];
    let context = phoenix.context();
    assert_eq!(alert["kind"], "corrupt-file", "{alert}{context}");
    assert_eq!(alert["level"], "warning", "{alert}");
    assert_eq!(alert["service"], "phoenix", "{alert}");
    let summary = alert["summary"].as_str().unwrap_or_default();
    assert!(
        summary.contains("state.json is corrupt") && summary.contains("moved aside"),
        "{alert}"
    );
    Ok(())
}

#[test]
fn a_disk_past_its_critical_threshold_is_a_critical_alert() -> TestResult {
    let layout = ServicesDir::new()?;
    let log = layout.path("alerts.jsonl");
    let disk = layout.path("tmpfs");
    let _mounted = Tmpfs::mount(&disk, "1m")?;
    let path = disk.display().to_string();
    settings(
        &layout,
        &log,
        &format!(
            "[[disk]]\npath = {path:?}\nwarning = \"50%\"\ncritical = \"80%\"\ninterval = \"200ms\"\n"
        ),
    )?;
    layout.unit("idle", "command = \"exec sleep 1000\"\n")?;
    let phoenix = layout.start(&[])?;
    std::fs::write(disk.join("big"), vec![0u8; 900 * 1024])?;
    // A check may land while the file is half written: a warning may come first.
    let critical = || {
        alerts_in(&log)
            .into_iter()
            .find(|alert| alert["kind"] != "disk-warning")
    };
    phoenix.eventually("the full disk is alerted", || critical().is_some())?;
    let alert = &critical().ok_or("no alert past the warning")?;
    let context = phoenix.context();
    assert_eq!(alert["kind"], "disk-critical", "{alert}{context}");
    assert_eq!(alert["level"], "critical", "{alert}");
    assert_eq!(alert["service"], format!("disk:{path}"), "{alert}");
    assert!(
        alert["summary"]
            .as_str()
            .is_some_and(|s| s.contains("critical (was ok)")),
        "{alert}"
    );
    Ok(())
}

#[test]
fn output_lines_dropped_are_one_warning_alert() -> TestResult {
    let layout = ServicesDir::new()?;
    let log = layout.path("alerts.jsonl");
    settings(&layout, &log, "[log]\ndefault = { console = true }\n")?;
    layout.unit("flood", "command = \"yes 'a line of flood'\"\n")?;
    // Phoenix's stdout is a pipe nobody reads (opened read-write: it fills, never breaks).
    let fifo = layout.path("console.fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600))?;
    let args = layout.args();
    let dir = layout.into_dir();
    let wrapper = format!("exec \"$@\" 1<>{}", fifo.display());
    let phoenix =
        crate::harness::Pid1::start_wrapped(dir, &[], &["sh", "-c", &wrapper, "sh"], args)?;
    phoenix.eventually("the drops are alerted", || !alerts_in(&log).is_empty())?;
    let alert = &alerts_in(&log)[0];
    let context = phoenix.context();
    assert_eq!(alert["kind"], "logs-dropped", "{alert}{context}");
    assert_eq!(alert["level"], "warning", "{alert}");
    assert_eq!(alert["service"], "flood", "{alert}");
    // The default warning cooldown (2h) holds every later drop back.
    phoenix.wait_for_log("flood: logs-dropped alert held back by the cooldown")?;
    assert_eq!(alerts_in(&log).len(), 1, "{context}");
    Ok(())
}
