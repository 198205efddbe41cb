//! An administrator outranks the restart budget (DESIGN.md §5): an explicit start bypasses
//! a backoff delay and a spent budget, and `reset` clears the tally and closes the circuit.

use serde_json::Value;

use super::ctl::{phoenixctl, service_json, start, wait_for_state};
use crate::harness::TestResult;
use crate::services::setup::ServicesDir;

/// Fails at once until `NAME.ok` exists, then runs; records each start in `NAME.pids`.
fn flaky(name: &str, restart: &str) -> String {
    format!(
        "command = \"echo $$ >> {name}.pids; [ -e {name}.ok ] && exec sleep 1000; exit 1\"\n\
         [restart]\n{restart}\n"
    )
}

/// The recorded events of `service`, oldest first, from `phoenixctl events`.
fn events_of(phoenix: &crate::harness::Phoenix, service: &str) -> TestResult<Vec<Value>> {
    let outcome = phoenixctl(phoenix, &["events"])?.ok()?;
    let mut events = Vec::new();
    for line in outcome.stdout.lines() {
        let event: Value = serde_json::from_str(line)?;
        if event["service"] == service {
            events.push(event);
        }
    }
    Ok(events)
}

#[test]
fn explicit_start_bypasses_a_spent_budget() -> TestResult {
    let layout = ServicesDir::new()?;
    let restart = "delay = \"100ms\"\nmax-failures = 2\non-exhausted = \"stop\"";
    layout.unit("flaky", &flaky("flaky", restart))?;
    let phoenix = start(layout)?;
    wait_for_state(&phoenix, "flaky", "failed")?;
    phoenix.touch("flaky.ok")?;
    let failed_runs = phoenix.lines("flaky.pids").len();

    phoenixctl(&phoenix, &["start", "flaky", "--wait", "--timeout", "10s"])?.ok()?;
    let status = service_json(&phoenix, "flaky")?;
    assert_eq!(status["state"], "running", "{status}");
    assert_eq!(status["circuit"], "closed", "{status}");
    assert_eq!(phoenix.lines("flaky.pids").len(), failed_runs + 1);
    let events = events_of(&phoenix, "flaky")?;
    let started = events
        .iter()
        .find(|event| event["from"] == "failed")
        .ok_or_else(|| format!("no event leaves `failed`: {events:#?}"))?;
    assert_eq!(started["to"], "starting", "{started}");
    assert!(
        started["reason"]
            .as_str()
            .is_some_and(|r| r.contains("request")),
        "{started}"
    );
    Ok(())
}

#[test]
fn explicit_start_bypasses_a_backoff_delay() -> TestResult {
    let layout = ServicesDir::new()?;
    let restart = "delay = \"1h\"\nmax-delay = \"1h\"\nmax-failures = 10";
    layout.unit("slow", &flaky("slow", restart))?;
    let phoenix = start(layout)?;
    wait_for_state(&phoenix, "slow", "backoff")?;
    let status = service_json(&phoenix, "slow")?;
    assert!(
        status["next_attempt_ms"]
            .as_u64()
            .is_some_and(|ms| ms > 60_000),
        "{status}"
    );
    phoenix.touch("slow.ok")?;
    phoenixctl(&phoenix, &["start", "slow", "--wait", "--timeout", "10s"])?.ok()?;
    assert_eq!(service_json(&phoenix, "slow")?["state"], "running");
    assert_eq!(phoenix.lines("slow.pids").len(), 2);
    Ok(())
}

#[test]
fn reset_clears_the_tally_and_closes_the_circuit() -> TestResult {
    let layout = ServicesDir::new()?;
    let stop = "delay = \"100ms\"\nmax-failures = 2\non-exhausted = \"stop\"";
    let cool = "delay = \"100ms\"\nmax-failures = 2\ncooldown = \"1h\"\nmax-cooldown = \"1h\"";
    layout.unit("stopped", &flaky("stopped", stop))?;
    layout.unit("cooling", &flaky("cooling", cool))?;
    let phoenix = start(layout)?;
    wait_for_state(&phoenix, "stopped", "failed")?;
    wait_for_state(&phoenix, "cooling", "cooldown")?;
    let before = service_json(&phoenix, "cooling")?;
    assert_eq!(before["circuit"], "open", "{before}");
    assert_eq!(before["failures_in_window"], 2, "{before}");

    for name in ["stopped", "cooling"] {
        // Healthy from now on, so that whatever follows the reset adds no failure.
        phoenix.touch(&format!("{name}.ok"))?;
        let outcome = phoenixctl(&phoenix, &["reset", name])?.ok()?;
        assert!(outcome.stdout.contains("circuit closed"), "{outcome:?}");
        let status = service_json(&phoenix, name)?;
        let state = status["state"].as_str().unwrap_or_default();
        assert!(
            !matches!(state, "failed" | "cooldown" | "backoff"),
            "reset leaves {name} {state}: {status}"
        );
        assert_eq!(status["circuit"], "closed", "{status}");
        assert_eq!(status["failures_in_window"], 0, "{status}");
        assert!(status["next_attempt_ms"].is_null(), "{status}");
        let deaths = status["deaths"].as_array().map_or(0, Vec::len);
        assert_eq!(
            (&status["restarts"], deaths),
            (&0.into(), 0),
            "reset leaves the restart count or the death tally (restarts, deaths): {status}"
        );
        phoenixctl(&phoenix, &["start", name, "--wait", "--timeout", "10s"])?.ok()?;
        assert_eq!(service_json(&phoenix, name)?["circuit"], "closed");
    }
    Ok(())
}
