//! What `phoenixctl status` prints: the table of every service, the vertical view of one
//! with its death tally, and short human durations ("3s", "2m5s", "1h2m"). Pure: statuses
//! in, text out; the exact text is pinned by the tests below.

use std::time::Duration;

use super::protocol::{DeathRecord, ServiceStatus};

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

/// Every service, one line each, under a header.
pub fn render_status_table(services: &[ServiceStatus]) -> String {
    let mut rows = vec![TABLE_HEADER.map(String::from).to_vec()];
    rows.extend(services.iter().map(|service| {
        vec![
            service.name.clone(),
            service.state.clone(),
            optional(service.health.clone()),
            optional(service.pid.map(|pid| pid.to_string())),
            optional(service.uptime_ms.map(millis)),
            service.restarts.to_string(),
            optional(service.last_exit.clone()),
            optional(service.next_attempt_ms.map(millis)),
            service.circuit.clone(),
        ]
    }));
    render_columns(&rows, "")
}

/// One service, one field a line, then its recent deaths, oldest first.
pub fn render_service(service: &ServiceStatus) -> String {
    let failures = match service.failures_in_window {
        0 => String::new(),
        1 => " (1 failure in the window)".to_string(),
        count => format!(" ({count} failures in the window)"),
    };
    let fields = [
        ("name", service.name.clone()),
        ("description", optional(service.description.clone())),
        ("state", service.state.clone()),
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
    for (label, value) in fields {
        text.push_str(&field_line(label, &value));
    }
    match service.deaths.as_deref() {
        None | Some([]) => text.push_str(&field_line("deaths", "none")),
        Some(deaths) => {
            text.push_str("deaths (oldest first):\n");
            text.push_str(&render_deaths(deaths));
        }
    }
    text
}

fn field_line(label: &str, value: &str) -> String {
    format!("{:<14}{value}\n", format!("{label}:"))
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

/// A service's own text (`STATUS=`) without the control characters that could rewrite
/// the operator's terminal.
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
    use crate::control::fake_server::status_of as service;

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
}
