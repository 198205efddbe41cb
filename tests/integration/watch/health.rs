//! Health probes against a real HTTP server the test steers: 500s make the service
//! unhealthy after `failure-threshold` probes, it is restarted (a counted failure with
//! reason `unhealthy`) and healthy again; `on-unhealthy = "none"` only reports; a slow but
//! successful probe makes it degraded. Every change of health is an event.

use super::servers::{STEERED_SERVER, free_port};
use crate::control::ctl::{phoenixctl, service_json, start};
use crate::harness::{Phoenix, TestResult};
use crate::services::setup::ServicesDir;

/// A unit running the steered server on `port`, ready at `/`, health-checked at `/healthz`.
fn server_unit(port: u16, health: &str) -> String {
    format!(
        r#"command = ["/usr/bin/python3", "server.py", "{port}"]
[ready]
check = "http"
url = "http://127.0.0.1:{port}/"
interval = "50ms"
[health]
check = "http"
url = "http://127.0.0.1:{port}/healthz"
interval = "100ms"
timeout = "3s"
failure-threshold = 2
{health}
[restart]
delay = "100ms"
"#
    )
}

fn layout(health: &str) -> TestResult<(ServicesDir, u16)> {
    let layout = ServicesDir::new()?;
    let port = free_port()?;
    layout.file("server.py", STEERED_SERVER, 0o644)?;
    layout.unit("api", &server_unit(port, health))?;
    Ok((layout, port))
}

#[track_caller]
fn wait_for_health(phoenix: &Phoenix, health: &str) -> TestResult {
    phoenix.eventually(&format!("api is {health}"), || {
        service_json(phoenix, "api").is_ok_and(|api| api["health"] == health)
    })
}

/// The health events of `api` so far: (from, to, reason).
fn health_events(phoenix: &Phoenix) -> TestResult<Vec<(String, String, String)>> {
    let outcome = phoenixctl(phoenix, &["events"])?.ok()?;
    Ok(outcome
        .stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|event| event["kind"] == "health" && event["service"] == "api")
        .map(|event| {
            let text = |key: &str| event[key].as_str().unwrap_or_default().to_string();
            (text("from"), text("to"), text("reason"))
        })
        .collect())
}

#[test]
fn an_unhealthy_service_is_restarted_and_becomes_healthy_again() -> TestResult {
    let (layout, _) = layout("")?;
    let phoenix = start(layout)?;
    wait_for_health(&phoenix, "healthy")?;
    phoenix.touch("fail")?;
    phoenix.wait_for_log("api: healthy → unhealthy (2 probe(s) failed: HTTP 500)")?;
    std::fs::remove_file(phoenix.path("fail"))?;
    phoenix.wait_for_lines("server.pids", 2)?;
    wait_for_health(&phoenix, "healthy")?;
    let api = service_json(&phoenix, "api")?;
    let deaths = api["deaths"].as_array().ok_or("no deaths")?;
    let death = deaths.last().ok_or("no death")?;
    assert_eq!(death["verdict"], "failure", "{api}");
    assert_eq!(
        death["reason"], "unhealthy (2 probe(s) failed: HTTP 500)",
        "{api}"
    );
    let events = health_events(&phoenix)?;
    let path: Vec<(&str, &str)> = events
        .iter()
        .map(|(from, to, _)| (from.as_str(), to.as_str()))
        .collect();
    assert_eq!(
        path,
        [
            ("unknown", "healthy"),
            ("healthy", "unhealthy"),
            ("unknown", "healthy")
        ],
        "{events:?}"
    );
    let table = phoenixctl(&phoenix, &["status"])?.ok()?;
    assert!(table.stdout.contains("HEALTH"), "{table:?}");
    Ok(())
}

#[test]
fn on_unhealthy_none_only_reports() -> TestResult {
    let (layout, _) = layout("on-unhealthy = \"none\"")?;
    let phoenix = start(layout)?;
    wait_for_health(&phoenix, "healthy")?;
    phoenix.touch("fail")?;
    wait_for_health(&phoenix, "unhealthy")?;
    std::fs::remove_file(phoenix.path("fail"))?;
    wait_for_health(&phoenix, "healthy")?;
    assert_eq!(
        phoenix.lines("server.pids").len(),
        1,
        "{}",
        phoenix.context()
    );
    let api = service_json(&phoenix, "api")?;
    assert_eq!(api["restarts"], 0, "{api}");
    Ok(())
}

#[test]
fn a_slow_but_successful_probe_is_degraded() -> TestResult {
    let (layout, _) = layout("degraded-after = \"500ms\"")?;
    let phoenix = start(layout)?;
    wait_for_health(&phoenix, "healthy")?;
    phoenix.touch("slow")?;
    wait_for_health(&phoenix, "degraded")?;
    std::fs::remove_file(phoenix.path("slow"))?;
    wait_for_health(&phoenix, "healthy")?;
    let events = health_events(&phoenix)?;
    assert!(
        events.iter().any(|(from, to, reason)| from == "healthy"
            && to == "degraded"
            && reason.starts_with("probe took")),
        "{events:?}"
    );
    Ok(())
}

/// A probe that cannot even start is a failed probe with its reason, never an error of
/// Phoenix: the service runs on, reported unhealthy, and the probe is tried again.
#[test]
fn an_exec_probe_whose_program_does_not_exist_is_a_failed_probe() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit(
        "api",
        r#"command = "echo $$ >> api.pids; exec sleep 1000"
[health]
check = "exec"
command = ["/nonexistent/probe"]
interval = "50ms"
failure-threshold = 2
on-unhealthy = "none"
"#,
    )?;
    let phoenix = start(layout)?;
    phoenix.wait_for_log("api: unknown → unhealthy (2 probe(s) failed: ")?;
    let events = health_events(&phoenix)?;
    let (_, to, reason) = events.first().ok_or("no health event")?;
    assert_eq!(to, "unhealthy", "{events:?}");
    assert!(
        reason.contains("/nonexistent/probe") && reason.contains("No such file or directory"),
        "{events:?}"
    );
    let api = service_json(&phoenix, "api")?;
    assert_eq!(
        (&api["state"], &api["restarts"]),
        (&"running".into(), &0.into()),
        "{api}"
    );
    assert_eq!(phoenix.lines("api.pids").len(), 1, "{}", phoenix.context());
    let stderr = phoenix.stderr();
    assert!(
        !stderr.contains("error"),
        "Phoenix reported an error of its own{}",
        phoenix.context()
    );
    Ok(())
}
