//! Replacing a file all at once: the new contents go to a temporary file in the target's
//! own directory (a rename never crosses filesystems), are synced, and are renamed over the
//! target, so a reader sees the old file or the new one and a crash leaves one of them.
//! Staging is separate from the rename so that several files can all be written before
//! any is replaced. Shell only; errors are returned, the caller decides how loud to be.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// How the saves of one file went: a failure is one warning when saving starts failing
/// and one line when it works again, never one per save (a full disk must not flood the
/// log).
pub struct SaveOutcomes {
    /// What the file holds, for the log lines ("state", "alert state").
    what: &'static str,
    is_failing: bool,
}

impl SaveOutcomes {
    pub fn new(what: &'static str) -> SaveOutcomes {
        SaveOutcomes {
            what,
            is_failing: false,
        }
    }

    /// Logs `result` of saving to `path` if it changes how saving goes.
    pub fn note(&mut self, path: &Path, result: io::Result<()>) {
        let what = self.what;
        match result {
            Ok(()) if self.is_failing => {
                log::info!("{what} saved to {} again", path.display());
                self.is_failing = false;
            }
            Ok(()) => {}
            Err(error) if !self.is_failing => {
                log::warn!(
                    "unable to save {what} to {}: {error}; not saved until it recovers",
                    path.display()
                );
                self.is_failing = true;
            }
            Err(_) => {}
        }
    }
}

/// A temporary file, complete and synced, waiting to replace its target; removed again
/// when dropped without [`Staged::commit`].
pub struct Staged {
    temporary: PathBuf,
    target: PathBuf,
    committed: bool,
}

/// Mode and owner the replacement gets; an owner is set only when it differs from the one
/// the temporary file got (so an unprivileged Phoenix restoring its own files never needs
/// `chown`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attributes {
    pub mode: u32,
    pub owner: Option<(u32, u32)>,
}

impl Attributes {
    /// Readable and writable by Phoenix's user only.
    pub const PRIVATE: Attributes = Attributes {
        mode: 0o600,
        owner: None,
    };
}

/// Writes `bytes` to a temporary file beside `target`, with `attributes`, and syncs it.
pub fn stage(target: &Path, bytes: &[u8], attributes: Attributes) -> io::Result<Staged> {
    let temporary = temporary_path(target)?;
    let staged = Staged {
        temporary,
        target: target.to_path_buf(),
        committed: false,
    };
    // A temporary file left by a crash is removed first (unlink never follows a link),
    // then created anew with O_EXCL: whatever sits at that name — a file, or a link
    // planted to make Phoenix write elsewhere — is never opened, let alone written through.
    match fs::remove_file(&staged.temporary) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
        _ => {}
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(0o600)
        .open(&staged.temporary)?;
    file.write_all(bytes)?;
    if let Some((uid, gid)) = attributes.owner {
        let metadata = file.metadata()?;
        if metadata_owner(&metadata) != (uid, gid) {
            std::os::unix::fs::fchown(&file, Some(uid), Some(gid))?;
        }
    }
    // After `chown`, which clears set-id bits.
    file.set_permissions(fs::Permissions::from_mode(attributes.mode & 0o7777))?;
    file.sync_all()?;
    Ok(staged)
}

impl Staged {
    /// Renames the staged file over its target.
    pub fn commit(mut self) -> io::Result<()> {
        fs::rename(&self.temporary, &self.target)?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.temporary);
        }
    }
}

/// Stages and commits one file, creating its directory if needed.
pub fn write(target: &Path, bytes: &[u8], attributes: Attributes) -> io::Result<()> {
    if let Some(dir) = target.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        fs::create_dir_all(dir)?;
    }
    stage(target, bytes, attributes)?.commit()
}

/// Makes the renames in `dir` durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn metadata_owner(metadata: &fs::Metadata) -> (u32, u32) {
    use std::os::unix::fs::MetadataExt;
    (metadata.uid(), metadata.gid())
}

/// `.NAME.phoenix-new` beside `target`: hidden, and never mistaken for the file itself.
fn temporary_path(target: &Path) -> io::Result<PathBuf> {
    let Some(name) = target.file_name() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{}: expected a path to a file", target.display()),
        ));
    };
    let mut temporary = std::ffi::OsString::from(".");
    temporary.push(name);
    temporary.push(".phoenix-new");
    Ok(target.with_file_name(temporary))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_replaces_the_target_with_the_mode_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/file.conf");
        write(&path, b"one", Attributes::PRIVATE).unwrap();
        let attributes = Attributes {
            mode: 0o640,
            owner: None,
        };
        write(&path, b"two", attributes).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o7777, 0o640);
        let names: Vec<_> = fs::read_dir(dir.path().join("sub")).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn a_staged_file_dropped_uncommitted_leaves_the_target_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("file");
        fs::write(&path, b"old").unwrap();
        let staged = stage(&path, b"new", Attributes::PRIVATE).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"old");
        drop(staged);
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_link_planted_at_the_temporary_name_is_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let victim = dir.path().join("victim");
        fs::write(&victim, b"precious").unwrap();
        std::os::unix::fs::symlink(&victim, temporary_path(&path).unwrap()).unwrap();
        write(&path, b"new", Attributes::PRIVATE).unwrap();
        assert_eq!(fs::read(&victim).unwrap(), b"precious");
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert!(
            !fs::symlink_metadata(&path)
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }

    #[test]
    fn a_link_at_the_target_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let victim = dir.path().join("victim");
        fs::write(&victim, b"precious").unwrap();
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        write(&path, b"new", Attributes::PRIVATE).unwrap();
        assert_eq!(fs::read(&victim).unwrap(), b"precious");
        assert!(
            !fs::symlink_metadata(&path)
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }

    #[test]
    fn the_current_owner_needs_no_chown() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("file");
        let own = fs::metadata(dir.path()).unwrap();
        let attributes = Attributes {
            mode: 0o644,
            owner: Some(metadata_owner(&own)),
        };
        write(&path, b"x", attributes).unwrap();
        assert_eq!(
            metadata_owner(&fs::metadata(&path).unwrap()),
            metadata_owner(&own)
        );
    }
}
