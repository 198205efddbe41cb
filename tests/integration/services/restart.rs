//! Restarts and the restart budget (DESIGN.md §5): growing backoff delays, the circuit
//! breaker (open → half-open trial → closed), `on-exhausted = "stop"`, and the circuit
//! state surviving a restart of Phoenix. Delays are checked from the start times the
//! services record, as lower bounds only.

use std::time::Duration;

use nix::sys::signal::Signal;

use super::setup::{ServicesDir, gaps_ms, log_position};
use crate::harness::{DEADLINE, TestResult, scratch, wait_until};

/// Timers may fire a hair early relative to the service's own clock reading.
const TOLERANCE_MS: i64 = 20;

#[test]
fn crash_restarts_with_growing_delays() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit(
        "crasher",
        r#"command = "date +%s%N >> starts; exit 1"
[restart]
delay = "200ms"
multiplier = 2.0
max-failures = 10
window = "10m"
"#,
    )?;
    let phoenix = layout.start(&[])?;
    let starts = phoenix.wait_for_lines("starts", 5)?;
    let gaps = gaps_ms(&starts[..5])?;
    let context = phoenix.context();
    for (attempt, gap) in gaps.iter().enumerate() {
        let delay = 200 << attempt;
        assert!(
            *gap >= delay - TOLERANCE_MS,
            "gap {attempt} was {gap} ms, under the {delay} ms delay: {gaps:?}{context}"
        );
    }
    // Each lower bound doubles, so the gaps grow; a loaded machine may stretch one gap
    // past the next, so pairwise growth is read from the delays Phoenix announces.
    assert!(gaps[3] > gaps[0], "gaps do not grow: {gaps:?}{context}");
    let announced = announced_delays(&phoenix.stderr(), "crasher");
    assert!(
        announced.len() >= 4 && announced.windows(2).all(|pair| pair[1] > pair[0]),
        "announced delays do not grow: {announced:?}{context}"
    );
    Ok(())
}

#[test]
fn exhausted_budget_cools_down_then_trial_closes_the_circuit() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit(
        "flaky",
        r#"command = "date +%s%N >> starts; [ -e healthy ] && exec sleep 1000; exit 1"
[restart]
delay = "100ms"
max-failures = 2
window = "1m"
cooldown = "1s"
reset-after = "1s"
"#,
    )?;
    let phoenix = layout.start(&[])?;
    phoenix.wait_for_log("flaky: running → cooldown")?;
    phoenix.touch("healthy")?;
    phoenix.wait_for_log("flaky: ran 1s on trial, circuit closed")?;
    let starts = phoenix.lines("starts");
    let context = phoenix.context();
    assert_eq!(starts.len(), 3, "two failures and one trial{context}");
    let gaps = gaps_ms(&starts)?;
    assert!(
        gaps[1] >= 1000 - TOLERANCE_MS,
        "trial came {} ms after the circuit opened, before the 1s cooldown{context}",
        gaps[1]
    );
    let stderr = phoenix.stderr();
    let opened = log_position(&stderr, &["flaky:", "→ cooldown", "circuit open for 1s"]);
    let trial = log_position(&stderr, &["flaky: cooldown → starting", "trial start"]);
    let closed = log_position(&stderr, &["flaky:", "circuit closed"]);
    assert!(
        opened < trial && trial < closed && opened.is_some(),
        "order of open {opened:?}, trial {trial:?}, closed {closed:?}{context}"
    );
    phoenix.eventually("state.json records a closed circuit", || {
        circuit_state(&phoenix.read("state/state.json"), "flaky").as_deref() == Some("closed")
    })?;
    Ok(())
}

#[test]
fn exhausted_budget_with_on_exhausted_stop_fails_for_good() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit(
        "doomed",
        r#"command = "echo start >> starts; exit 1"
[restart]
delay = "100ms"
max-failures = 2
window = "1m"
on-exhausted = "stop"
"#,
    )?;
    let phoenix = layout.start(&[])?;
    phoenix.wait_for_log("doomed: running → failed")?;
    assert!(
        phoenix.stderr().contains("giving up"),
        "no 'giving up'{}",
        phoenix.context()
    );
    // A further restart would come within the next backoff delay (200ms); wait well past it.
    let restarted = wait_until(Duration::from_secs(1), || phoenix.lines("starts").len() > 2);
    assert!(
        !restarted,
        "started again after failing{}",
        phoenix.context()
    );
    assert_eq!(phoenix.lines("starts").len(), 2, "{}", phoenix.context());
    Ok(())
}

#[test]
fn open_circuit_survives_a_restart_of_phoenix() -> TestResult {
    let state = scratch()?;
    let flaky = r#"command = "echo start >> flaky.starts; exit 1"
[restart]
delay = "100ms"
max-failures = 1
window = "1m"
cooldown = "1h"
"#;
    let marker = r#"command = "touch other.started; exec sleep 1000""#;

    let units = scratch()?;
    let first = ServicesDir::with_dirs(state.path(), units.path())?;
    first.unit("flaky", flaky)?;
    let mut phoenix = first.start(&[])?;
    phoenix.wait_for_log("flaky: running → cooldown")?;
    phoenix.eventually("state.json records an open circuit", || {
        let text = std::fs::read_to_string(state.path().join("state.json")).unwrap_or_default();
        circuit_state(&text, "flaky").as_deref() == Some("open")
    })?;
    phoenix.signal(Signal::SIGTERM)?;
    assert_eq!(phoenix.wait_exit(DEADLINE)?, 0, "{}", phoenix.context());
    assert_eq!(
        phoenix.lines("flaky.starts").len(),
        1,
        "{}",
        phoenix.context()
    );
    drop(phoenix);

    let second = ServicesDir::with_dirs(state.path(), units.path())?;
    second.unit("flaky", flaky)?;
    second.unit("other", marker)?;
    let mut phoenix = second.start(&[])?;
    phoenix.wait_for_log("flaky: circuit still open")?;
    phoenix.wait_for_file("other.started")?;
    phoenix.signal(Signal::SIGTERM)?;
    assert_eq!(phoenix.wait_exit(DEADLINE)?, 0, "{}", phoenix.context());
    let context = phoenix.context();
    assert!(
        !phoenix.exists("flaky.starts"),
        "flaky started despite its open circuit{context}"
    );
    assert!(
        log_position(&phoenix.stderr(), &["flaky:", "→ starting"]).is_none(),
        "flaky was started{context}"
    );
    Ok(())
}

/// The delays in `NAME: running → backoff (…, retry in DELAY)` lines, in milliseconds.
fn announced_delays(stderr: &str, name: &str) -> Vec<u64> {
    let prefix = format!("{name}: running → backoff");
    stderr
        .lines()
        .filter(|line| line.contains(&prefix))
        .filter_map(|line| line.rsplit_once("retry in ")?.1.strip_suffix(')'))
        .filter_map(|delay| {
            let (number, scale) = match delay.strip_suffix("ms") {
                Some(millis) => (millis, 1.0),
                None => (delay.strip_suffix('s')?, 1000.0),
            };
            number.parse::<f64>().ok().map(|n| (n * scale) as u64)
        })
        .collect()
}

/// The `circuit.state` of service `name` in a `state.json` text.
fn circuit_state(text: &str, name: &str) -> Option<String> {
    let state: serde_json::Value = serde_json::from_str(text).ok()?;
    state["services"]
        .as_array()?
        .iter()
        .find(|service| service["name"] == name)?["circuit"]["state"]
        .as_str()
        .map(str::to_string)
}
