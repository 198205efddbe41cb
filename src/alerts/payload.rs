//! What an alert looks like on the wire: Phoenix's JSON object (the `exec` hook's stdin,
//! a `json` webhook's body) and the Alertmanager API v2 array. Pure: the wall-clock time
//! is given, already formatted as RFC 3339.

use serde_json::{Map, Value, json};

use super::{Alert, Firing, Kind};

/// Phoenix's own JSON object for `alert`, seen at `time`.
pub fn json_body(alert: &Alert, time: &str) -> String {
    let mut object = Map::new();
    object.insert("level".into(), json!(alert.level.name()));
    object.insert("service".into(), json!(alert.service));
    object.insert("kind".into(), json!(alert.kind.name()));
    object.insert("summary".into(), json!(alert.summary));
    object.insert("time".into(), json!(time));
    object.insert("suppressed".into(), json!(alert.suppressed));
    if let Some(id) = alert.incident {
        object.insert("incident".into(), json!(id));
        object.insert("resolved".into(), json!(alert.resolved));
    }
    if let Some(recovered) = alert.time_to_recover {
        object.insert(
            "time_to_recover_seconds".into(),
            json!(recovered.as_secs_f64()),
        );
    }
    Value::Object(object).to_string()
}

/// The Alertmanager alert name of a kind: `PhoenixServiceFailed`, ….
pub fn alertname(kind: Kind) -> &'static str {
    match kind {
        Kind::Failed => "PhoenixServiceFailed",
        Kind::Escalated => "PhoenixServiceEscalated",
        Kind::CircuitOpen => "PhoenixCircuitOpen",
        Kind::RecoveryStep => "PhoenixRecoveryStep",
        Kind::Unhealthy => "PhoenixServiceUnhealthy",
        Kind::Hung => "PhoenixServiceHung",
        Kind::Recovered => "PhoenixServiceRecovered",
        Kind::DiskWarning => "PhoenixDiskWarning",
        Kind::DiskCritical => "PhoenixDiskCritical",
        Kind::CorruptFile => "PhoenixStateFileCorrupt",
        Kind::LogsDropped => "PhoenixLogLinesDropped",
    }
}

/// The labels that identify an alert to Alertmanager; a resolution must repeat them
/// exactly.
fn labels(kind: Kind, service: &str, incident: Option<u64>) -> Value {
    let mut labels = Map::new();
    labels.insert("alertname".into(), json!(alertname(kind)));
    labels.insert("service".into(), json!(service));
    labels.insert("severity".into(), json!(kind.level().name()));
    if let Some(id) = incident {
        labels.insert("incident".into(), json!(id.to_string()));
    }
    Value::Object(labels)
}

/// The Alertmanager API v2 body (`POST /api/v2/alerts`): one alert; a recovery, which is
/// over as it is said, has `endsAt` too.
pub fn alertmanager_body(alert: &Alert, time: &str) -> String {
    let mut entry = Map::new();
    entry.insert(
        "labels".into(),
        labels(alert.kind, &alert.service, alert.incident),
    );
    entry.insert(
        "annotations".into(),
        json!({"summary": alert.summary, "suppressed": alert.suppressed.to_string()}),
    );
    entry.insert("startsAt".into(), json!(time));
    if alert.resolved {
        entry.insert("endsAt".into(), json!(time));
    }
    Value::Array(vec![Value::Object(entry)]).to_string()
}

/// The body that resolves alerts sent earlier: each with the labels it fired with, its
/// start (`started`, one time per alert) and `endsAt` at `time`.
pub fn alertmanager_resolution(firing: &[Firing], started: &[String], time: &str) -> String {
    let entries = firing
        .iter()
        .zip(started)
        .map(|(alert, started)| {
            json!({
                "labels": labels(alert.kind, &alert.service, alert.incident),
                "annotations": {"summary": alert.summary},
                "startsAt": started,
                "endsAt": time,
            })
        })
        .collect();
    Value::Array(entries).to_string()
}
