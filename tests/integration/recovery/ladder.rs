//! The seed's scenarios, one service each: a crash a restart fixes, a service that only
//! runs in safe mode, a bad config file and a bad unit rolled back, a wedged dependency
//! restarted, corrupted data restored by a hook, a service nothing fixes; incidents that
//! survive a restart of Phoenix, and `heal`.

use nix::sys::signal::Signal;

use super::{incidents, pairs, steps, wait_for_incident, wait_for_incident_after};
use crate::control::ctl::{daemon, phoenixctl, service_json, start};
use crate::harness::TestResult;
use crate::services::setup::ServicesDir;

/// Quick budgets so the ladder is reached in a few hundred milliseconds.
const QUICK: &str = r#"
[restart]
delay = "50ms"
min-uptime = "100ms"
max-failures = 2
window = "1m"
"#;

#[test]
fn a_crash_that_a_quick_restart_fixes_is_recovered_at_step_0() -> TestResult {
    let layout = ServicesDir::new()?;
    let unit = daemon(
        "web",
        "[recovery]\nverify = \"300ms\"\n[restart]\nmin-uptime = \"100ms\"",
    );
    layout.unit("web", &unit)?;
    let phoenix = start(layout)?;
    phoenix.wait_for_lines("web.pids", 1)?;
    phoenix.wait_for_log("web: keeping a last-known-good")?;
    phoenix.touch("web.crash")?;
    let incident = wait_for_incident(&phoenix, "web", "recovered")?;
    assert_eq!(incident["detected_by"], "exit", "{incident}");
    assert_eq!(incident["time_to_detect_ms"], 0, "{incident}");
    assert!(incident["time_to_recover_ms"].is_u64(), "{incident}");
    assert_eq!(pairs(&steps(&incident)), [("restart", "verified")]);
    assert_eq!(phoenix.lines("web.pids").len(), 2);
    Ok(())
}

#[test]
fn a_service_that_only_works_in_safe_mode_runs_in_safe_mode_until_reset() -> TestResult {
    let layout = ServicesDir::new()?;
    let unit = format!(
        r#"command = '''
if [ "$WEB_SAFE_MODE" = 1 ] || [ -e fixed ]; then echo "${{WEB_SAFE_MODE:-normal}}" >> modes; exec sleep 1000; fi
echo broken >> modes; exit 1
'''
[recovery]
steps = ["safe-mode"]
verify = "300ms"
safe-mode = {{ environment = {{ WEB_SAFE_MODE = "1" }} }}
{QUICK}"#
    );
    layout.unit("web", &unit)?;
    let phoenix = start(layout)?;
    let incident = wait_for_incident(&phoenix, "web", "recovered")?;
    assert_eq!(
        pairs(&steps(&incident)).last(),
        Some(&("safe-mode", "verified"))
    );
    let web = service_json(&phoenix, "web")?;
    assert_eq!(web["state"], "running", "{web}");
    assert_eq!(web["mode"], "safe mode", "{web}");
    assert_eq!(phoenix.lines("modes").last().map(String::as_str), Some("1"));
    // Fixed, and reset: back to the normal command.
    phoenix.touch("fixed")?;
    phoenixctl(&phoenix, &["reset", "web"])?.ok()?;
    phoenix.eventually("web runs its normal command", || {
        phoenix.lines("modes").last().map(String::as_str) == Some("normal")
    })?;
    phoenix.eventually("status no longer says safe mode", || {
        service_json(&phoenix, "web").is_ok_and(|web| web["mode"].is_null())
    })?;
    Ok(())
}

#[test]
fn a_bad_config_file_is_rolled_back_from_the_snapshot() -> TestResult {
    let layout = ServicesDir::new()?;
    let config = layout.path("web.conf");
    std::fs::write(&config, "good\n")?;
    let unit = format!(
        r#"command = '''
[ "$(cat web.conf)" = good ] || exit 2
echo up >> ups
while [ "$(cat web.conf)" = good ]; do sleep 0.05; done
exit 1
'''
[recovery]
steps = ["rollback"]
verify = "300ms"
rollback-files = [{config:?}]
{QUICK}"#
    );
    layout.unit("web", &unit)?;
    let phoenix = start(layout)?;
    phoenix.wait_for_log("web: keeping a last-known-good")?;
    // The log line is the core's decision; the snapshot is complete once its manifest,
    // written last, is there.
    phoenix.wait_for_file("state/known-good/web/manifest.json")?;
    std::fs::write(&config, "bad\n")?;
    phoenix.signal(Signal::SIGHUP)?;
    let incident = wait_for_incident(&phoenix, "web", "recovered")?;
    assert_eq!(
        pairs(&steps(&incident)).last(),
        Some(&("rollback", "verified")),
        "{incident}"
    );
    assert_eq!(std::fs::read_to_string(&config)?, "good\n");
    assert!(phoenix.lines("ups").len() >= 2);
    Ok(())
}

#[test]
fn a_bad_unit_change_is_rolled_back_to_the_last_known_good_definition() -> TestResult {
    let layout = ServicesDir::new()?;
    let unit = |version: &str, tail: &str| {
        format!(
            "command = \"echo {version} >> versions; {tail}\"\n[recovery]\nsteps = [\"rollback\"]\nverify = \"300ms\"\n{QUICK}"
        )
    };
    layout.unit("web", &unit("v1", "exec sleep 1000"))?;
    let unit_file = layout.services().join("web.toml");
    let phoenix = start(layout)?;
    phoenix.wait_for_log("web: keeping a last-known-good")?;
    std::fs::write(&unit_file, unit("v2", "exit 1"))?;
    phoenix.signal(Signal::SIGHUP)?;
    let incident = wait_for_incident(&phoenix, "web", "recovered")?;
    assert_eq!(
        pairs(&steps(&incident)).last(),
        Some(&("rollback", "verified"))
    );
    let versions = phoenix.lines("versions");
    assert_eq!(versions.first().map(String::as_str), Some("v1"));
    assert!(versions.contains(&"v2".to_string()), "{versions:?}");
    assert_eq!(
        versions.last().map(String::as_str),
        Some("v1"),
        "{versions:?}"
    );
    let web = service_json(&phoenix, "web")?;
    assert!(
        web["mode"]
            .as_str()
            .is_some_and(|m| m.contains("rolled back")),
        "{web}"
    );
    assert!(
        std::fs::read_to_string(&unit_file)?.contains("v2"),
        "the file on disk is left as it is"
    );
    Ok(())
}

#[test]
fn a_wedged_dependency_is_restarted_and_the_service_recovers() -> TestResult {
    let layout = ServicesDir::new()?;
    // db is wedged on its first run only; web cannot work against a wedged db.
    layout.unit(
        "db",
        r#"command = "echo $$ >> db.pids; if [ -e db.once ]; then echo fresh > db.state; else touch db.once; echo wedged > db.state; fi; exec sleep 1000""#,
    )?;
    let web = format!(
        "command = '[ \"$(cat db.state)\" = fresh ] || exit 1; exec sleep 1000'\nrequires = [\"db\"]\n[recovery]\nsteps = [\"restart-dependencies\"]\nverify = \"300ms\"\n{QUICK}"
    );
    layout.unit("web", &web)?;
    let phoenix = start(layout)?;
    let incident = wait_for_incident(&phoenix, "web", "recovered")?;
    assert_eq!(
        pairs(&steps(&incident)).last(),
        Some(&("restart-dependencies", "verified")),
        "{incident}"
    );
    assert_eq!(phoenix.lines("db.pids").len(), 2, "db was restarted once");
    assert_eq!(phoenix.read("db.state").trim(), "fresh");
    Ok(())
}

#[test]
fn corrupted_data_is_restored_by_the_hook_with_its_environment() -> TestResult {
    let layout = ServicesDir::new()?;
    let unit = format!(
        r#"command = "[ -e data/ok ] || exit 1; exec sleep 1000"
[recovery]
steps = ["restore"]
verify = "300ms"
restore = ["/bin/sh", "-c", "echo \"$PHOENIX_SERVICE $PHOENIX_INCIDENT $PHOENIX_STEP\" > restore.env; mkdir -p data; touch data/ok"]
restore-timeout = "10s"
{QUICK}"#
    );
    layout.unit("web", &unit)?;
    let phoenix = start(layout)?;
    let incident = wait_for_incident(&phoenix, "web", "recovered")?;
    assert_eq!(
        pairs(&steps(&incident)).last(),
        Some(&("restore", "verified"))
    );
    let id = incident["id"].as_u64().ok_or("no id")?;
    assert_eq!(
        phoenix.read("restore.env").trim(),
        format!("web {id} restore")
    );
    Ok(())
}

#[test]
fn a_service_nothing_fixes_tries_every_step_in_order_then_escalates() -> TestResult {
    let layout = ServicesDir::new()?;
    let unit = format!(
        r#"command = "echo try >> tries; exit 3"
[recovery]
steps = ["safe-mode", "rollback", "restore"]
verify = "300ms"
safe-mode = {{ command = "echo safe >> tries; exit 3" }}
restore = "echo restored >> hooks"
{QUICK}on-exhausted = "escalate"
"#
    );
    layout.unit("web", &unit)?;
    let mut phoenix = layout.start(&[])?;
    let code = phoenix.wait_exit(crate::harness::DEADLINE)?;
    assert_eq!(code, 3, "escalation ends the run with the service's status");
    assert_eq!(phoenix.lines("hooks"), ["restored"]);
    let lines = std::fs::read_to_string(phoenix.path("state/incidents.jsonl"))?;
    let last: serde_json::Value = serde_json::from_str(lines.lines().last().ok_or("empty")?)?;
    assert_eq!(last["outcome"], "escalated", "{last}");
    assert_eq!(
        pairs(&steps(&last)),
        [
            ("restart", "failed"),
            ("safe-mode", "failed"),
            ("rollback", "skipped"),
            ("restore", "failed"),
        ],
        "{last}"
    );
    Ok(())
}

#[test]
fn incidents_survive_a_restart_of_phoenix_and_heal_climbs_one_step() -> TestResult {
    let state = tempfile::tempdir()?;
    let unit = daemon(
        "web",
        "[recovery]\nsteps = [\"safe-mode\"]\nverify = \"300ms\"\nsafe-mode = { environment = { SAFE = \"1\" } }\n[restart]\nmin-uptime = \"100ms\"",
    );
    let layout = ServicesDir::with_state_dir(state.path())?;
    layout.unit("web", &unit)?;
    let mut first = start(layout)?;
    first.wait_for_lines("web.pids", 1)?;
    first.touch("web.crash")?;
    let recovered = wait_for_incident(&first, "web", "recovered")?;
    first.signal(Signal::SIGTERM)?;
    first.wait_exit(crate::harness::DEADLINE)?;

    let layout = ServicesDir::with_state_dir(state.path())?;
    layout.unit("web", &unit)?;
    let second = start(layout)?;
    let kept = incidents(&second, "web")?;
    assert_eq!(
        kept.first(),
        Some(&recovered),
        "the first run's incident is still there"
    );
    second.wait_for_lines("web.pids", 1)?;
    let heal = phoenixctl(&second, &["heal", "web"])?.ok()?;
    assert!(heal.stdout.contains("safe-mode"), "{heal:?}");
    let first_id = recovered["id"].as_u64().ok_or("no id")?;
    let incident = wait_for_incident_after(&second, "web", "recovered", first_id)?;
    assert_eq!(incident["detected_by"], "request");
    assert!(
        incident["id"].as_u64() > recovered["id"].as_u64(),
        "ids go on from the last run"
    );
    assert_eq!(pairs(&steps(&incident)), [("safe-mode", "verified")]);
    let web = service_json(&second, "web")?;
    assert_eq!(web["mode"], "safe mode", "{web}");
    Ok(())
}
