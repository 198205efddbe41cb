//! The recovery ladder as a user meets it: each of the seed's scenarios run for real, with
//! Phoenix as PID 1, asserting on what the services and hooks wrote, on
//! `phoenixctl incidents --json`, on `status` and on the files Phoenix keeps. Each test
//! prints the time to recover it measured (`cargo test -- --nocapture` shows them).

mod groups;
mod ladder;

use serde_json::Value;

use crate::control::ctl::phoenixctl;
use crate::harness::{Phoenix, TestResult};

/// `phoenixctl --json incidents NAME`: the incidents of `name`, oldest first.
pub fn incidents(phoenix: &Phoenix, name: &str) -> TestResult<Vec<Value>> {
    let outcome = phoenixctl(phoenix, &["--json", "incidents", name])?.ok()?;
    let parsed: Value = serde_json::from_str(&outcome.stdout)?;
    Ok(parsed.as_array().cloned().unwrap_or_default())
}

/// Waits for an incident of `name` closed with `outcome`, and returns it.
#[track_caller]
pub fn wait_for_incident(phoenix: &Phoenix, name: &str, outcome: &str) -> TestResult<Value> {
    wait_for_incident_after(phoenix, name, outcome, 0)
}

/// Waits for an incident of `name` with an id above `after`, closed with `outcome`.
#[track_caller]
pub fn wait_for_incident_after(
    phoenix: &Phoenix,
    name: &str,
    outcome: &str,
    after: u64,
) -> TestResult<Value> {
    let mut found = None;
    phoenix.eventually(
        &format!("an incident of {name} closed as {outcome}"),
        || {
            found = incidents(phoenix, name).ok().and_then(|all| {
                all.into_iter().rev().find(|i| {
                    i["outcome"] == outcome && i["id"].as_u64().is_some_and(|id| id > after)
                })
            });
            found.is_some()
        },
    )?;
    let incident = found.ok_or("no incident")?;
    eprintln!(
        "{name}: incident {} {outcome}: detected by {}, time to detect {} ms, time to recover {} ms, steps {}",
        incident["id"],
        incident["detected_by"],
        incident["time_to_detect_ms"],
        incident["time_to_recover_ms"],
        incident["steps"]
    );
    Ok(incident)
}

/// The (step, outcome) pairs of an incident.
pub fn steps(incident: &Value) -> Vec<(String, String)> {
    incident["steps"]
        .as_array()
        .map(|steps| {
            steps
                .iter()
                .map(|step| {
                    let text = |key: &str| step[key].as_str().unwrap_or_default().to_string();
                    (text("step"), text("outcome"))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The pairs as `&str`, for comparing with literals.
pub fn pairs(steps: &[(String, String)]) -> Vec<(&str, &str)> {
    steps
        .iter()
        .map(|(s, o)| (s.as_str(), o.as_str()))
        .collect()
}
