//! What `phoenixctl status` and `incidents` print: the table of every service (with a note
//! under it for each one recovering or left in another mode), the vertical view of one with
//! its death tally, the table of incidents and the vertical view of each with its steps, and
//! short human durations ("3s", "2m5s", "1h2m"). Pure: records in, text out; the exact text
//! is pinned by the tests below.

use std::time::Duration;

use super::protocol::{DeathRecord, IncidentRecord, ServiceStatus, StepRecord};

/// Shown in place of a value the server left out.
const ABSENT: &str = "—";

const TABLE_HEADER: [&str; 9] = [
    "NAME",
    "STATE",
    "HEALTH",
    "PID",
    "UPTIME",
    "RESTARTS",
    "LAST-EXIT",
    "NEXT",
    "CIRCUIT",
];

const DEATH_HEADER: [&str; 5] = ["AGO", "STATUS", "UPTIME", "VERDICT", "REASON"];

const INCIDENT_HEADER: [&str; 8] = [
    "ID", "SERVICE", "OPENED", "DETECTED", "TTD", "STEPS", "TTR", "OUTCOME",
];

const STEP_HEADER: [&str; 4] = ["STEP", "STARTED", "OUTCOME", "DETAIL"];

/// An incident's outcome while it has none yet.
const OPEN: &str = "open";

/// Marks a service's state in the table when a note under the table says more.
const NOTE_MARK: &str = "*";

/// Label widths of the vertical views, colon included, so the values line up.
const SERVICE_LABEL_WIDTH: usize = 14;
const INCIDENT_LABEL_WIDTH: usize = 17;

/// A duration to the two largest units, as an operator reads it: "250ms", "3s", "2m5s",
/// "1h2m", "3d4h". Seconds are dropped past an hour: nobody restarts by the second there.
pub fn format_short_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    let (major, major_unit, minor, minor_unit) = match seconds {
        0 => return format!("{}ms", duration.as_millis()),
        1..60 => return format!("{seconds}s"),
        60..3600 => (seconds / 60, "m", seconds % 60, "s"),
        3600..86400 => (seconds / 3600, "h", seconds % 3600 / 60, "m"),
        _ => (seconds / 86400, "d", seconds % 86400 / 3600, "h"),
    };
    if minor == 0 {
        format!("{major}{major_unit}")
    } else {
        format!("{major}{major_unit}{minor}{minor_unit}")
    }
}

/// Every service, one line each, under a header; a service on its recovery ladder or left
/// in another mode has its state marked and a note under the table, so the cells stay one
/// word each for whoever splits the lines on blanks.
pub fn render_status_table(services: &[ServiceStatus]) -> String {
    let mut rows = vec![TABLE_HEADER.map(String::from).to_vec()];
    rows.extend(services.iter().map(|service| {
        let mark = if recovery_note(service).is_some() {
            NOTE_MARK
        } else {
            ""
        };
        vec![
            service.name.clone(),
            format!("{}{mark}", service.state),
            optional(service.health.clone()),
            optional(service.pid.map(|pid| pid.to_string())),
            optional(service.uptime_ms.map(millis)),
            service.restarts.to_string(),
            optional(service.last_exit.clone()),
            optional(service.next_attempt_ms.map(millis)),
            service.circuit.clone(),
        ]
    }));
    let mut text = render_columns(&rows, "");
    let notes: Vec<String> = services.iter().filter_map(recovery_note).collect();
    if !notes.is_empty() {
        text.push('\n');
    }
    for note in notes {
        text.push_str(&format!("{NOTE_MARK} {note}\n"));
    }
    text
}

/// "web  mode: safe mode; incident #7" for a service recovering or in another mode.
fn recovery_note(service: &ServiceStatus) -> Option<String> {
    if service.recovery.is_none() && service.mode.is_none() {
        return None;
    }
    let facts: Vec<String> = [
        service
            .recovery
            .as_ref()
            .map(|step| format!("recovery: {step}")),
        service.mode.as_ref().map(|mode| format!("mode: {mode}")),
        service.incident.map(|id| format!("incident #{id}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    Some(format!("{}  {}", service.name, facts.join("; ")))
}

/// One service, one field a line, then its recent deaths, oldest first.
pub fn render_service(service: &ServiceStatus) -> String {
    let failures = match service.failures_in_window {
        0 => String::new(),
        1 => " (1 failure in the window)".to_string(),
        count => format!(" ({count} failures in the window)"),
    };
    // Rare, so their lines appear only when they say something.
    let recovery = [
        ("recovery", service.recovery.clone()),
        ("mode", service.mode.clone()),
        ("incident", service.incident.map(|id| format!("#{id}"))),
    ]
    .into_iter()
    .filter_map(|(label, value)| Some((label, value?)));
    let head = [
        ("name", service.name.clone()),
        ("description", optional(service.description.clone())),
        ("state", service.state.clone()),
    ];
    let tail = [
        ("health", optional(service.health.clone())),
        (
            "status",
            optional(service.status_text.as_deref().map(printable)),
        ),
        ("pid", optional(service.pid.map(|pid| pid.to_string()))),
        ("uptime", optional(service.uptime_ms.map(millis))),
        ("restarts", service.restarts.to_string()),
        ("last exit", optional(service.last_exit.clone())),
        (
            "next attempt",
            optional(service.next_attempt_ms.map(millis)),
        ),
        ("circuit", format!("{}{failures}", service.circuit)),
    ];
    let mut text = String::new();
    for (label, value) in head.into_iter().chain(recovery).chain(tail) {
        text.push_str(&field_line(SERVICE_LABEL_WIDTH, label, &value));
    }
    match service.deaths.as_deref() {
        None | Some([]) => text.push_str(&field_line(SERVICE_LABEL_WIDTH, "deaths", "none")),
        Some(deaths) => {
            text.push_str("deaths (oldest first):\n");
            text.push_str(&render_deaths(deaths));
        }
    }
    text
}

fn field_line(width: usize, label: &str, value: &str) -> String {
    format!("{:<width$}{value}\n", format!("{label}:"))
}

fn render_deaths(deaths: &[DeathRecord]) -> String {
    let mut rows = vec![DEATH_HEADER.map(String::from).to_vec()];
    rows.extend(deaths.iter().map(|death| {
        vec![
            format!("{} ago", millis(death.ago_ms)),
            death.status.clone(),
            millis(death.uptime_ms),
            death.verdict.clone(),
            death.reason.clone(),
        ]
    }));
    render_columns(&rows, "  ")
}

/// Every incident, oldest first, one line each under a header; an open one says `open`
/// where a closed one has its outcome.
pub fn render_incident_table(incidents: &[IncidentRecord]) -> String {
    if incidents.is_empty() {
        return "no incidents\n".to_string();
    }
    let mut rows = vec![INCIDENT_HEADER.map(String::from).to_vec()];
    rows.extend(incidents.iter().map(|incident| {
        vec![
            incident.id.to_string(),
            incident.service.clone(),
            incident.opened.clone(),
            incident.detected_by.clone(),
            millis(incident.time_to_detect_ms),
            step_summary(&incident.steps),
            optional(incident.time_to_recover_ms.map(millis)),
            outcome(incident),
        ]
    }));
    render_columns(&rows, "")
}

/// Each incident, oldest first, one field a line and then every step tried, with a blank
/// line between incidents.
pub fn render_incidents(incidents: &[IncidentRecord]) -> String {
    if incidents.is_empty() {
        return "no incidents\n".to_string();
    }
    let views: Vec<String> = incidents.iter().map(render_incident).collect();
    views.join("\n")
}

fn render_incident(incident: &IncidentRecord) -> String {
    let fields = [
        ("incident", format!("#{}", incident.id)),
        ("service", incident.service.clone()),
        ("outcome", outcome(incident)),
        ("opened", incident.opened.clone()),
        ("detected by", incident.detected_by.clone()),
        ("reason", printable(&incident.reason)),
        ("time to detect", millis(incident.time_to_detect_ms)),
        ("closed", optional(incident.closed.clone())),
        (
            "time to recover",
            optional(incident.time_to_recover_ms.map(millis)),
        ),
    ];
    let mut text = String::new();
    for (label, value) in fields {
        text.push_str(&field_line(INCIDENT_LABEL_WIDTH, label, &value));
    }
    if incident.steps.is_empty() {
        text.push_str(&field_line(INCIDENT_LABEL_WIDTH, "steps", "none"));
    } else {
        text.push_str("steps (in order):\n");
        text.push_str(&render_steps(&incident.steps));
    }
    text
}

fn render_steps(steps: &[StepRecord]) -> String {
    let mut rows = vec![STEP_HEADER.map(String::from).to_vec()];
    rows.extend(steps.iter().map(|step| {
        vec![
            step.step.clone(),
            step.started.clone(),
            step.outcome.clone(),
            printable(&step.detail),
        ]
    }));
    render_columns(&rows, "  ")
}

/// "restart:failed safe-mode:verified": each step tried, in order, with its outcome.
fn step_summary(steps: &[StepRecord]) -> String {
    if steps.is_empty() {
        return ABSENT.to_string();
    }
    let summary: Vec<String> = steps
        .iter()
        .map(|step| format!("{}:{}", step.step, step.outcome))
        .collect();
    summary.join(" ")
}

fn outcome(incident: &IncidentRecord) -> String {
    incident.outcome.clone().unwrap_or_else(|| OPEN.to_string())
}

/// Left-aligned columns two spaces apart; the last column is not padded, so no line
/// carries trailing blanks.
fn render_columns(rows: &[Vec<String>], indent: &str) -> String {
    let mut widths: Vec<usize> = Vec::new();
    for row in rows {
        for (column, cell) in row.iter().enumerate() {
            let width = cell.chars().count();
            match widths.get_mut(column) {
                Some(widest) => *widest = (*widest).max(width),
                None => widths.push(width),
            }
        }
    }
    let mut text = String::new();
    for row in rows {
        let mut line = indent.to_string();
        for (column, cell) in row.iter().enumerate() {
            if column + 1 == row.len() {
                line.push_str(cell);
            } else {
                let width = widths.get(column).copied().unwrap_or(0);
                line.push_str(&format!("{cell:<width$}  "));
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

/// A service's own text (`STATUS=`, a failure reason, a step's detail) without the control
/// characters that could rewrite the operator's terminal.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

fn millis(ms: u64) -> String {
    format_short_duration(Duration::from_millis(ms))
}

fn optional(value: Option<String>) -> String {
    value.unwrap_or_else(|| ABSENT.to_string())
}

#[cfg(test)]
mod tests {
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
                },
                DeathRecord {
                    ago_ms: 125_000,
                    status: "killed by SIGKILL".to_string(),
                    uptime_ms: 3_600_000,
                    verdict: "failure".to_string(),
                    reason: "killed by SIGKILL".to_string(),
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
}
