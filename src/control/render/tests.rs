//! Tests of `render.rs`.

use super::*;
use crate::control::fake_server::{incident_of, status_of as service, step_of};

fn web() -> ServiceStatus {
    ServiceStatus {
        pid: Some(4242),
        uptime_ms: Some(125_000),
        restarts: 3,
        last_exit: Some("exit 1".to_string()),
        failures_in_window: 2,
        description: Some("the web front end".to_string()),
        health: Some("healthy".to_string()),
        status_text: Some("serving\u{1b}[2J 3 clients".to_string()),
        ..service("web", "running")
    }
}

fn worker() -> ServiceStatus {
    ServiceStatus {
        restarts: 12,
        last_exit: Some("killed by SIGKILL".to_string()),
        next_attempt_ms: Some(3_400),
        circuit: "open".to_string(),
        ..service("worker", "cooldown")
    }
}

#[test]
fn durations() {
    for (millis, expected) in [
        (0, "0ms"),
        (250, "250ms"),
        (999, "999ms"),
        (1_000, "1s"),
        (3_400, "3s"),
        (59_999, "59s"),
        (60_000, "1m"),
        (125_000, "2m5s"),
        (3_599_000, "59m59s"),
        (3_600_000, "1h"),
        (3_725_000, "1h2m"),
        (86_399_000, "23h59m"),
        (86_400_000, "1d"),
        (100_000_000, "1d3h"),
    ] {
        assert_eq!(
            format_short_duration(Duration::from_millis(millis)),
            expected,
            "{millis}ms"
        );
    }
}

#[test]
fn status_table() {
    let table = render_status_table(&[web(), worker(), service("db", "down")]);
    assert_eq!(
        table,
        "\
NAME    STATE     HEALTH   PID   UPTIME  RESTARTS  LAST-EXIT          NEXT  CIRCUIT
web     running   healthy  4242  2m5s    3         exit 1             —     closed
worker  cooldown  —        —     —       12        killed by SIGKILL  3s    open
db      down      —        —     —       0         —                  —     closed
"
    );
}

#[test]
fn empty_status_table_is_just_the_header() {
    assert_eq!(
        render_status_table(&[]),
        "NAME  STATE  HEALTH  PID  UPTIME  RESTARTS  LAST-EXIT  NEXT  CIRCUIT\n"
    );
}

#[test]
fn single_service_with_its_deaths() {
    let service = ServiceStatus {
        deaths: Some(vec![
            DeathRecord {
                ago_ms: 3_725_000,
                status: "exit 1".to_string(),
                uptime_ms: 800,
                verdict: "failure".to_string(),
                reason: "exited 1 after 800ms, under min-uptime 1s".to_string(),
                last_lines: Vec::new(),
            },
            DeathRecord {
                ago_ms: 125_000,
                status: "killed by SIGKILL".to_string(),
                uptime_ms: 3_600_000,
                verdict: "failure".to_string(),
                reason: "killed by SIGKILL".to_string(),
                last_lines: vec!["panic: out of memory".to_string(), "\tat main".to_string()],
            },
        ]),
        ..web()
    };
    assert_eq!(
        render_service(&service),
        "\
name:         web
description:  the web front end
state:        running
health:       healthy
status:       serving?[2J 3 clients
pid:          4242
uptime:       2m5s
restarts:     3
last exit:    exit 1
next attempt: —
circuit:      closed (2 failures in the window)
deaths (oldest first):
  AGO       STATUS             UPTIME  VERDICT  REASON
  1h2m ago  exit 1             800ms   failure  exited 1 after 800ms, under min-uptime 1s
  2m5s ago  killed by SIGKILL  1h      failure  killed by SIGKILL
last lines before the death 2m5s ago (killed by SIGKILL):
  | panic: out of memory
  | \tat main
"
    );
}

#[test]
fn single_service_without_deaths() {
    let service = ServiceStatus {
        deaths: Some(Vec::new()),
        ..service("db", "down")
    };
    assert_eq!(
        render_service(&service),
        "\
name:         db
description:  —
state:        down
health:       —
status:       —
pid:          —
uptime:       —
restarts:     0
last exit:    —
next attempt: —
circuit:      closed
deaths:       none
"
    );
}

fn recovered() -> IncidentRecord {
    IncidentRecord {
        steps: vec![
            step_of(
                "restart",
                "2025-01-02T03:04:05.900Z",
                "failed",
                "exit 1 after 200ms",
            ),
            step_of(
                "safe-mode",
                "2025-01-02T03:04:17.300Z",
                "verified",
                "ready for 30s",
            ),
        ],
        closed: Some("2025-01-02T03:04:47.978Z".to_string()),
        time_to_recover_ms: Some(11_622),
        outcome: Some("recovered".to_string()),
        ..incident_of(3, "web")
    }
}

fn unhealthy() -> IncidentRecord {
    IncidentRecord {
        opened: "2025-01-02T04:00:00.000Z".to_string(),
        detected_by: "unhealthy".to_string(),
        reason: "3 probes failed\u{1b}[2J: exit 1".to_string(),
        time_to_detect_ms: 15_200,
        steps: vec![
            step_of("restart", "2025-01-02T04:00:00.100Z", "failed", "exit 1"),
            step_of("safe-mode", "2025-01-02T04:00:05.000Z", "trying", ""),
        ],
        ..incident_of(4, "worker")
    }
}

#[test]
fn status_table_notes_recovery_and_mode() {
    let services = [
        ServiceStatus {
            mode: Some("safe mode".to_string()),
            ..web()
        },
        ServiceStatus {
            recovery: Some("safe-mode (step 2 of 3), verifying".to_string()),
            incident: Some(4),
            ..service("worker", "starting")
        },
        ServiceStatus {
            incident: Some(5),
            ..service("db", "backoff")
        },
    ];
    assert_eq!(
        render_status_table(&services),
        "\
NAME    STATE      HEALTH   PID   UPTIME  RESTARTS  LAST-EXIT  NEXT  CIRCUIT
web     running*   healthy  4242  2m5s    3         exit 1     —     closed
worker  starting*  —        —     —       0         —          —     closed
db      backoff    —        —     —       0         —          —     closed

* web  mode: safe mode
* worker  recovery: safe-mode (step 2 of 3), verifying; incident #4
"
    );
}

#[test]
fn single_service_shows_recovery_mode_and_incident() {
    let service = ServiceStatus {
        recovery: Some("rollback (step 2 of 3), verifying".to_string()),
        mode: Some("rolled back to the last-known-good definition".to_string()),
        incident: Some(7),
        ..service("db", "running")
    };
    let view = render_service(&service);
    let lines: Vec<&str> = view.lines().collect();
    assert_eq!(
        lines.get(2..6),
        Some(
            &[
                "state:        running",
                "recovery:     rollback (step 2 of 3), verifying",
                "mode:         rolled back to the last-known-good definition",
                "incident:     #7",
            ][..]
        ),
        "{view}"
    );
}

#[test]
fn incident_table_oldest_first_with_the_open_one_marked() {
    assert_eq!(
        render_incident_table(&[recovered(), unhealthy(), incident_of(5, "db")]),
        "\
ID  SERVICE  OPENED                    DETECTED   TTD  STEPS                              TTR  OUTCOME
3   web      2025-01-02T03:04:05.678Z  exit       0ms  restart:failed safe-mode:verified  11s  recovered
4   worker   2025-01-02T04:00:00.000Z  unhealthy  15s  restart:failed safe-mode:trying    —    open
5   db       2025-01-02T03:04:05.678Z  exit       0ms  —                                  —    open
"
    );
}

#[test]
fn no_incidents_says_so() {
    assert_eq!(render_incident_table(&[]), "no incidents\n");
    assert_eq!(render_incidents(&[]), "no incidents\n");
}

#[test]
fn incidents_in_full_with_their_steps() {
    assert_eq!(
        render_incidents(&[recovered(), unhealthy(), incident_of(5, "db")]),
        "\
incident:        #3
service:         web
outcome:         recovered
opened:          2025-01-02T03:04:05.678Z
detected by:     exit
reason:          exit 1
time to detect:  0ms
closed:          2025-01-02T03:04:47.978Z
time to recover: 11s
steps (in order):
  STEP       STARTED                   OUTCOME   DETAIL
  restart    2025-01-02T03:04:05.900Z  failed    exit 1 after 200ms
  safe-mode  2025-01-02T03:04:17.300Z  verified  ready for 30s

incident:        #4
service:         worker
outcome:         open
opened:          2025-01-02T04:00:00.000Z
detected by:     unhealthy
reason:          3 probes failed?[2J: exit 1
time to detect:  15s
closed:          —
time to recover: —
steps (in order):
  STEP       STARTED                   OUTCOME  DETAIL
  restart    2025-01-02T04:00:00.100Z  failed   exit 1
  safe-mode  2025-01-02T04:00:05.000Z  trying

incident:        #5
service:         db
outcome:         open
opened:          2025-01-02T03:04:05.678Z
detected by:     exit
reason:          exit 1
time to detect:  0ms
closed:          —
time to recover: —
steps:           none
"
    );
}
