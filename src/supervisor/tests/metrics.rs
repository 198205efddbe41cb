//! `/metrics` rendered from a supervisor driven by the simulated shell: the numbers match
//! `status`, the text passes the real `promtool check metrics`, `docs/observability.md`
//! lists exactly the families rendered, and 1000 services render quickly.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::{Command, Stdio};

use super::*;
use crate::control::protocol::{Reply, Request};
use crate::service::TimerKind;

const WEB: &str = "command = \"web\"\n[stop]\nmode = \"process\"\n[health]\ncheck = \"tcp\"\naddress = \"127.0.0.1:1\"\ninterval = \"1s\"\nfailure-threshold = 2";
const DB: &str = "command = \"db\"\n[stop]\nmode = \"process\"";

fn fire(shell: &mut Shell, name: &str, kind: TimerKind) {
    let index = shell.supervisor.service(name).unwrap().index;
    let timer = kind.id(index);
    let deadline = shell.timers.remove(&timer).expect("the timer is armed");
    shell.now = shell.now.max(deadline);
    shell.send(Event::TimerFired { timer });
}

fn probe_answers(shell: &mut Shell, name: &str, outcome: crate::health::ProbeOutcome) {
    fire(shell, name, TimerKind::Probe);
    let index = shell.supervisor.service(name).unwrap().index;
    let probe = crate::service::probe_id(index);
    shell.probes.remove(&probe);
    shell.send(Event::ProbeFinished { probe, outcome });
}

/// web healthy after two probes; db crashed, restarted and verified good; web killed by a
/// signal and restarted; one orphan reaped.
fn populated() -> Shell {
    let mut shell = Shell::boot(&[("web", WEB), ("db", DB)]);
    probe_answers(&mut shell, "web", Ok(Duration::from_millis(20)));
    probe_answers(&mut shell, "web", Ok(Duration::from_millis(300)));
    shell.now += Duration::from_secs(10);
    shell.exit("db", ExitStatus::Code(1));
    shell.now += Duration::from_secs(2);
    fire(&mut shell, "db", TimerKind::Verify);
    shell.now += Duration::from_secs(10);
    shell.exit("web", ExitStatus::Signal(Signal::KILL));
    shell.send(Event::Exited {
        pid: 9999,
        status: ExitStatus::Code(0),
    });
    shell
}

fn scrape(shell: &mut Shell) -> String {
    shell.send(Event::HttpRequest {
        client: 1,
        path: "/metrics".into(),
    });
    crate::metrics::render(&shell.supervisor, shell.now)
}

/// `name{labels}` → value, for every sample line.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.rsplit_once(' '))
        .map(|(series, value)| (series.to_string(), value.parse().unwrap()))
        .collect()
}

fn type_names(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.split(' ').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn the_scrape_matches_the_status_after_a_crash_and_a_recovery() {
    let mut shell = populated();
    let text = scrape(&mut shell);
    let values = samples(&text);
    let Reply::Status { services } = send_request(&mut shell, Request::Status { name: None })
    else {
        panic!("not a status reply");
    };
    for status in &services {
        let name = &status.name;
        let restarts = values[&format!("phoenix_service_restarts_total{{service=\"{name}\"}}")];
        assert_eq!(restarts, f64::from(status.restarts), "{name}");
        let up = values[&format!("phoenix_service_up{{service=\"{name}\"}}")];
        assert_eq!(up, f64::from(u8::from(status.state == "running")), "{name}");
        let state = format!(
            "phoenix_service_state{{service=\"{name}\",state=\"{}\"}}",
            status.state
        );
        assert_eq!(values[&state], 1.0, "{state}");
    }
    let value = |series: &str| values.get(series).copied().unwrap_or(f64::NAN);
    assert_eq!(value("phoenix_service_restarts_total{service=\"db\"}"), 1.0);
    assert_eq!(
        value("phoenix_service_failures_total{service=\"db\",reason=\"exit\"}"),
        1.0
    );
    assert_eq!(
        value("phoenix_service_failures_total{service=\"web\",reason=\"signal\"}"),
        1.0
    );
    assert_eq!(
        value("phoenix_service_failures_total{service=\"web\",reason=\"exit\"}"),
        0.0
    );
    assert_eq!(
        value("phoenix_incidents_total{service=\"db\",outcome=\"recovered\"}"),
        1.0
    );
    assert_eq!(value("phoenix_service_incident_open{service=\"web\"}"), 1.0);
    let step = "phoenix_recovery_steps_total{service=\"db\",step=\"restart\",outcome=\"verified\"}";
    assert_eq!(value(step), 1.0);
    assert_eq!(value("phoenix_time_to_recover_seconds_count"), 1.0);
    assert_eq!(value("phoenix_time_to_detect_seconds_count"), 1.0);
    assert_eq!(value("phoenix_recovery_success_ratio"), 1.0);
    assert_eq!(value("phoenix_orphans_reaped_total"), 1.0);
    assert_eq!(
        value("phoenix_probe_duration_seconds_count{service=\"web\"}"),
        2.0
    );
    let fast = "phoenix_probe_duration_seconds_bucket{service=\"web\",le=\"0.025\"}";
    assert_eq!(value(fast), 1.0);
    assert_eq!(
        value("phoenix_service_health{service=\"web\",health=\"unknown\"}"),
        1.0
    );
    assert!(!text.contains("phoenix_service_health{service=\"db\""));
    // db runs since its restart: 30s of verify and the 10s before web's crash ago.
    assert_eq!(value("phoenix_service_state_seconds{service=\"db\"}"), 40.0);
    assert_eq!(value("phoenix_service_state_seconds{service=\"web\"}"), 0.0);
}

#[test]
fn the_core_answers_metrics_with_the_text_format() {
    let mut shell = Shell::boot(&[("db", DB)]);
    let actions = shell.supervisor.step(
        Event::HttpRequest {
            client: 3,
            path: "/metrics".into(),
        },
        shell.now,
    );
    let reply = actions.iter().find_map(|action| match action {
        Action::HttpReply {
            status,
            content_type,
            body,
            ..
        } => Some((*status, content_type.as_str(), body.as_str())),
        _ => None,
    });
    let (status, content_type, body) = reply.unwrap();
    assert_eq!(status, 200);
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    assert!(
        body.contains("phoenix_service_up{service=\"db\"} 1\n"),
        "{body}"
    );
}

#[test]
fn every_counter_ends_in_total_and_every_family_has_help() {
    let mut shell = populated();
    let text = scrape(&mut shell);
    for line in text.lines().filter_map(|line| line.strip_prefix("# TYPE ")) {
        let (name, kind) = line.split_once(' ').unwrap();
        assert_eq!(kind == "counter", name.ends_with("_total"), "{line}");
        assert!(text.contains(&format!("# HELP {name} ")), "{name}");
    }
}

/// Pipes `text` through the real `promtool check metrics` (Debian's `prometheus`,
/// installed by `.ci/run`): missing is a failure, not a skip.
#[track_caller]
fn promtool_check(text: &str) {
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(error) => panic!("promtool: {error}: install prometheus (.ci/run does)"),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "promtool: {said}\n{text}");
    assert!(said.trim().is_empty(), "promtool: {said}");
}

#[test]
fn promtool_accepts_the_scrape_with_the_process_block() {
    let mut shell = populated();
    let mut text = scrape(&mut shell);
    crate::event_loop::scrape::complete_reply(crate::metrics::CONTENT_TYPE, &mut text);
    promtool_check(&text);
}

#[test]
fn promtool_accepts_a_fresh_scrape_with_no_incident_yet() {
    let shell = Shell::boot(&[("web", WEB), ("db", DB)]);
    let text = crate::metrics::render(&shell.supervisor, shell.now);
    assert!(
        text.contains("\nphoenix_recovery_success_ratio NaN\n"),
        "{text}"
    );
    promtool_check(&text);
}

#[test]
fn the_observability_doc_lists_exactly_the_rendered_families() {
    let mut shell = populated();
    let mut text = scrape(&mut shell);
    text.push_str(&crate::metrics::render_process(
        &crate::metrics::ProcessStats {
            resident_memory_bytes: Some(1),
            virtual_memory_bytes: Some(1),
            cpu_seconds: Some(1.0),
            open_fds: Some(1),
            max_fds: Some(1),
            start_time_seconds: Some(1.0),
        },
    ));
    let rendered = type_names(&text);
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/observability.md"
    ))
    .unwrap();
    // Table rows: | `name` | type | labels | meaning |
    let mut documented = BTreeSet::new();
    for line in doc.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if let [_, name, kind, ..] = cells.as_slice() {
            if let Some(name) = name.strip_prefix('`').and_then(|n| n.strip_suffix('`')) {
                documented.insert(name.to_string());
                let rendered_kind = format!("# TYPE {name} {kind}\n");
                assert!(text.contains(&rendered_kind), "{name} is not a {kind}");
            }
        }
    }
    assert_eq!(documented, rendered);
}

#[test]
fn a_thousand_services_render_without_stalling_the_loop() {
    let texts: Vec<(String, String)> = (0..1000)
        .map(|i| {
            let unit = if i % 2 == 0 { WEB } else { DB };
            (format!("svc{i}"), unit.to_string())
        })
        .collect();
    let borrowed: Vec<(&str, &str)> = texts
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let shell = Shell::boot(&borrowed);
    let started = std::time::Instant::now();
    let text = crate::metrics::render(&shell.supervisor, shell.now);
    let took = started.elapsed();
    println!(
        "rendered 1000 services: {} bytes, {} lines in {took:?}",
        text.len(),
        text.lines().count()
    );
    assert_eq!(
        text.matches("phoenix_service_up{").count(),
        1000,
        "one up series per service"
    );
}

#[test]
fn an_unhealthy_restart_counts_as_unhealthy_not_as_the_signal_that_stopped_it() {
    let mut shell = Shell::boot(&[("web", WEB)]);
    probe_answers(&mut shell, "web", Ok(Duration::from_millis(5)));
    probe_answers(&mut shell, "web", Err("refused".into()));
    probe_answers(&mut shell, "web", Err("refused".into()));
    assert_eq!(shell.state("web"), State::Stopping);
    shell.die_on_signals();
    let values = samples(&crate::metrics::render(&shell.supervisor, shell.now));
    let failures = |reason: &str| {
        values[&format!("phoenix_service_failures_total{{service=\"web\",reason=\"{reason}\"}}")]
    };
    assert_eq!(failures("unhealthy"), 1.0);
    assert_eq!(failures("signal"), 0.0);
    // The failed probes took no measured time here, but they were counted.
    assert_eq!(
        values["phoenix_probe_duration_seconds_count{service=\"web\"}"],
        3.0
    );
    assert_eq!(
        values["phoenix_service_incident_open{service=\"web\"}"],
        1.0
    );
}

#[test]
fn exec_probe_latency_is_counted_from_its_start_to_its_exit() {
    let exec =
        "command = \"web\"\n[health]\ncheck = \"exec\"\ncommand = \"check\"\ninterval = \"1s\"";
    let mut shell = Shell::boot(&[("web", exec)]);
    fire(&mut shell, "web", TimerKind::Probe);
    let probe = shell.pid_of("web/probe").expect("the probe runs");
    shell.now += Duration::from_millis(40);
    shell.live.remove(&probe);
    shell.send(Event::Exited {
        pid: probe,
        status: ExitStatus::Code(0),
    });
    let values = samples(&crate::metrics::render(&shell.supervisor, shell.now));
    let bucket = |le: &str| {
        values[&format!("phoenix_probe_duration_seconds_bucket{{service=\"web\",le=\"{le}\"}}")]
    };
    assert_eq!(bucket("0.025"), 0.0);
    assert_eq!(bucket("0.05"), 1.0);
    assert_eq!(
        values["phoenix_orphans_reaped_total"], 0.0,
        "a probe is no orphan"
    );
}
