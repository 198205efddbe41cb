//! Persisted alert bookkeeping (`<state-dir>/alerts.json`): per kind and service the
//! occurrences counted, the last one sent and the repeats held back since, and the alerts
//! still firing — so a restarted Phoenix neither pages again inside a cooldown nor forgets
//! what a recovery must resolve. Instants become wall-clock milliseconds on disk and
//! instants again on load. Writes are atomic; a failed write is one warning until it works
//! again. A file this Phoenix cannot read is moved aside as corrupt; an entry of a kind it
//! does not know (a newer Phoenix's) is left out.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::alerts::{AlertsState, Firing, Kind, SavedTally};
use crate::atomic_file::{self, Attributes, SaveOutcomes};
use crate::clocks::Clocks;
use crate::corrupt_file::{MovedAside, move_aside};

/// The file's name inside the state directory.
pub const FILE_NAME: &str = "alerts.json";

const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct AlertsFile {
    version: u32,
    tallies: Vec<StoredTally>,
    firing: Vec<StoredFiring>,
}

#[derive(Serialize, Deserialize)]
struct StoredTally {
    kind: String,
    service: String,
    count: u32,
    last_sent_unix_ms: Option<u64>,
    suppressed: u64,
}

#[derive(Serialize, Deserialize)]
struct StoredFiring {
    kind: String,
    service: String,
    incident: Option<u64>,
    summary: String,
    started_unix_ms: u64,
}

/// The alerts file of one run; its save failures are logged by [`SaveOutcomes`].
pub struct AlertStore {
    path: PathBuf,
    outcomes: SaveOutcomes,
}

impl AlertStore {
    pub fn new(path: PathBuf) -> AlertStore {
        AlertStore {
            path,
            outcomes: SaveOutcomes::new("alert state"),
        }
    }

    pub fn save(&mut self, state: &AlertsState) {
        let result = save(&self.path, state);
        self.outcomes.note(&self.path, result);
    }
}

fn save(path: &Path, state: &AlertsState) -> std::io::Result<()> {
    let clocks = Clocks::now();
    let file = AlertsFile {
        version: VERSION,
        tallies: state
            .tallies
            .iter()
            .map(|tally| StoredTally {
                kind: tally.kind.name().to_string(),
                service: tally.service.clone(),
                count: tally.count,
                last_sent_unix_ms: tally.last_sent.map(|at| clocks.to_wall(at)),
                suppressed: tally.suppressed,
            })
            .collect(),
        firing: state
            .firing
            .iter()
            .map(|firing| StoredFiring {
                kind: firing.kind.name().to_string(),
                service: firing.service.clone(),
                incident: firing.incident,
                summary: firing.summary.clone(),
                started_unix_ms: clocks.to_wall(firing.started),
            })
            .collect(),
    };
    let bytes = serde_json::to_vec_pretty(&file).map_err(std::io::Error::other)?;
    atomic_file::write(path, &bytes, Attributes::PRIVATE)
}

/// What an earlier run kept, and the file itself when it was corrupt (moved aside at
/// `now`). A missing file is a first start; one that cannot be read is a warning.
pub fn load(path: &Path, now: SystemTime) -> (AlertsState, Option<MovedAside>) {
    if let Some(moved) = crate::corrupt_file::move_aside_link(path, now) {
        return (AlertsState::default(), Some(moved));
    }
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return (AlertsState::default(), None);
        }
        Err(error) => {
            let error = crate::sys::io_error_text(&error);
            log::warn!(
                "unable to read alert state from {}: {error}",
                path.display()
            );
            return (AlertsState::default(), None);
        }
    };
    match parse(&text) {
        Ok(state) => (state, None),
        Err(problem) => (AlertsState::default(), Some(move_aside(path, problem, now))),
    }
}

/// An alerts file's bytes as [`load`] judges them, without the disk. The fuzzer's entry
/// point.
pub fn parse_bytes(text: &[u8]) -> Result<AlertsState, String> {
    parse(text)
}

fn parse(text: &[u8]) -> Result<AlertsState, String> {
    let file: AlertsFile = serde_json::from_slice(text)
        .map_err(|error| format!("not a Phoenix alerts file: {error}"))?;
    if file.version != VERSION {
        return Err(format!(
            "version {} is not the version {VERSION} this Phoenix reads",
            file.version
        ));
    }
    let clocks = Clocks::now();
    let tallies = file
        .tallies
        .into_iter()
        .filter_map(|stored| {
            Some(SavedTally {
                kind: Kind::from_name(&stored.kind)?,
                service: stored.service,
                count: stored.count,
                last_sent: stored.last_sent_unix_ms.map(|ms| clocks.to_instant(ms)),
                suppressed: stored.suppressed,
            })
        })
        .collect();
    let firing = file
        .firing
        .into_iter()
        .filter_map(|stored| {
            Some(Firing {
                kind: Kind::from_name(&stored.kind)?,
                service: stored.service,
                incident: stored.incident,
                summary: stored.summary,
                started: clocks.to_instant(stored.started_unix_ms),
            })
        })
        .collect();
    Ok(AlertsState { tallies, firing })
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn round_trips_through_the_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let sent = Instant::now() - Duration::from_secs(30);
        let state = AlertsState {
            tallies: vec![SavedTally {
                kind: Kind::Failed,
                service: "web".into(),
                count: 2,
                last_sent: Some(sent),
                suppressed: 1,
            }],
            firing: vec![Firing {
                kind: Kind::Hung,
                service: "web".into(),
                incident: Some(4),
                summary: "web: hung".into(),
                started: sent,
            }],
        };
        AlertStore::new(path.clone()).save(&state);
        let (loaded, moved) = load(&path, SystemTime::now());
        assert!(moved.is_none());
        assert_eq!(loaded.tallies.len(), 1);
        let tally = &loaded.tallies[0];
        assert_eq!(
            (tally.kind, tally.count, tally.suppressed),
            (Kind::Failed, 2, 1)
        );
        let ago = tally.last_sent.unwrap().elapsed();
        assert!(
            ago >= Duration::from_secs(29) && ago < Duration::from_secs(60),
            "{ago:?}"
        );
        assert_eq!(loaded.firing[0].incident, Some(4));
        assert_eq!(loaded.firing[0].kind, Kind::Hung);
    }

    #[test]
    fn a_missing_file_is_a_first_start() {
        let dir = tempfile::tempdir().unwrap();
        let (state, moved) = load(&dir.path().join(FILE_NAME), SystemTime::now());
        assert_eq!(state, AlertsState::default());
        assert!(moved.is_none());
    }

    #[test]
    fn garbage_is_moved_aside_and_never_applied() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, b"\x00{not json").unwrap();
        let (state, moved) = load(&path, SystemTime::now());
        assert_eq!(state, AlertsState::default());
        let moved = moved.unwrap();
        assert!(moved.moved_to.is_ok(), "{moved:?}");
        assert!(!path.exists());
    }

    #[test]
    fn an_unknown_kind_is_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let text = r#"{"version":1,"tallies":[{"kind":"from-the-future","service":"web","count":1,"last_sent_unix_ms":null,"suppressed":0},{"kind":"failed","service":"db","count":1,"last_sent_unix_ms":null,"suppressed":0}],"firing":[]}"#;
        std::fs::write(&path, text).unwrap();
        let (state, moved) = load(&path, SystemTime::now());
        assert!(moved.is_none());
        assert_eq!(state.tallies.len(), 1);
        assert_eq!(state.tallies[0].service, "db");
    }
}
