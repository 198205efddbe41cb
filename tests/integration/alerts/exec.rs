//! The `[alerts] exec` channel: a hook script that appends what it was given (its stdin,
//! then its environment) as one line to `alerts.log`.

use serde_json::Value;

use crate::control::ctl::{phoenixctl, wait_for_state};
use crate::harness::{Phoenix, TestResult};
use crate::services::setup::ServicesDir;

/// A service that fails for good at its first failure.
const DOOMED: &str = r#"command = "echo x >> starts; exit 1"
[restart]
delay = "50ms"
max-failures = 1
on-exhausted = "stop"
"#;

/// Writes the hook and `phoenix.toml` pointing at it, with `extra` settings after.
fn alerting_layout(extra: &str) -> TestResult<ServicesDir> {
    let layout = ServicesDir::new()?;
    let log = layout.path("alerts.log");
    let hook = format!(
        "#!/bin/sh\nline=\"$(cat)|$PHOENIX_ALERT_LEVEL|$PHOENIX_ALERT_SERVICE|$PHOENIX_ALERT_KIND|$PHOENIX_ALERT_SUMMARY\"\necho \"$line\" >> {:?}\n",
        log.display()
    );
    layout.file("hook", &hook, 0o755)?;
    let hook = layout.path("hook");
    layout.settings(&format!("[alerts]\nexec = [{:?}]\n{extra}", hook.display()))?;
    Ok(layout)
}

/// Each line of `alerts.log`: the JSON, then the environment's values.
fn alerts(phoenix: &Phoenix) -> TestResult<Vec<(Value, Vec<String>)>> {
    let mut found = Vec::new();
    for line in phoenix.lines("alerts.log") {
        let mut fields = line.split('|');
        let json = serde_json::from_str(fields.next().unwrap_or_default())?;
        found.push((json, fields.map(str::to_string).collect()));
    }
    Ok(found)
}

#[test]
fn the_exec_hook_gets_the_json_on_stdin_and_the_environment() -> TestResult {
    let layout = alerting_layout("")?;
    layout.unit("doomed", DOOMED)?;
    let phoenix = layout.start(&[])?;
    phoenix.wait_for_lines("alerts.log", 1)?;
    let found = alerts(&phoenix)?;
    let (json, environment) = &found[0];
    let context = phoenix.context();
    assert_eq!(json["level"], "critical", "{json}{context}");
    assert_eq!(json["service"], "doomed", "{json}");
    assert_eq!(json["kind"], "failed", "{json}");
    assert_eq!(json["suppressed"], 0, "{json}");
    assert!(
        json["time"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{json}"
    );
    let summary = json["summary"].as_str().unwrap_or_default();
    assert!(summary.starts_with("doomed: failed"), "{json}");
    assert_eq!(
        environment,
        &["critical", "doomed", "failed", summary],
        "{context}"
    );
    assert!(
        !phoenix.stderr().contains("orphan"),
        "the hook's exit is no orphan{context}"
    );
    Ok(())
}

#[test]
fn a_cooldown_suppresses_a_repeat_and_the_next_alert_counts_it() -> TestResult {
    let layout = alerting_layout("[alerts.critical]\ncooldown = \"3s\"\n")?;
    layout.unit("doomed", DOOMED)?;
    let phoenix = layout.start(&[])?;
    phoenix.wait_for_lines("alerts.log", 1)?;
    wait_for_state(&phoenix, "doomed", "failed")?;
    phoenixctl(&phoenix, &["start", "doomed"])?.ok()?;
    phoenix.wait_for_lines("starts", 2)?;
    wait_for_state(&phoenix, "doomed", "failed")?;
    let context = phoenix.context();
    assert_eq!(
        phoenix.lines("alerts.log").len(),
        1,
        "the repeat within the cooldown was sent{context}"
    );
    // Past the cooldown the next failure is sent, counting the one held back.
    phoenix.eventually("a second alert after the cooldown", || {
        if phoenix.lines("alerts.log").len() >= 2 {
            return true;
        }
        if crate::control::ctl::state_of(&phoenix, "doomed").as_deref() == Some("failed") {
            let _ = phoenixctl(&phoenix, &["start", "doomed"]);
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        false
    })?;
    let found = alerts(&phoenix)?;
    let (json, _) = &found[1];
    let suppressed = json["suppressed"].as_u64().unwrap_or_default();
    assert!(suppressed >= 1, "{json}{}", phoenix.context());
    Ok(())
}

#[test]
fn an_incident_that_closes_recovered_sends_an_info_alert() -> TestResult {
    let layout = alerting_layout("")?;
    layout.unit(
        "flaky",
        r#"command = "[ -e crashed ] && exec sleep 1000; touch crashed; exit 1"
[restart]
delay = "50ms"
[recovery]
verify = "300ms"
"#,
    )?;
    let phoenix = layout.start(&[])?;
    phoenix.wait_for_lines("alerts.log", 1)?;
    let found = alerts(&phoenix)?;
    let (json, environment) = &found[0];
    let context = phoenix.context();
    assert_eq!(json["kind"], "recovered", "{json}{context}");
    assert_eq!(json["level"], "info", "{json}");
    assert_eq!(json["resolved"], true, "{json}");
    assert!(json["incident"].as_u64().is_some(), "{json}");
    assert_eq!(environment[0], "info", "{context}");
    Ok(())
}
