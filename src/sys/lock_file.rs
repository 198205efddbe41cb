//! Ownership of the state directory (DESIGN.md §9): an exclusive `flock` on
//! `<state-dir>/lock`, taken without waiting and held for Phoenix's life by keeping the
//! descriptor open (the kernel releases it however Phoenix ends, so a crash never leaves a
//! stale lock). The holder writes its pid (as its own PID namespace sees it) into the file,
//! so that a second Phoenix can say whom it found there. The file is opened without
//! truncating: only the holder rewrites it, after taking the lock.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The lock file's name inside the state directory.
pub const FILE_NAME: &str = "lock";

/// The held lock; dropping it (closing the descriptor) releases it.
#[derive(Debug)]
pub struct StateLock {
    file: File,
    path: PathBuf,
}

impl StateLock {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl AsFd for StateLock {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

/// What `lock` found.
#[derive(Debug)]
pub enum Locking {
    Held(StateLock),
    /// Another process holds it; its pid, when the file names one.
    Busy {
        holder: Option<u32>,
    },
}

/// Takes the lock of `dir` (which exists) without waiting.
pub fn lock(dir: &Path) -> io::Result<Locking> {
    let path = dir.join(FILE_NAME);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)?;
    // SAFETY: flock takes a descriptor we own and plain flags; it touches no memory.
    let result = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if result != 0 {
        let error = io::Error::last_os_error();
        if error.raw_os_error() == Some(libc::EWOULDBLOCK) {
            return Ok(Locking::Busy {
                holder: read_holder(&file),
            });
        }
        return Err(error);
    }
    // The pid is a courtesy to a second Phoenix: failing to write it costs only that.
    let pid = format!("{}\n", std::process::id());
    if let Err(error) = file
        .set_len(0)
        .and_then(|()| file.write_all_at(pid.as_bytes(), 0))
    {
        log::debug!("{}: unable to write our pid: {error}", path.display());
    }
    Ok(Locking::Held(StateLock { file, path }))
}

fn read_holder(file: &File) -> Option<u32> {
    let mut buffer = [0u8; 32];
    let length = file.read_at(&mut buffer, 0).ok()?;
    let text = std::str::from_utf8(buffer.get(..length)?).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_holds_the_lock_and_a_second_is_told_its_pid() {
        let dir = tempfile::tempdir().unwrap();
        let Locking::Held(held) = lock(dir.path()).unwrap() else {
            panic!("not held")
        };
        let written = std::fs::read_to_string(held.path()).unwrap();
        assert_eq!(written, format!("{}\n", std::process::id()));
        // flock belongs to the open file description: a second open conflicts even here.
        let Locking::Busy { holder } = lock(dir.path()).unwrap() else {
            panic!("locked twice")
        };
        assert_eq!(holder, Some(std::process::id()));
        drop(held);
        assert!(matches!(lock(dir.path()).unwrap(), Locking::Held(_)));
    }

    #[test]
    fn a_lock_file_with_an_old_pid_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), "999999999 and more text\n").unwrap();
        let Locking::Held(held) = lock(dir.path()).unwrap() else {
            panic!("not held")
        };
        let written = std::fs::read_to_string(held.path()).unwrap();
        assert_eq!(written, format!("{}\n", std::process::id()));
    }

    #[test]
    fn a_missing_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(lock(&dir.path().join("absent")).is_err());
    }
}
