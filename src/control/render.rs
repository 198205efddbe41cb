//! What `phoenixctl status` and `incidents` print: the table of every service (with a note
//! under it for each one recovering or left in another mode), the vertical view of one with
//! its death tally, the table of incidents and the vertical view of each with its steps, and
//! short human durations ("3s", "2m5s", "1h2m"). Pure: records in, text out; the exact text
//! is pinned by the tests below.

use std::time::Duration;

use super::protocol::{DeathRecord, IncidentRecord, LogRecord, ServiceStatus, StepRecord};

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
            text.push_str(&render_last_lines(deaths));
        }
    }
    text
}

/// The last lines written before each death that has them, indented under the death.
fn render_last_lines(deaths: &[DeathRecord]) -> String {
    let mut text = String::new();
    for death in deaths.iter().filter(|death| !death.last_lines.is_empty()) {
        text.push_str(&format!(
            "last lines before the death {} ago ({}):\n",
            millis(death.ago_ms),
            death.status
        ));
        for line in &death.last_lines {
            text.push_str(&format!("  | {}\n", printable_line(line)));
        }
    }
    text
}

/// One captured line for `phoenixctl logs`: its time (when known), stream and text.
pub fn render_log_line(record: &LogRecord) -> String {
    let line = printable_line(&record.line);
    if record.time.is_empty() {
        format!("{:<6} {line}\n", record.stream)
    } else {
        format!("{} {:<6} {line}\n", record.time, record.stream)
    }
}

/// A service's line with its control characters but tabs shown as `?`.
fn printable_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() && c != '\t' { '?' } else { c })
        .collect()
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
mod tests;
