//! One service's last-known-good as it lies in `<state-dir>/known-good/NAME/`: a
//! `manifest.json` naming every kept file (its original path, mode and owner, and the
//! snapshot file holding its contents), the contents themselves, and `unit.toml` when the
//! definition is kept. Every new file is complete and synced before any old one is
//! replaced, so a write that fails (a full disk) leaves the previous snapshot whole; only a
//! crash amid the final renames, the manifest's last, can mix the two. Reading tolerates a
//! damaged directory: what cannot be read is left out.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::atomic_file::{self, Attributes, Staged};

const MANIFEST: &str = "manifest.json";
/// The kept definition's file name.
pub const DEFINITION: &str = "unit.toml";
const VERSION: u32 = 1;

/// A file longer than this is not snapshotted: PID 1 holds a snapshot in memory while it
/// takes or restores it.
pub const MAX_FILE_BYTES: u64 = 16 << 20;

/// What is kept for one service.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// The unit's `source`: the definition was read from there, and parses as if it were.
    pub source: PathBuf,
    /// The text of `unit.toml`, when the definition is kept.
    pub definition: Option<String>,
    pub files: BTreeMap<PathBuf, KeptFile>,
}

/// One rollback file as it was when the service was verified good.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeptFile {
    pub contents: Vec<u8>,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

impl KeptFile {
    /// Reads `path` as it is now (a symbolic link is followed).
    pub fn read(path: &Path) -> io::Result<KeptFile> {
        let metadata = fs::metadata(path)?;
        if !metadata.is_file() {
            return Err(io::Error::other("expected a regular file"));
        }
        if metadata.len() > MAX_FILE_BYTES {
            return Err(io::Error::other(format!(
                "{} bytes, more than the {MAX_FILE_BYTES} a snapshot holds",
                metadata.len()
            )));
        }
        Ok(KeptFile {
            contents: fs::read(path)?,
            mode: metadata.mode() & 0o7777,
            uid: metadata.uid(),
            gid: metadata.gid(),
        })
    }

    pub fn attributes(&self) -> Attributes {
        Attributes {
            mode: self.mode,
            owner: Some((self.uid, self.gid)),
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    version: u32,
    source: PathBuf,
    definition: bool,
    files: Vec<ManifestFile>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestFile {
    path: PathBuf,
    /// The file in the snapshot directory holding the contents.
    snapshot: String,
    mode: u32,
    uid: u32,
    gid: u32,
}

impl Snapshot {
    /// The snapshot kept in `dir`; `None` when there is none. A manifest that cannot be
    /// read, and any file it names that cannot, is a warning and left out.
    pub fn read(dir: &Path) -> Option<Snapshot> {
        let path = dir.join(MANIFEST);
        let manifest = match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice::<Manifest>(&bytes)
                .map_err(|error| error.to_string())
                .and_then(|manifest| match manifest.version {
                    VERSION => Ok(manifest),
                    other => Err(format!("unknown version {other}, expected {VERSION}")),
                }),
            Err(error) if error.kind() == io::ErrorKind::NotFound => return None,
            Err(error) => Err(crate::sys::io_error_text(&error)),
        };
        let manifest = match manifest {
            Ok(manifest) => manifest,
            Err(error) => {
                log::warn!("{}: {error}; ignoring that snapshot", path.display());
                return None;
            }
        };
        let mut snapshot = Snapshot {
            source: manifest.source,
            definition: None,
            files: BTreeMap::new(),
        };
        if manifest.definition {
            snapshot.definition =
                read_or_warn(&dir.join(DEFINITION)).and_then(|bytes| String::from_utf8(bytes).ok());
        }
        for entry in manifest.files {
            let Some(contents) = read_or_warn(&dir.join(&entry.snapshot)) else {
                continue;
            };
            let kept = KeptFile {
                contents,
                mode: entry.mode,
                uid: entry.uid,
                gid: entry.gid,
            };
            snapshot.files.insert(entry.path, kept);
        }
        Some(snapshot)
    }

    /// Makes `dir` hold this snapshot, where it held `old` (as read from it): changed files
    /// first, the manifest last, then whatever is no longer named is removed.
    pub fn write(&self, dir: &Path, old: Option<&Snapshot>) -> io::Result<()> {
        fs::create_dir_all(dir)?;
        let mut staged: Vec<Staged> = Vec::new();
        for (path, file) in &self.files {
            if old.and_then(|old| old.files.get(path)) != Some(file) {
                let target = dir.join(snapshot_name(path));
                staged.push(atomic_file::stage(
                    &target,
                    &file.contents,
                    Attributes::PRIVATE,
                )?);
            }
        }
        if let Some(text) = &self.definition {
            if old.and_then(|old| old.definition.as_ref()) != Some(text) {
                let target = dir.join(DEFINITION);
                staged.push(atomic_file::stage(
                    &target,
                    text.as_bytes(),
                    Attributes::PRIVATE,
                )?);
            }
        }
        let manifest = serde_json::to_vec_pretty(&self.manifest()).map_err(io::Error::other)?;
        staged.push(atomic_file::stage(
            &dir.join(MANIFEST),
            &manifest,
            Attributes::PRIVATE,
        )?);
        // Every file is complete: only renames are left, the manifest's last.
        for file in staged {
            file.commit()?;
        }
        self.remove_unnamed(dir)?;
        atomic_file::sync_dir(dir)
    }

    fn manifest(&self) -> Manifest {
        Manifest {
            version: VERSION,
            source: self.source.clone(),
            definition: self.definition.is_some(),
            files: self
                .files
                .iter()
                .map(|(path, file)| ManifestFile {
                    path: path.clone(),
                    snapshot: snapshot_name(path),
                    mode: file.mode,
                    uid: file.uid,
                    gid: file.gid,
                })
                .collect(),
        }
    }

    /// Removes the files of earlier snapshots (and leftovers of interrupted ones).
    fn remove_unnamed(&self, dir: &Path) -> io::Result<()> {
        let mut named: BTreeSet<String> = self.files.keys().map(|p| snapshot_name(p)).collect();
        named.insert(MANIFEST.to_string());
        if self.definition.is_some() {
            named.insert(DEFINITION.to_string());
        }
        for entry in fs::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !named.contains(&name) && entry.file_type()?.is_file() {
                fs::remove_file(entry.path())?;
            }
        }
        Ok(())
    }
}

fn read_or_warn(path: &Path) -> Option<Vec<u8>> {
    match fs::read(path) {
        Ok(bytes) => Some(bytes),
        Err(error) => {
            let error = crate::sys::io_error_text(&error);
            log::warn!("{}: {error}; left out of the snapshot", path.display());
            None
        }
    }
}

/// The snapshot file of `path`: every byte but `[A-Za-z0-9._-]` as `%XX`, so that
/// `/etc/web/web.conf` is `%2Fetc%2Fweb%2Fweb.conf` and two paths never share a name. A
/// name that would not fit a directory entry keeps its start and ends in a hash of the
/// whole path.
pub fn snapshot_name(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let bytes = path.as_os_str().as_bytes();
    let mut name = String::with_capacity(bytes.len());
    for &byte in bytes {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-') {
            name.push(char::from(byte));
        } else {
            name.push_str(&format!("%{byte:02X}"));
        }
    }
    const LONGEST: usize = 200;
    if name.len() > LONGEST {
        // Cut at a character boundary: the name is ASCII, so any index is one.
        name.truncate(LONGEST - 17);
        name.push_str(&format!("~{:016x}", fnv1a(bytes)));
    }
    name
}

/// FNV-1a, 64 bits: stable across Rust releases, unlike `DefaultHasher`.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}
