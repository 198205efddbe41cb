//! Last-known-good (DESIGN.md §4.4, `rollback`): when a service is verified good, the shell
//! keeps a snapshot of its `rollback-files` and, for a TOML unit, its definition, under
//! `<state-dir>/known-good/NAME/`; `rollback` puts the files back, and the next Phoenix
//! hands the definitions to the supervisor. Only the state directory and the paths a
//! `RestoreFiles` names are ever written. Without a state directory, and for a snapshot
//! that could not be written, the snapshot is kept in memory for this run instead.
//!
//! The definition of an s6 directory is not kept: it is a directory of scripts the
//! service's own files may change, not one text that can be checked against the unit.

mod snapshot;

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use crate::unit::{Unit, UnitError, is_valid_name};
use snapshot::{DEFINITION, KeptFile, Snapshot};

/// The directory inside the state directory.
pub const DIR_NAME: &str = "known-good";

#[derive(Default)]
pub struct KnownGood {
    /// `<state-dir>/known-good`; `None` keeps snapshots in memory only.
    dir: Option<PathBuf>,
    /// Snapshots not on disk (no directory, or the write failed): newer than the disk's.
    memory: HashMap<String, Snapshot>,
    /// Rollback files already reported as unreadable, quiet until they can be read again.
    unreadable: BTreeSet<PathBuf>,
    /// A failed write was reported and not yet followed by a success.
    is_failing: bool,
}

impl KnownGood {
    /// The store in `dir` (normally `<state-dir>/known-good`), or in memory without one.
    pub fn new(dir: Option<PathBuf>) -> KnownGood {
        KnownGood {
            dir,
            ..KnownGood::default()
        }
    }

    /// The service was verified good running `unit`: keep `files` and the definition.
    /// Nothing is written when both are what the disk keeps already. Returns the rollback
    /// files found missing or unreadable this time (each said once per condition).
    pub fn save(&mut self, unit: &Unit, files: &[PathBuf]) -> Vec<String> {
        let mut problems = Vec::new();
        if !is_service_name(&unit.name) {
            return problems;
        }
        let on_disk = self
            .dir
            .as_ref()
            .and_then(|dir| Snapshot::read(&dir.join(&unit.name)));
        let kept = self.memory.get(&unit.name).or(on_disk.as_ref());
        let snapshot = take_snapshot(unit, files, kept, &mut self.unreadable, &mut problems);
        let Some(dir) = &self.dir else {
            if kept != Some(&snapshot) {
                self.memory.insert(unit.name.clone(), snapshot);
            }
            return problems;
        };
        // Compared with the disk, not with memory: a snapshot only memory holds is written
        // again at the next chance.
        if on_disk.as_ref() == Some(&snapshot) {
            self.memory.remove(&unit.name);
            return problems;
        }
        match snapshot.write(&dir.join(&unit.name), on_disk.as_ref()) {
            Ok(()) => {
                self.memory.remove(&unit.name);
                if self.is_failing {
                    log::info!(
                        "{}: last-known-good snapshots are written again",
                        dir.display()
                    );
                    self.is_failing = false;
                }
            }
            Err(error) => {
                if !self.is_failing {
                    log::warn!(
                        "{}: unable to keep the last-known-good snapshot in {}: {}; kept in memory until it recovers",
                        unit.name,
                        dir.join(&unit.name).display(),
                        crate::sys::io_error_text(&error)
                    );
                    self.is_failing = true;
                }
                self.memory.insert(unit.name.clone(), snapshot);
            }
        }
        problems
    }

    /// Puts back the kept copy of each of `files` of `service`; how many were put back, or
    /// what went wrong (every file that could be is still put back).
    pub fn restore(&self, service: &str, files: &[PathBuf]) -> Result<usize, String> {
        let Some(snapshot) = self.kept(service) else {
            return Err(format!("no snapshot of {service}'s rollback-files yet"));
        };
        let mut restored = 0;
        let mut failures = Vec::new();
        for path in files {
            match snapshot.files.get(path) {
                Some(kept) => match restore_file(path, kept) {
                    Ok(()) => {
                        log::info!("{service}: {} restored from its snapshot", path.display());
                        restored += 1;
                    }
                    Err(error) => failures.push(format!(
                        "unable to restore {}: {}",
                        path.display(),
                        crate::sys::io_error_text(&error)
                    )),
                },
                None => failures.push(format!("{}: not in the snapshot", path.display())),
            }
        }
        if failures.is_empty() {
            Ok(restored)
        } else {
            Err(failures.join("; "))
        }
    }

    /// The definitions kept by earlier runs, each read as if from its unit's source; one
    /// that no longer parses is a warning and left out.
    pub fn definitions(&self) -> Vec<Unit> {
        let Some(dir) = &self.dir else {
            return Vec::new();
        };
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
            Err(error) => {
                let error = crate::sys::io_error_text(&error);
                log::warn!("{}: unable to read: {error}", dir.display());
                return Vec::new();
            }
        };
        let mut names: Vec<String> = entries
            .flatten()
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| is_service_name(name))
            .collect();
        names.sort();
        names
            .into_iter()
            .filter_map(|name| {
                let snapshot = Snapshot::read(&dir.join(&name))?;
                let text = snapshot.definition?;
                parse_definition(&name, &snapshot.source, &text)
                    .map_err(|error| {
                        log::warn!(
                            "{name}: the last-known-good definition in {} no longer parses ({error}); not used",
                            dir.join(&name).join(DEFINITION).display()
                        );
                    })
                    .ok()
            })
            .collect()
    }

    fn kept(&self, service: &str) -> Option<Snapshot> {
        if !is_service_name(service) {
            return None;
        }
        if let Some(snapshot) = self.memory.get(service) {
            return Some(snapshot.clone());
        }
        Snapshot::read(&self.dir.as_ref()?.join(service))
    }
}

/// `files` as they are now; one that cannot be read keeps its earlier copy, if any.
fn take_snapshot(
    unit: &Unit,
    files: &[PathBuf],
    kept: Option<&Snapshot>,
    unreadable: &mut BTreeSet<PathBuf>,
    problems: &mut Vec<String>,
) -> Snapshot {
    let mut snapshot = Snapshot {
        source: unit.source.clone(),
        definition: definition(unit, kept),
        files: Default::default(),
    };
    for path in files {
        match KeptFile::read(path) {
            Ok(file) => {
                unreadable.remove(path);
                snapshot.files.insert(path.clone(), file);
            }
            Err(error) => {
                let earlier = kept.and_then(|kept| kept.files.get(path));
                if unreadable.insert(path.clone()) {
                    let problem = format!(
                        "rollback file {}: {}; {}",
                        path.display(),
                        crate::sys::io_error_text(&error),
                        if earlier.is_some() {
                            "keeping its earlier snapshot"
                        } else {
                            "not in the snapshot"
                        }
                    );
                    log::warn!("{}: {problem}", unit.name);
                    problems.push(problem);
                }
                if let Some(earlier) = earlier {
                    snapshot.files.insert(path.clone(), earlier.clone());
                }
            }
        }
    }
    snapshot
}

/// The text of `unit`'s TOML file, when it still defines exactly `unit`; else the earlier
/// kept definition of the same source, if any (the file was edited after it was loaded).
fn definition(unit: &Unit, kept: Option<&Snapshot>) -> Option<String> {
    if unit.source.extension() != Some("toml".as_ref()) {
        return None;
    }
    let earlier = || {
        kept.filter(|kept| kept.source == unit.source)
            .and_then(|kept| kept.definition.clone())
    };
    let text = match fs::read_to_string(&unit.source) {
        Ok(text) => text,
        Err(error) => {
            let error = crate::sys::io_error_text(&error);
            log::warn!(
                "{}: {}: {error}; definition not kept",
                unit.name,
                unit.source.display()
            );
            return earlier();
        }
    };
    if parse_definition(&unit.name, &unit.source, &text).is_ok_and(|parsed| parsed == *unit) {
        return Some(text);
    }
    log::info!(
        "{}: {} changed since it was loaded; its last-known-good definition is not updated",
        unit.name,
        unit.source.display()
    );
    earlier()
}

/// The one place a kept definition is parsed, as the services directory would parse it.
fn parse_definition(name: &str, source: &Path, text: &str) -> Result<Unit, UnitError> {
    crate::unit::parse_unit(name, source, text)
}

/// A name that is safe as a directory name under `known-good/`.
fn is_service_name(name: &str) -> bool {
    is_valid_name(name) && !name.starts_with('.')
}

/// Writes `kept` back over `path` by atomic rename, unless it is there already.
fn restore_file(path: &Path, kept: &KeptFile) -> std::io::Result<()> {
    if KeptFile::read(path).is_ok_and(|current| current == *kept) {
        return Ok(());
    }
    // Not `atomic_file::write`: a missing directory is an error, never created.
    crate::atomic_file::stage(path, &kept.contents, kept.attributes())?.commit()
}

#[cfg(test)]
mod tests;
