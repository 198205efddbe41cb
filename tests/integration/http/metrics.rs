//! `/metrics` scraped from a real PID-1 Phoenix: valid for `promtool check metrics`, and
//! its numbers the same as `phoenixctl status --json` after a crash and a recovery.

use std::io::Write;
use std::process::{Command, Stdio};

use super::client::{body_of, curl, start_with_http};
use crate::control::ctl::{daemon, service_json};
use crate::harness::TestResult;
use crate::services::setup::ServicesDir;

/// The value of the sample `name{labels}` (labels exactly as rendered), if present.
fn sample(scrape: &str, series: &str) -> Option<f64> {
    scrape
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

fn promtool_check(scrape: &str) -> TestResult {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("promtool (Debian's prometheus package) is needed: {error}"))?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(scrape.as_bytes())?;
    let output = child.wait_with_output()?;
    let said = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    if !output.status.success() || !said.trim().is_empty() {
        return Err(format!("promtool check metrics: {said}\n--- scrape:\n{scrape}").into());
    }
    Ok(())
}

#[test]
fn a_scrape_passes_promtool_and_matches_status_after_a_crash_and_a_recovery() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit(
        "web",
        &daemon(
            "web",
            "[recovery]\nverify = \"300ms\"\n[restart]\nmin-uptime = \"100ms\"\ndelay = \"50ms\"",
        ),
    )?;
    let (phoenix, port) = start_with_http(layout, "")?;
    phoenix.wait_for_lines("web.pids", 1)?;
    phoenix.wait_for_log("web: keeping a last-known-good")?;
    phoenix.touch("web.crash")?;
    phoenix.wait_for_log("web: incident 1 recovered")?;
    let (status, response) = curl(port, "/metrics", &[])?;
    assert_eq!(status, 200, "{response}");
    assert!(
        response.contains("Content-Type: text/plain; version=0.0.4"),
        "{response}"
    );
    let scrape = body_of(&response);
    promtool_check(scrape)?;
    let web = service_json(&phoenix, "web")?;
    let restarts = web["restarts"].as_f64().ok_or("no restarts")?;
    assert_eq!(
        sample(scrape, "phoenix_service_restarts_total{service=\"web\"}"),
        Some(restarts),
        "{scrape}"
    );
    assert_eq!(
        sample(scrape, "phoenix_service_up{service=\"web\"}"),
        Some(1.0)
    );
    assert_eq!(
        sample(
            scrape,
            "phoenix_incidents_total{service=\"web\",outcome=\"recovered\"}"
        ),
        Some(1.0),
        "{scrape}"
    );
    assert_eq!(
        sample(scrape, "phoenix_time_to_recover_seconds_count"),
        Some(1.0)
    );
    assert!(scrape.contains("process_resident_memory_bytes"), "{scrape}");
    Ok(())
}
