//! Every `phoenixctl` verb against live services: status (table, JSON, one service with its
//! death tally), start/stop/restart with and without `--wait`, signal, reload, shutdown,
//! and refusals for a service Phoenix does not know.

use std::fs;

use super::ctl::{daemon, phoenixctl, service_json, start, status_json, wait_for_state};
use crate::harness::{DEADLINE, TestResult};
use crate::services::setup::ServicesDir;

#[test]
fn status_shows_every_service_as_a_table_and_as_json() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit("web", &daemon("web", r#"description = "demo web""#))?;
    layout.unit("idle", &daemon("idle", "enabled = false"))?;
    let phoenix = start(layout)?;
    wait_for_state(&phoenix, "web", "running")?;
    let pid = phoenix.wait_for_lines("web.pids", 1)?[0].clone();

    let table = phoenixctl(&phoenix, &["status"])?.ok()?.stdout;
    let lines: Vec<&str> = table.lines().collect();
    let header: Vec<&str> = lines
        .first()
        .ok_or("empty table")?
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        [
            "NAME",
            "STATE",
            "HEALTH",
            "PID",
            "UPTIME",
            "RESTARTS",
            "LAST-EXIT",
            "NEXT",
            "CIRCUIT"
        ]
    );
    let row = |name: &str| -> Vec<String> {
        lines
            .iter()
            .map(|line| {
                line.split_whitespace()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .find(|cells| cells.first().is_some_and(|cell| cell == name))
            .unwrap_or_default()
    };
    let web = row("web");
    assert_eq!(web.len(), 9, "{table}");
    assert_eq!(
        (web[1].as_str(), web[2].as_str(), web[3].as_str()),
        ("running", "—", pid.as_str()),
        "{table}"
    );
    assert_eq!(
        (web[5].as_str(), web[8].as_str()),
        ("0", "closed"),
        "{table}"
    );
    assert_eq!(
        row("idle").get(1).map(String::as_str),
        Some("down"),
        "{table}"
    );

    let services = status_json(&phoenix)?;
    let names: Vec<&str> = services.iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(names, ["idle", "web"]);
    let web = &services[1];
    assert_eq!(web["state"], "running");
    assert_eq!(web["pid"].as_i64().map(|pid| pid.to_string()), Some(pid));
    assert!(web["uptime_ms"].is_u64(), "{web}");
    assert_eq!(web["restarts"], 0);
    assert_eq!(web["circuit"], "closed");
    assert_eq!(web["failures_in_window"], 0);
    assert_eq!(web["description"], "demo web");
    assert!(
        web["last_exit"].is_null() && web["next_attempt_ms"].is_null(),
        "{web}"
    );
    let idle = &services[0];
    assert_eq!(idle["state"], "down");
    assert!(
        idle["pid"].is_null() && idle["uptime_ms"].is_null(),
        "{idle}"
    );
    Ok(())
}

#[test]
fn status_of_one_service_shows_its_death_tally_after_a_crash() -> TestResult {
    let layout = ServicesDir::new()?;
    let restart = "[restart]\nmin-uptime = \"1h\"\ndelay = \"100ms\"";
    layout.unit("web", &daemon("web", restart))?;
    let phoenix = start(layout)?;
    phoenix.wait_for_lines("web.pids", 1)?;
    phoenix.touch("web.crash")?;
    phoenix.wait_for_lines("web.pids", 2)?;
    wait_for_state(&phoenix, "web", "running")?;

    let view = phoenixctl(&phoenix, &["status", "web"])?.ok()?.stdout;
    assert!(view.contains("deaths (oldest first):"), "{view}");
    let death = view
        .lines()
        .find(|line| line.contains(" ago ") && line.contains("exit 3"))
        .ok_or_else(|| format!("no death with exit 3 in:\n{view}"))?;
    assert!(death.contains("failure"), "{view}");

    let web = service_json(&phoenix, "web")?;
    assert_eq!(web["restarts"], 1, "{web}");
    assert_eq!(web["last_exit"], "exit 3", "{web}");
    assert_eq!(web["failures_in_window"], 1, "{web}");
    let deaths = web["deaths"].as_array().ok_or("no deaths array")?;
    assert_eq!(deaths.len(), 1, "{web}");
    assert_eq!(deaths[0]["status"], "exit 3");
    assert_eq!(deaths[0]["verdict"], "failure");
    Ok(())
}

#[test]
fn start_restart_and_stop_wait_for_their_state() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit("web", &daemon("web", "enabled = false"))?;
    let phoenix = start(layout)?;
    let wait = ["--wait", "--timeout", "10s"];

    phoenixctl(&phoenix, &[&["start", "web"][..], &wait].concat())?.ok()?;
    let web = service_json(&phoenix, "web")?;
    assert_eq!(web["state"], "running", "{web}");
    let pids = phoenix.wait_for_lines("web.pids", 1)?;
    assert_eq!(
        web["pid"].as_i64().map(|pid| pid.to_string()),
        Some(pids[0].clone())
    );

    phoenixctl(&phoenix, &[&["restart", "web"][..], &wait].concat())?.ok()?;
    let web = service_json(&phoenix, "web")?;
    assert_eq!(web["state"], "running", "{web}");
    let pids = phoenix.wait_for_lines("web.pids", 2)?;
    assert_eq!(
        phoenix.lines("web.stops").len(),
        1,
        "the first run was stopped"
    );
    assert_ne!(pids[0], pids[1]);
    assert_eq!(
        web["pid"].as_i64().map(|pid| pid.to_string()),
        Some(pids[1].clone())
    );

    phoenixctl(&phoenix, &[&["stop", "web"][..], &wait].concat())?.ok()?;
    let web = service_json(&phoenix, "web")?;
    assert_eq!(web["state"], "down", "{web}");
    assert!(web["pid"].is_null(), "{web}");
    assert_eq!(
        phoenix.lines("web.stops").len(),
        2,
        "the second run was stopped"
    );

    // Without --wait the command returns at once; the state follows.
    let started = phoenixctl(&phoenix, &["start", "web"])?.ok()?;
    assert!(started.stdout.contains("starting web"), "{started:?}");
    wait_for_state(&phoenix, "web", "running")?;
    phoenixctl(&phoenix, &["stop", "web"])?.ok()?;
    wait_for_state(&phoenix, "web", "down")?;
    Ok(())
}

#[test]
fn wait_with_too_short_a_timeout_exits_1() -> TestResult {
    let layout = ServicesDir::new()?;
    // Ignores SIGTERM, and the stop timeout is long: it stays `stopping`.
    layout.unit(
        "stubborn",
        "command = \"trap '' TERM; echo $$ > stubborn.pid; while :; do sleep 0.05; done\"\n\
         [stop]\ntimeout = \"1h\"\n",
    )?;
    let phoenix = start(layout)?;
    phoenix.wait_for_file("stubborn.pid")?;
    let outcome = phoenixctl(
        &phoenix,
        &["stop", "stubborn", "--wait", "--timeout", "300ms"],
    )?;
    let outcome = outcome.expect(1)?;
    assert!(outcome.stderr.contains("timed out"), "{outcome:?}");
    assert_eq!(service_json(&phoenix, "stubborn")?["state"], "stopping");
    Ok(())
}

#[test]
fn signal_reaches_the_service() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit("web", &daemon("web", ""))?;
    let phoenix = start(layout)?;
    phoenix.wait_for_lines("web.pids", 1)?;
    let sent = phoenixctl(&phoenix, &["signal", "web", "USR1"])?.ok()?;
    assert!(sent.stdout.contains("sent"), "{sent:?}");
    phoenix.wait_for_lines("web.signals", 1)?;
    phoenixctl(&phoenix, &["signal", "web", "SIGHUP"])?.ok()?;
    let signals = phoenix.wait_for_lines("web.signals", 2)?;
    assert_eq!(signals, ["USR1", "HUP"]);
    assert_eq!(
        phoenix.lines("web.pids").len(),
        1,
        "the service kept running"
    );
    wait_for_state(&phoenix, "web", "running")?;
    Ok(())
}

#[test]
fn reload_starts_a_unit_added_since() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit("web", &daemon("web", ""))?;
    let phoenix = start(layout)?;
    wait_for_state(&phoenix, "web", "running")?;
    let unit = phoenix.path("services.d").join("late.toml");
    fs::write(unit, daemon("late", ""))?;
    phoenixctl(&phoenix, &["reload"])?.ok()?;
    phoenix.wait_for_lines("late.pids", 1)?;
    wait_for_state(&phoenix, "late", "running")?;
    assert_eq!(phoenix.lines("web.pids").len(), 1, "web was left alone");
    Ok(())
}

#[test]
fn shutdown_stops_the_services_and_phoenix_exits_0() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit("web", &daemon("web", ""))?;
    let mut phoenix = start(layout)?;
    phoenix.wait_for_lines("web.pids", 1)?;
    let outcome = phoenixctl(&phoenix, &["shutdown"])?.ok()?;
    assert!(outcome.stdout.contains("shutting down"), "{outcome:?}");
    assert_eq!(phoenix.wait_exit(DEADLINE)?, 0);
    assert_eq!(phoenix.lines("web.stops"), ["stop"]);
    Ok(())
}

#[test]
fn commands_naming_an_unknown_service_are_refused() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit("web", &daemon("web", ""))?;
    let phoenix = start(layout)?;
    for args in [
        &["status", "nosuch"][..],
        &["start", "nosuch"],
        &["stop", "nosuch"],
        &["restart", "nosuch"],
        &["reset", "nosuch"],
        &["signal", "nosuch", "HUP"],
    ] {
        let outcome = phoenixctl(&phoenix, args)?.expect(1)?;
        assert!(
            outcome.stderr.contains("unknown service 'nosuch'"),
            "{args:?}: {outcome:?}"
        );
    }
    let outcome = phoenixctl(&phoenix, &["signal", "web", "NOSUCHSIG"])?.expect(1)?;
    assert!(!outcome.stderr.is_empty(), "{outcome:?}");
    assert_eq!(
        phoenixctl(&phoenix, &["frobnicate"])?.code,
        2,
        "usage error"
    );
    wait_for_state(&phoenix, "web", "running")?;
    Ok(())
}
