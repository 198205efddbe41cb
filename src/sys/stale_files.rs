//! Stale files (DESIGN.md §4.7), checked before a start: a pid file naming a process that
//! no longer exists, and a lock file nobody holds (`flock`), are removed. It answers with
//! what it found, path by path; logging and recording the removals is the caller's job.
//!
//! It must never block, follow into a directory or remove what might be in use: a file is
//! opened non-blocking (a FIFO put in its place cannot stall PID 1) and only a regular
//! file is judged. A pid file is read from its first line (a pid above 0) and removed only
//! when `kill(pid, 0)` says no such process; anything else is a lock file, removed only
//! when an exclusive non-blocking `flock` succeeds. Removal happens while that lock is
//! held, so nobody can take it in between. Whatever cannot be judged is left alone, with a
//! warning for the caller to log.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use crate::core::Pid;

/// A pid file's first line is short; more than this is not read.
const MAX_FIRST_LINE: usize = 64;

/// What the check of one path came to (a missing file gives nothing at all).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StaleFile {
    /// Removed; `reason` is the sentence for the log and the event:
    /// `removed stale file /run/web.pid (pid 1234 is gone)`.
    Removed { path: PathBuf, reason: String },
    /// Still in use: `pid 1234 is alive`, `a process holds its lock`.
    Kept { path: PathBuf, reason: String },
    /// Not judged (a directory, an unreadable file, a failed removal): `warning` says why.
    LeftAlone { path: PathBuf, warning: String },
}

/// Checks every path in order; see the module doc for the rules.
pub fn remove_stale_files(paths: &[PathBuf]) -> Vec<StaleFile> {
    paths.iter().filter_map(|path| check(path)).collect()
}

fn check(path: &Path) -> Option<StaleFile> {
    let left_alone = |warning: String| StaleFile::LeftAlone {
        path: path.to_path_buf(),
        warning,
    };
    // Looked at before it is opened, and opened without following a link: a device node
    // or a link put in a pid file's place (opening /dev/watchdog arms it) is never opened.
    match std::fs::symlink_metadata(path) {
        Err(error) if error.kind() == ErrorKind::NotFound => return None,
        Ok(metadata) if metadata.is_dir() => {
            return Some(left_alone(format!(
                "stale file {} is a directory; left alone",
                path.display()
            )));
        }
        Ok(metadata) if !metadata.is_file() => {
            return Some(left_alone(format!(
                "stale file {} is not a regular file; left alone",
                path.display()
            )));
        }
        _ => {}
    }
    let mut file = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_NOFOLLOW)
        .open(path)
    {
        Ok(file) => file,
        Err(error) if error.kind() == ErrorKind::NotFound => return None,
        Err(error) => return Some(left_alone(unreadable(path, &error))),
    };
    match file.metadata() {
        Ok(metadata) if metadata.is_dir() => Some(left_alone(format!(
            "stale file {} is a directory; left alone",
            path.display()
        ))),
        Ok(metadata) if !metadata.is_file() => Some(left_alone(format!(
            "stale file {} is not a regular file; left alone",
            path.display()
        ))),
        Ok(_) => Some(match read_pid(&mut file) {
            Ok(Some(pid)) => judge_pid_file(path, pid),
            Ok(None) => judge_lock_file(path, file),
            Err(error) => left_alone(unreadable(path, &error)),
        }),
        Err(error) => Some(left_alone(unreadable(path, &error))),
    }
}

fn unreadable(path: &Path, error: &std::io::Error) -> String {
    format!(
        "stale file {}: {}; left alone",
        path.display(),
        super::io_error_text(error)
    )
}

/// The pid on the first line, when it is one (surrounding blanks allowed).
fn read_pid(file: &mut File) -> std::io::Result<Option<Pid>> {
    let mut head = Vec::with_capacity(MAX_FIRST_LINE);
    file.take(MAX_FIRST_LINE as u64).read_to_end(&mut head)?;
    let first_line = head.split(|&byte| byte == b'\n').next().unwrap_or_default();
    Ok(std::str::from_utf8(first_line)
        .ok()
        .and_then(|line| line.trim().parse::<Pid>().ok())
        .filter(|&pid| pid > 0))
}

fn judge_pid_file(path: &Path, pid: Pid) -> StaleFile {
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Err(Errno::ESRCH) => remove(path, format!("pid {pid} is gone"), "file"),
        // EPERM: it exists, under another user.
        _ => StaleFile::Kept {
            path: path.to_path_buf(),
            reason: format!("pid {pid} is alive"),
        },
    }
}

fn judge_lock_file(path: &Path, file: File) -> StaleFile {
    // flock(2) and POSIX record locks do not see each other: LevelDB, RocksDB and s6 use
    // the latter. Either held means in use.
    if has_record_lock(&file) {
        return StaleFile::Kept {
            path: path.to_path_buf(),
            reason: "a process holds a record lock on it".to_string(),
        };
    }
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        // Removed while locked; the lock goes with the descriptor afterwards.
        Ok(_locked) => remove(path, "nobody held it".to_string(), "lock"),
        Err((_, Errno::EWOULDBLOCK)) => StaleFile::Kept {
            path: path.to_path_buf(),
            reason: "a process holds its lock".to_string(),
        },
        Err((_, errno)) => StaleFile::LeftAlone {
            path: path.to_path_buf(),
            warning: format!(
                "stale file {}: flock: {}; left alone",
                path.display(),
                errno.desc()
            ),
        },
    }
}

/// Whether another process holds a POSIX record lock anywhere in `file` (`F_GETLK`).
fn has_record_lock(file: &File) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: a zeroed flock is valid; whole file, write lock asked.
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = libc::F_WRLCK as libc::c_short;
    lock.l_whence = libc::SEEK_SET as libc::c_short;
    // SAFETY: fcntl reads and writes `lock`, which outlives the call.
    let result = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETLK, &mut lock) };
    result == 0 && lock.l_type != libc::F_UNLCK as libc::c_short
}

/// `kind` is `file` or `lock`, for the sentence.
fn remove(path: &Path, why: String, kind: &str) -> StaleFile {
    match std::fs::remove_file(path) {
        Ok(()) => StaleFile::Removed {
            path: path.to_path_buf(),
            reason: format!("removed stale {kind} {} ({why})", path.display()),
        },
        Err(error) => StaleFile::LeftAlone {
            path: path.to_path_buf(),
            warning: format!(
                "unable to remove stale {kind} {} ({why}): {}",
                path.display(),
                super::io_error_text(&error)
            ),
        },
    }
}

#[cfg(test)]
mod tests;
