//! The incident store of the shell (DESIGN.md §4.4): every change of an incident appended
//! as one JSON line to `<state-dir>/incidents.jsonl` (rotated like the event log), and the
//! incidents themselves — the last line of each id — kept in memory, newest
//! [`MAX_INCIDENTS`], to answer `phoenixctl incidents` without reading the disk. At start it
//! closes what an earlier run left open. Without a state directory it works in memory
//! alone. Instants become wall-clock RFC 3339 stamps here; the core never sees a clock.

use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

use crate::clocks::{Clocks, millis};
use crate::control::event_log::format_rfc3339;
use crate::control::protocol::{IncidentRecord, Reply, StepRecord};
use crate::json_lines::JsonLines;
use crate::recovery::{Incident, Outcome, StepOutcome, StepTaken};

/// The live file's name inside the state directory; rotated files add `.1`, `.2`, ….
pub const FILE_NAME: &str = "incidents.jsonl";

/// Incidents kept in memory (and so shown); older ones stay in the files until rotated.
pub const MAX_INCIDENTS: usize = 1000;

/// An `incidents` reply holds the newest incidents that fit this, so that it stays within
/// the control server's per-client output bound.
const REPLY_BYTES: usize = 512 * 1024;

#[derive(Default)]
pub struct IncidentLog {
    file: Option<JsonLines<IncidentRecord>>,
    /// By id, which is also the order they opened in.
    incidents: BTreeMap<u64, IncidentRecord>,
    /// Names `incidents NAME` may ask about besides those in an incident.
    services: BTreeSet<String>,
    /// One past the highest id ever seen, kept or not.
    next_id: u64,
}

impl IncidentLog {
    /// The store of `file`, with what earlier runs recorded in it. An incident they left
    /// open cannot be followed any more: it is closed as failed at `now`, and that is
    /// recorded too. (A re-exec, which hands its open incidents over, is not such a start.)
    pub fn load(file: JsonLines<IncidentRecord>, now: SystemTime) -> IncidentLog {
        let mut log = IncidentLog {
            file: Some(file),
            ..IncidentLog::default()
        };
        let history = log
            .file
            .as_ref()
            .map(JsonLines::history)
            .unwrap_or_default();
        for record in history {
            log.fold(record);
        }
        let stale: Vec<IncidentRecord> = log
            .incidents
            .values()
            .filter(|record| record.outcome.is_none())
            .cloned()
            .collect();
        for record in stale {
            log::warn!(
                "{}: incident {} was still open when Phoenix last stopped; closed as failed",
                record.service,
                record.id
            );
            log.insert(close_as_failed(record, now));
        }
        log.trim();
        log
    }

    /// The id the next incident gets: one past the highest recorded, 1 on a first boot.
    pub fn next_id(&self) -> u64 {
        self.next_id.max(1)
    }

    /// Services that exist, so that asking about one with no incident is not an error.
    pub fn add_services(&mut self, names: impl IntoIterator<Item = String>) {
        self.services.extend(names);
    }

    /// An incident opened or changed: stamped with the wall clock, appended, kept.
    pub fn record(&mut self, incident: &Incident) {
        self.insert(to_record(incident, &Clocks::now()));
    }

    /// The reply to `incidents [NAME]`: oldest first, the newest that fit one reply.
    pub fn answer(&self, name: Option<&str>) -> Reply {
        if let Some(name) = name {
            let is_known = self.services.contains(name)
                || self.incidents.values().any(|record| record.service == name);
            if !is_known {
                return Reply::Error {
                    message: format!("no service named '{name}'"),
                };
            }
        }
        let mut budget = REPLY_BYTES;
        let mut newest: Vec<IncidentRecord> = self
            .incidents
            .values()
            .rev()
            .filter(|record| name.is_none_or(|name| record.service == name))
            .take_while(|record| {
                let size = serde_json::to_vec(record).map_or(0, |line| line.len() + 1);
                budget = budget.saturating_sub(size);
                budget > 0
            })
            .cloned()
            .collect();
        newest.reverse();
        Reply::Incidents { incidents: newest }
    }

    fn insert(&mut self, record: IncidentRecord) {
        if let Some(file) = &mut self.file {
            file.append(&record);
        }
        self.fold(record);
        self.trim();
    }

    /// The last record of an id is the incident.
    fn fold(&mut self, record: IncidentRecord) {
        self.next_id = self.next_id.max(record.id.saturating_add(1));
        self.incidents.insert(record.id, record);
    }

    fn trim(&mut self) {
        while self.incidents.len() > MAX_INCIDENTS {
            self.incidents.pop_first();
        }
    }
}

/// An incident left open by an earlier run, closed at `now`: the step it was on failed.
fn close_as_failed(mut record: IncidentRecord, now: SystemTime) -> IncidentRecord {
    for step in &mut record.steps {
        if step.outcome == StepOutcome::Trying.name() {
            step.outcome = StepOutcome::Failed.name().to_string();
        }
    }
    record.closed = Some(format_rfc3339(now));
    record.outcome = Some(Outcome::Failed.name().to_string());
    record
}

/// The record of `incident`, its instants read against `clocks`.
pub fn to_record(incident: &Incident, clocks: &Clocks) -> IncidentRecord {
    let stamp = |at| format_rfc3339(clocks.to_system_time(at));
    IncidentRecord {
        id: incident.id,
        service: incident.service.clone(),
        opened: stamp(incident.opened),
        detected_by: incident.detected_by.name().to_string(),
        reason: incident.reason.clone(),
        time_to_detect_ms: millis(incident.time_to_detect),
        steps: incident
            .steps
            .iter()
            .map(|step| step_record(step, clocks))
            .collect(),
        closed: incident.closed.map(stamp),
        time_to_recover_ms: incident.time_to_recover.map(millis),
        outcome: incident.outcome.map(|outcome| outcome.name().to_string()),
    }
}

fn step_record(step: &StepTaken, clocks: &Clocks) -> StepRecord {
    StepRecord {
        step: step.rung.name().to_string(),
        started: format_rfc3339(clocks.to_system_time(step.started)),
        outcome: step.outcome.name().to_string(),
        detail: step.detail.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::time::{Duration, Instant, UNIX_EPOCH};

    use crate::recovery::{Detection, Rung};

    fn record(id: u64, service: &str, outcome: Option<&str>) -> IncidentRecord {
        IncidentRecord {
            id,
            service: service.into(),
            opened: "2026-11-22T10:31:05.123Z".into(),
            detected_by: "exit".into(),
            reason: "exit 1".into(),
            time_to_detect_ms: 0,
            steps: vec![StepRecord {
                step: "restart".into(),
                started: "2026-11-22T10:31:05.123Z".into(),
                outcome: if outcome.is_some() {
                    "verified"
                } else {
                    "trying"
                }
                .into(),
                detail: String::new(),
            }],
            closed: outcome.map(|_| "2026-11-22T10:32:00.000Z".into()),
            time_to_recover_ms: None,
            outcome: outcome.map(String::from),
        }
    }

    fn file(path: &Path, max_bytes: u64) -> JsonLines<IncidentRecord> {
        JsonLines::new(path, max_bytes, 3)
    }

    fn ids(reply: &Reply) -> Vec<(u64, Option<String>)> {
        let Reply::Incidents { incidents } = reply else {
            panic!("not an incidents reply: {reply:?}");
        };
        incidents
            .iter()
            .map(|r| (r.id, r.outcome.clone()))
            .collect()
    }

    #[test]
    fn the_last_line_of_an_id_is_the_incident_and_incidents_come_in_id_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let mut writer = file(&path, 1 << 20);
        writer.append(&record(2, "web", None));
        writer.append(&record(1, "db", Some("recovered")));
        writer.append(&record(2, "web", Some("escalated")));
        let log = IncidentLog::load(file(&path, 1 << 20), SystemTime::now());
        assert_eq!(
            ids(&log.answer(None)),
            [(1, Some("recovered".into())), (2, Some("escalated".into()))]
        );
        assert_eq!(log.next_id(), 3);
    }

    #[test]
    fn an_incident_left_open_is_closed_as_failed_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        file(&path, 1 << 20).append(&record(4, "web", None));
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let log = IncidentLog::load(file(&path, 1 << 20), now);
        let Reply::Incidents { incidents } = log.answer(Some("web")) else {
            panic!()
        };
        let closed = &incidents[0];
        assert_eq!(closed.outcome.as_deref(), Some("failed"));
        assert_eq!(closed.closed, Some(format_rfc3339(now)));
        assert_eq!(closed.steps[0].outcome, "failed");
        assert_eq!(log.next_id(), 5);
        // The closing was appended: a second start finds nothing left open.
        assert_eq!(file(&path, 1 << 20).history().len(), 2);
        let again = IncidentLog::load(file(&path, 1 << 20), SystemTime::now());
        assert_eq!(file(&path, 1 << 20).history().len(), 2);
        assert_eq!(again.answer(None), log.answer(None));
    }

    #[test]
    fn a_torn_line_is_skipped_and_rotated_files_are_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let line = serde_json::to_vec(&record(10, "web", Some("recovered"))).unwrap();
        // Two records per file, three files kept: ids 1 to 10 leave 5 to 10.
        let mut writer = file(&path, 2 * (line.len() as u64 + 1));
        for id in 1..=10 {
            writer.append(&record(id, "web", Some("recovered")));
        }
        let mut torn = std::fs::read(&path).unwrap();
        torn.extend_from_slice(b"{\"id\":11,\"serv");
        std::fs::write(&path, torn).unwrap();
        assert!(path.with_extension("jsonl.2").exists());
        let log = IncidentLog::load(file(&path, 1 << 20), SystemTime::now());
        let kept: Vec<u64> = ids(&log.answer(None)).iter().map(|(id, _)| *id).collect();
        assert_eq!(kept, (5..=10).collect::<Vec<_>>());
        assert_eq!(log.next_id(), 11);
    }

    #[test]
    fn a_name_is_answered_when_it_is_a_service_or_has_incidents() {
        let mut log = IncidentLog::default();
        log.add_services(["db".to_string()]);
        log.insert(record(1, "web", Some("recovered")));
        log.insert(record(2, "gone", Some("failed")));
        assert_eq!(
            ids(&log.answer(Some("web"))),
            [(1, Some("recovered".into()))]
        );
        assert_eq!(ids(&log.answer(Some("gone"))).len(), 1);
        assert!(ids(&log.answer(Some("db"))).is_empty());
        assert_eq!(
            log.answer(Some("x")),
            Reply::Error {
                message: "no service named 'x'".into()
            }
        );
    }

    #[test]
    fn memory_keeps_the_newest_incidents_and_the_next_id_goes_on() {
        let mut log = IncidentLog::default();
        assert_eq!(log.next_id(), 1);
        for id in 1..=(MAX_INCIDENTS as u64 + 5) {
            log.insert(record(id, "web", Some("recovered")));
        }
        assert_eq!(log.incidents.len(), MAX_INCIDENTS);
        assert_eq!(log.incidents.keys().next(), Some(&6));
        assert_eq!(log.next_id(), MAX_INCIDENTS as u64 + 6);
    }

    #[test]
    fn instants_become_wall_clock_stamps_and_durations_milliseconds() {
        let clocks = Clocks::now();
        let start = Instant::now();
        let mut incident = Incident::open(
            3,
            "web",
            Detection::Unhealthy,
            "unhealthy",
            Duration::from_millis(2500),
            start,
        );
        incident.begin_step(
            Rung::Restart,
            StepOutcome::Trying,
            "restarting",
            start + Duration::from_secs(1),
        );
        incident.recover(
            start + Duration::from_secs(2),
            start + Duration::from_secs(60),
        );
        let record = to_record(&incident, &clocks);
        assert_eq!(record.opened, format_rfc3339(clocks.to_system_time(start)));
        let closed = clocks.to_system_time(start + Duration::from_secs(60));
        assert_eq!(record.closed, Some(format_rfc3339(closed)));
        assert_eq!(record.detected_by, "unhealthy");
        assert_eq!(record.time_to_detect_ms, 2500);
        assert_eq!(record.time_to_recover_ms, Some(4500));
        assert_eq!(record.outcome.as_deref(), Some("recovered"));
        assert_eq!(
            (
                record.steps[0].step.as_str(),
                record.steps[0].outcome.as_str()
            ),
            ("restart", "verified")
        );
    }

    #[test]
    fn without_a_state_directory_incidents_are_kept_in_memory() {
        let mut log = IncidentLog::default();
        let now = Instant::now();
        log.record(&Incident::open(
            1,
            "web",
            Detection::Exit,
            "exit 1",
            Duration::ZERO,
            now,
        ));
        assert_eq!(ids(&log.answer(None)), [(1, None)]);
    }
}
