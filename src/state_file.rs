//! Persisted service records (`<state-dir>/state.json`): restart counts, failure tallies
//! and circuits survive a Phoenix restart. Instants become wall-clock milliseconds on disk
//! and instants again on load. Writes are atomic (write, fsync, rename); a failed write is
//! a warning, never a reason to stop supervising.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::atomic_file::{self, Attributes};
use crate::clocks::{Clocks, millis};
use crate::service::Circuit;
use crate::service::record::ServiceRecord;

const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct StateFile {
    version: u32,
    services: Vec<StoredService>,
}

#[derive(Serialize, Deserialize)]
struct StoredService {
    name: String,
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

/// The state file of one run: saving warns once when it starts failing and once when it
/// recovers, never once per state change (a full disk must not flood the log).
pub struct StateStore {
    path: PathBuf,
    is_failing: bool,
}

impl StateStore {
    pub fn new(path: PathBuf) -> StateStore {
        StateStore {
            path,
            is_failing: false,
        }
    }

    pub fn save(&mut self, records: &[ServiceRecord]) {
        match save(&self.path, records) {
            Ok(()) if self.is_failing => {
                log::info!("state saved to {} again", self.path.display());
                self.is_failing = false;
            }
            Ok(()) => {}
            Err(error) if !self.is_failing => {
                log::warn!(
                    "unable to save state to {}: {error}; not saved until it recovers",
                    self.path.display()
                );
                self.is_failing = true;
            }
            Err(_) => {}
        }
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

/// Records from an earlier run; a missing file is a first boot, a corrupt one a warning.
pub fn load(path: &Path) -> Vec<ServiceRecord> {
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(error) => {
            log::warn!("unable to read state from {}: {error}", path.display());
            return Vec::new();
        }
    };
    match serde_json::from_slice::<StateFile>(&text) {
        Ok(file) if file.version == VERSION => {
            let clocks = Clocks::now();
            file.services
                .into_iter()
                .map(|s| restore(s, &clocks))
                .collect()
        }
        Ok(file) => {
            log::warn!(
                "ignoring state in {}: unknown version {}",
                path.display(),
                file.version
            );
            Vec::new()
        }
        Err(error) => {
            log::warn!("ignoring corrupt state in {}: {error}", path.display());
            Vec::new()
        }
    }
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

fn restore(stored: StoredService, clocks: &Clocks) -> ServiceRecord {
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
    ServiceRecord {
        name: stored.name,
        restarts: stored.restarts,
        consecutive: stored.consecutive,
        failures: stored
            .failures_unix_ms
            .iter()
            .map(|&ms| clocks.to_instant(ms))
            .collect(),
        circuit,
        failed: stored.failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn round_trips_through_the_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let now = Instant::now();
        let record = ServiceRecord {
            name: "web".into(),
            restarts: 4,
            consecutive: 2,
            failures: vec![now],
            circuit: Circuit::Open {
                until: now + Duration::from_secs(60),
                cooldown: Duration::from_secs(60),
            },
            failed: false,
        };
        save(&path, std::slice::from_ref(&record)).unwrap();
        let loaded = load(&path);
        assert_eq!(loaded.len(), 1);
        assert_eq!((loaded[0].restarts, loaded[0].consecutive), (4, 2));
        let Circuit::Open { until, cooldown } = loaded[0].circuit else {
            panic!()
        };
        assert_eq!(cooldown, Duration::from_secs(60));
        let drift =
            until.max(now + Duration::from_secs(60)) - until.min(now + Duration::from_secs(60));
        assert!(drift < Duration::from_millis(50), "{drift:?}");
    }

    #[test]
    fn corrupt_or_missing_files_are_empty() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(&dir.path().join("none.json")).is_empty());
        std::fs::write(dir.path().join("bad.json"), "{not json").unwrap();
        assert!(load(&dir.path().join("bad.json")).is_empty());
    }
}
