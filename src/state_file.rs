//! Persisted service records (`<state-dir>/state.json`): restart counts, failure tallies
//! and circuits survive a Phoenix restart. Instants become wall-clock milliseconds on disk
//! and instants again on load. Each record names the unit definition and the services
//! directory it belongs to (the core decides whether it applies). Writes are atomic (write,
//! fsync, rename); a failed write is a warning, never a reason to stop supervising. A file
//! that is not a state file this Phoenix can read — random bytes, or a future version's —
//! is moved aside as corrupt, never applied.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::atomic_file::{self, Attributes, SaveOutcomes};
use crate::clocks::{Clocks, millis};
use crate::corrupt_file::{MovedAside, move_aside};
use crate::service::Circuit;
use crate::service::record::{Fingerprint, ServiceRecord};

/// The file's name inside the state directory.
pub const FILE_NAME: &str = "state.json";

/// 2: records carry the unit's fingerprint and the services directory (1 did not).
const VERSION: u32 = 2;

#[derive(Serialize, Deserialize)]
struct StateFile {
    version: u32,
    services: Vec<StoredService>,
}

#[derive(Serialize, Deserialize)]
struct StoredService {
    name: String,
    /// The unit's fingerprint, 16 hex digits.
    unit: String,
    /// The canonical services directory the unit came from.
    services_dir: String,
    restarts: u32,
    consecutive: u32,
    failures_unix_ms: Vec<u64>,
    circuit: StoredCircuit,
    failed: bool,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
enum StoredCircuit {
    Closed,
    Open {
        until_unix_ms: u64,
        cooldown_ms: u64,
    },
    HalfOpen {
        cooldown_ms: u64,
    },
}

/// The state file of one run; its save failures are logged by [`SaveOutcomes`].
pub struct StateStore {
    path: PathBuf,
    outcomes: SaveOutcomes,
}

impl StateStore {
    /// The file this store writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn new(path: PathBuf) -> StateStore {
        StateStore {
            path,
            outcomes: SaveOutcomes::new("state"),
        }
    }

    pub fn save(&mut self, records: &[ServiceRecord]) {
        let result = save(&self.path, records);
        self.outcomes.note(&self.path, result);
    }
}

pub fn save(path: &Path, records: &[ServiceRecord]) -> std::io::Result<()> {
    let clocks = Clocks::now();
    let file = StateFile {
        version: VERSION,
        services: records.iter().map(|r| store(r, &clocks)).collect(),
    };
    write_atomically(path, &file)
}

fn write_atomically(path: &Path, file: &StateFile) -> std::io::Result<()> {
    let bytes = serde_json::to_vec_pretty(file).map_err(std::io::Error::other)?;
    atomic_file::write(path, &bytes, Attributes::PRIVATE)
}

/// Records from an earlier run, and the file itself when it was corrupt (moved aside at
/// `now`). A missing file is a first boot; one that cannot be read is a warning; a version 1
/// file (records without fingerprints, which cannot be matched to a definition) is
/// ignored with a line saying so, and replaced by the first save.
pub fn load(path: &Path, now: SystemTime) -> (Vec<ServiceRecord>, Option<MovedAside>) {
    if let Some(moved) = crate::corrupt_file::move_aside_link(path, now) {
        return (Vec::new(), Some(moved));
    }
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return (Vec::new(), None),
        Err(error) => {
            let error = crate::sys::io_error_text(&error);
            log::warn!("unable to read state from {}: {error}", path.display());
            return (Vec::new(), None);
        }
    };
    match parse(&text) {
        Ok(records) => (records, None),
        Err(Unusable::Old(version)) => {
            log::info!(
                "ignoring state in {}: version {version} has no unit fingerprints, every service starts fresh",
                path.display()
            );
            (Vec::new(), None)
        }
        Err(Unusable::Corrupt(problem)) => (Vec::new(), Some(move_aside(path, problem, now))),
    }
}

/// Why a state file's records cannot be used.
#[derive(Debug, PartialEq, Eq)]
enum Unusable {
    /// An older version, readable but not applicable.
    Old(u32),
    /// Not a state file this Phoenix can read: moved aside.
    Corrupt(String),
}

/// Only `version`, read first: the rest of the file is read by the version's layout.
#[derive(Deserialize)]
struct Versioned {
    version: u32,
}

/// A state file's bytes as [`load`] judges them, without the disk: the records, or why
/// they cannot be used. The fuzzer's entry point.
pub fn parse_bytes(text: &[u8]) -> Result<Vec<ServiceRecord>, String> {
    parse(text).map_err(|unusable| format!("{unusable:?}"))
}

fn parse(text: &[u8]) -> Result<Vec<ServiceRecord>, Unusable> {
    let corrupt = |what: String| Unusable::Corrupt(what);
    let versioned: Versioned = serde_json::from_slice(text)
        .map_err(|error| corrupt(format!("not a Phoenix state file: {error}")))?;
    match versioned.version {
        VERSION => {}
        version if version < VERSION => return Err(Unusable::Old(version)),
        version => {
            return Err(corrupt(format!(
                "written by a newer Phoenix: version {version}, this one reads {VERSION}"
            )));
        }
    }
    let file: StateFile = serde_json::from_slice(text)
        .map_err(|error| corrupt(format!("not a version {VERSION} state file: {error}")))?;
    let clocks = Clocks::now();
    file.services
        .into_iter()
        .map(|s| restore(s, &clocks).map_err(corrupt))
        .collect()
}

fn store(record: &ServiceRecord, clocks: &Clocks) -> StoredService {
    let circuit = match record.circuit {
        Circuit::Closed => StoredCircuit::Closed,
        Circuit::Open { until, cooldown } => StoredCircuit::Open {
            until_unix_ms: clocks.to_wall(until),
            cooldown_ms: millis(cooldown),
        },
        Circuit::HalfOpen { cooldown } => StoredCircuit::HalfOpen {
            cooldown_ms: millis(cooldown),
        },
    };
    StoredService {
        name: record.name.clone(),
        unit: record.fingerprint.to_string(),
        services_dir: record.services_dir.to_string_lossy().into_owned(),
        restarts: record.restarts,
        consecutive: record.consecutive,
        failures_unix_ms: record
            .failures
            .iter()
            .map(|&at| clocks.to_wall(at))
            .collect(),
        circuit,
        failed: record.failed,
    }
}

fn restore(stored: StoredService, clocks: &Clocks) -> Result<ServiceRecord, String> {
    let fingerprint = Fingerprint::parse(&stored.unit).ok_or_else(|| {
        format!(
            "service {}: unit fingerprint {:?} is not 16 hex digits",
            stored.name, stored.unit
        )
    })?;
    let circuit = match stored.circuit {
        StoredCircuit::Closed => Circuit::Closed,
        StoredCircuit::Open {
            until_unix_ms,
            cooldown_ms,
        } => Circuit::Open {
            until: clocks.to_instant(until_unix_ms),
            cooldown: Duration::from_millis(cooldown_ms),
        },
        StoredCircuit::HalfOpen { cooldown_ms } => Circuit::HalfOpen {
            cooldown: Duration::from_millis(cooldown_ms),
        },
    };
    Ok(ServiceRecord {
        name: stored.name,
        fingerprint,
        services_dir: PathBuf::from(stored.services_dir),
        restarts: stored.restarts,
        consecutive: stored.consecutive,
        failures: stored
            .failures_unix_ms
            .iter()
            .map(|&ms| clocks.to_instant(ms))
            .collect(),
        circuit,
        failed: stored.failed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn record(now: Instant) -> ServiceRecord {
        ServiceRecord {
            name: "web".into(),
            fingerprint: Fingerprint(0x0123_4567_89ab_cdef),
            services_dir: PathBuf::from("/srv/units"),
            restarts: 4,
            consecutive: 2,
            failures: vec![now],
            circuit: Circuit::Open {
                until: now + Duration::from_secs(60),
                cooldown: Duration::from_secs(60),
            },
            failed: true,
        }
    }

    fn corrupt_copies(dir: &Path) -> Vec<PathBuf> {
        let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.to_string_lossy().contains(".corrupt-"))
            .collect();
        found.sort();
        found
    }

    #[test]
    fn round_trips_through_the_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let now = Instant::now();
        save(&path, &[record(now)]).unwrap();
        let (loaded, moved) = load(&path, SystemTime::now());
        assert_eq!(moved, None);
        assert_eq!(loaded.len(), 1);
        let loaded = &loaded[0];
        assert_eq!(
            (loaded.restarts, loaded.consecutive, loaded.failed),
            (4, 2, true)
        );
        assert_eq!(loaded.fingerprint, Fingerprint(0x0123_4567_89ab_cdef));
        assert_eq!(loaded.services_dir, PathBuf::from("/srv/units"));
        let Circuit::Open { until, cooldown } = loaded.circuit else {
            panic!()
        };
        assert_eq!(cooldown, Duration::from_secs(60));
        let drift =
            until.max(now + Duration::from_secs(60)) - until.min(now + Duration::from_secs(60));
        assert!(drift < Duration::from_millis(50), "{drift:?}");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"unit\": \"0123456789abcdef\""), "{text}");
    }

    #[test]
    fn a_missing_file_is_a_first_boot() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            load(&dir.path().join("state.json"), SystemTime::now()),
            (vec![], None)
        );
    }

    #[test]
    fn random_bytes_are_moved_aside_with_the_original_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let bytes = b"\x8f\x00{not json at all\xff";
        std::fs::write(&path, bytes).unwrap();
        let (loaded, moved) = load(&path, SystemTime::now());
        assert!(loaded.is_empty());
        let moved = moved.unwrap();
        assert!(
            moved.problem.starts_with("not a Phoenix state file"),
            "{moved:?}"
        );
        assert!(!path.exists());
        let copies = corrupt_copies(dir.path());
        assert_eq!(copies.len(), 1);
        assert_eq!(std::fs::read(&copies[0]).unwrap(), bytes);
    }

    #[test]
    fn a_future_version_is_moved_aside_and_never_applied() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        save(&path, &[record(Instant::now())]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let future = text.replace("\"version\": 2", "\"version\": 3");
        std::fs::write(&path, &future).unwrap();
        let (loaded, moved) = load(&path, SystemTime::now());
        assert!(loaded.is_empty());
        assert_eq!(
            moved.unwrap().problem,
            "written by a newer Phoenix: version 3, this one reads 2"
        );
        assert_eq!(
            std::fs::read_to_string(&corrupt_copies(dir.path())[0]).unwrap(),
            future
        );
    }

    #[test]
    fn a_version_1_file_is_ignored_and_left_for_the_next_save() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let old = r#"{"version":1,"services":[{"name":"web","restarts":3,"consecutive":1,
            "failures_unix_ms":[],"circuit":{"state":"closed"},"failed":true}]}"#;
        std::fs::write(&path, old).unwrap();
        assert_eq!(load(&path, SystemTime::now()), (vec![], None));
        assert!(path.exists());
        assert!(corrupt_copies(dir.path()).is_empty());
    }

    #[test]
    fn a_current_version_with_a_broken_record_is_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        save(&path, &[record(Instant::now())]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("0123456789abcdef", "xyz")).unwrap();
        let (loaded, moved) = load(&path, SystemTime::now());
        assert!(loaded.is_empty());
        assert!(moved.unwrap().problem.contains("is not 16 hex digits"));
    }
}
