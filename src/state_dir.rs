//! Where Phoenix keeps what outlives it (`state.json`, `events.jsonl`, `incidents.jsonl`,
//! `known-good/`): the configured `state-dir`, else `/var/lib/phoenix` for root and
//! `$XDG_STATE_HOME/phoenix` or `$HOME/.local/state/phoenix` for anyone else. A directory that cannot be written (a
//! read-only root filesystem, a home that does not exist) is found out once, at start-up,
//! and replaced by `state/` in a runtime directory (which does not survive a reboot), or
//! failing that by memory alone — each said in one warning, never once per event. The
//! directory chosen is then claimed: one Phoenix per directory (`lock`, see
//! [`crate::sys::lock_file`]); a second one runs without persistence.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::sys::lock_file::{self, Locking, StateLock};

/// The state directory when `state-dir` is not set.
pub fn default_state_dir() -> Option<PathBuf> {
    if nix::unistd::geteuid().is_root() {
        return Some(PathBuf::from("/var/lib/phoenix"));
    }
    let non_empty = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
    non_empty("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| non_empty("HOME").map(|home| PathBuf::from(home).join(".local/state")))
        .map(|base| base.join("phoenix"))
}

/// The first usable directory of `preferred` (the configured or default one) and
/// `state/` in each of `runtime_dirs`; `None` keeps state in memory only.
pub fn choose(preferred: Option<PathBuf>, runtime_dirs: &[PathBuf]) -> Option<PathBuf> {
    let mut failures = Vec::new();
    let fallbacks = runtime_dirs.iter().map(|dir| dir.join("state"));
    for (position, dir) in preferred.into_iter().chain(fallbacks).enumerate() {
        match probe(&dir) {
            Ok(()) if position == 0 => return Some(dir),
            Ok(()) => {
                log::warn!(
                    "{}; keeping state in {} instead, which does not survive a reboot",
                    failures.join("; "),
                    dir.display()
                );
                return Some(dir);
            }
            Err(error) => failures.push(format!(
                "state directory {}: {}",
                dir.display(),
                crate::sys::io_error_text(&error)
            )),
        }
    }
    log::warn!(
        "{}; restart counts, circuits, events, incidents and last-known-good snapshots are kept in memory only",
        failures.join("; ")
    );
    None
}

/// `dir` (the one [`choose`] picked) for this Phoenix alone: its lock taken and held by the
/// returned [`StateLock`]. Another Phoenix holding it leaves this one without persistence
/// (`None`, said in one warning), so that the two never write each other's files. A lock
/// that cannot be taken for another reason (a filesystem without `flock`) is a warning,
/// and the directory is used unlocked.
pub fn claim(dir: Option<PathBuf>) -> (Option<PathBuf>, Option<StateLock>) {
    let Some(dir) = dir else {
        return (None, None);
    };
    match lock_file::lock(&dir) {
        Ok(Locking::Held(lock)) => (Some(dir), Some(lock)),
        Ok(Locking::Busy { holder }) => {
            let holder =
                holder.map_or_else(|| "pid unknown".to_string(), |pid| format!("pid {pid}"));
            log::warn!(
                "{} is in use by another Phoenix ({holder}); running without persistence",
                dir.display()
            );
            (None, None)
        }
        Err(error) => {
            log::warn!(
                "unable to lock {}: {}; using it unlocked",
                dir.join(lock_file::FILE_NAME).display(),
                crate::sys::io_error_text(&error)
            );
            (Some(dir), None)
        }
    }
}

/// Creates `dir` if needed (0700), checks that nobody else can write in it, and writes,
/// syncs and removes a file in it.
fn probe(dir: &Path) -> io::Result<()> {
    if let Some(parent) = dir.parent() {
        fs::create_dir_all(parent)?;
    }
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Err(error) if error.kind() != io::ErrorKind::AlreadyExists => return Err(error),
        _ => {}
    }
    check_private(dir)?;
    let path = dir.join(format!(".probe-{}", std::process::id()));
    let _ = fs::remove_file(&path);
    let result = OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
        .and_then(|mut file| {
            file.write_all(b"phoenix")?;
            file.sync_all()
        });
    let _ = fs::remove_file(&path);
    result
}

/// A state directory another user could write in could be made to hold links Phoenix
/// follows (or files it trusts): like sshd's StrictModes, it must belong to Phoenix's user
/// and be writable by nobody else.
fn check_private(dir: &Path) -> io::Result<()> {
    let metadata = fs::metadata(dir)?;
    let owner = metadata.uid();
    let me = nix::unistd::geteuid().as_raw();
    let problem = if owner != me {
        Some(format!("it belongs to uid {owner}, not Phoenix's uid {me}"))
    } else if metadata.mode() & 0o022 != 0 {
        Some(format!(
            "its mode {:04o} lets others write in it",
            metadata.mode() & 0o7777
        ))
    } else {
        None
    };
    match problem {
        Some(problem) => Err(io::Error::other(format!(
            "{problem} (state there could be tampered with)"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_writable_preferred_directory_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        assert_eq!(choose(Some(state.clone()), &[]), Some(state.clone()));
        assert!(state.is_dir());
        assert_eq!(
            fs::read_dir(&state).unwrap().count(),
            0,
            "the probe is gone"
        );
    }

    #[test]
    fn a_claimed_directory_is_not_handed_to_a_second_claim() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().to_path_buf();
        let (first, lock) = claim(Some(state.clone()));
        assert_eq!(first, Some(state.clone()));
        assert!(lock.is_some());
        assert_eq!(claim(Some(state.clone())).0, None, "in use");
        drop(lock);
        assert_eq!(claim(Some(state.clone())).0, Some(state));
        assert_eq!(claim(None).0, None);
    }

    #[test]
    fn issue_8_an_unwritable_directory_falls_back_to_the_runtime_dir_then_memory() {
        let dir = tempfile::tempdir().unwrap();
        // A regular file where the directory should be: unusable even for root.
        let blocked = dir.path().join("blocked");
        fs::write(&blocked, "").unwrap();
        let runtime = dir.path().join("run");
        assert_eq!(
            choose(Some(blocked.join("state")), std::slice::from_ref(&runtime)),
            Some(runtime.join("state"))
        );
        assert_eq!(
            choose(Some(blocked.join("state")), std::slice::from_ref(&blocked)),
            None
        );
        assert_eq!(choose(None, &[]), None);
    }
}
