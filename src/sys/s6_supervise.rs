//! What s6's own tools look for in a service directory Phoenix supervises, so they work
//! under Phoenix as under s6-supervise: `supervise/lock`, held with a POSIX record lock for
//! as long as Phoenix runs (`s6-svok`, and `s6-notifyoncheck`'s "is a supervisor there?"),
//! and `event/`, the fifodir in which s6-supervise announces `u` (up), `U` (ready), `d`
//! (down) and `D` (really down) to whoever listens (`s6-svwait`, `s6-svlisten1`, the poller
//! of `s6-notifyoncheck`). Announcing never blocks: a listener's fifo is opened
//! non-blocking, and one nobody reads any more is removed, as s6 does.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// s6's mode for `event/`: setgid and sticky, writable by the group, so listeners of the
/// service's group can subscribe and none can remove another's fifo.
const FIFODIR_MODE: u32 = 0o3730;

/// The prefix of a listener's fifo in a fifodir (skalibs' ftrigr).
const LISTENER_PREFIX: &[u8] = b"ftrig1";

/// The service directories Phoenix holds, by service name.
#[derive(Default)]
pub struct S6Supervise {
    held: HashMap<String, Held>,
    /// Services whose directory could not be held: said once, not at every start.
    refused: std::collections::HashSet<String>,
}

struct Held {
    /// Kept open: closing any descriptor of the file would drop the POSIX lock.
    _lock: File,
    event_dir: PathBuf,
}

impl S6Supervise {
    /// Claims `dir` for `name` at its first start; a failure costs s6's tools, not the
    /// service, and is one warning.
    pub fn claim(&mut self, name: &str, dir: &Path) {
        if self.held.contains_key(name) {
            return;
        }
        match hold(dir) {
            Ok(held) => {
                self.refused.remove(name);
                self.held.insert(name.to_string(), held);
            }
            Err(_) if self.refused.contains(name) => {}
            Err(error) => {
                self.refused.insert(name.to_string());
                log::warn!(
                    "{name}: s6 tools will not see Phoenix as its supervisor: {}: {}",
                    dir.display(),
                    super::io_error_text(&error)
                );
            }
        }
    }

    /// Tells the listeners of `name`'s `event/` fifodir what happened.
    pub fn announce(&self, name: &str, events: &str) {
        if events.is_empty() {
            return;
        }
        if let Some(held) = self.held.get(name) {
            notify_listeners(&held.event_dir, events.as_bytes());
        }
    }
}

fn hold(dir: &Path) -> io::Result<Held> {
    let supervise = dir.join("supervise");
    fs::create_dir_all(&supervise)?;
    let lock = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o644)
        .open(supervise.join("lock"))?;
    lock_whole_file(&lock)?;
    let event_dir = dir.join("event");
    match fs::create_dir(&event_dir) {
        Err(error) if error.kind() != io::ErrorKind::AlreadyExists => return Err(error),
        // Never through a link: the mode is for this directory only.
        _ if !fs::symlink_metadata(&event_dir)?.is_dir() => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "event exists and is not a directory",
            ));
        }
        _ => fs::set_permissions(&event_dir, fs::Permissions::from_mode(FIFODIR_MODE))?,
    }
    Ok(Held {
        _lock: lock,
        event_dir,
    })
}

/// A write lock over the whole file (`fcntl(F_SETLK)`), which is what s6 tests for.
fn lock_whole_file(file: &File) -> io::Result<()> {
    // SAFETY: a zeroed flock is a valid value; the fields that matter are set below.
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = libc::F_WRLCK as libc::c_short;
    lock.l_whence = libc::SEEK_SET as libc::c_short;
    // SAFETY: fcntl reads `lock`, which lives across the call.
    if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLK, &lock) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Writes `events` into every listener's fifo; a fifo without a reader is stale.
fn notify_listeners(event_dir: &Path, events: &[u8]) {
    let Ok(entries) = fs::read_dir(event_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let is_listener = entry.file_name().as_bytes().starts_with(LISTENER_PREFIX)
            && entry.file_type().is_ok_and(|kind| kind.is_fifo());
        if !is_listener {
            continue;
        }
        let path = entry.path();
        match open_nonblocking_for_writing(&path) {
            Ok(mut fifo) => {
                let _ = fifo.write_all(events);
            }
            Err(error) if error.raw_os_error() == Some(libc::ENXIO) => {
                let _ = fs::remove_file(&path);
            }
            Err(_) => {}
        }
    }
}

/// ENXIO when nobody has the fifo open for reading. A link swapped in for the fifo is not
/// followed, and what was opened must still be a fifo.
fn open_nonblocking_for_writing(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_NOCTTY)
        .open(path)?;
    if !file.metadata()?.file_type().is_fifo() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a fifo"));
    }
    Ok(file)
}

/// What s6-supervise would announce for a state change: `u` when the program starts, `U`
/// once it is ready, `dD` once it is down.
pub fn events_for(from: &str, to: &str) -> &'static str {
    let alive = |state: &str| matches!(state, "starting" | "running" | "recovering" | "stopping");
    match (from, to) {
        (_, "starting") if from != "starting" => "u",
        ("starting", "running" | "recovering") => "U",
        (from, to) if alive(from) && !alive(to) => "dD",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::CString;

    use super::*;

    #[test]
    fn state_changes_become_s6_events() {
        for (from, to, events) in [
            ("down", "starting", "u"),
            ("backoff", "starting", "u"),
            ("starting", "running", "U"),
            ("running", "backoff", "dD"),
            ("stopping", "down", "dD"),
            ("starting", "backoff", "dD"),
            ("running", "stopping", ""),
            ("cooldown", "down", ""),
        ] {
            assert_eq!(events_for(from, to), events, "{from} → {to}");
        }
    }

    #[test]
    fn a_held_directory_is_locked_and_announces_to_its_listeners() {
        let dir = tempfile::tempdir().unwrap();
        let mut s6 = S6Supervise::default();
        s6.claim("db", dir.path());
        let event_dir = dir.path().join("event");
        let mode = fs::metadata(&event_dir).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, FIFODIR_MODE);
        // Another process (POSIX locks are per process) finds the lock taken.
        let lock = dir.path().join("supervise/lock");
        let probe = std::process::Command::new("python3")
            .args(["-c", "import fcntl,sys\nf=open(sys.argv[1],'r+')\ntry:\n fcntl.lockf(f, fcntl.LOCK_EX|fcntl.LOCK_NB)\n sys.exit(0)\nexcept OSError:\n sys.exit(9)"])
            .arg(&lock)
            .status()
            .unwrap();
        assert_eq!(probe.code(), Some(9), "the lock is held");
        // A listener's fifo receives the events; a stale one is removed.
        let listener = event_dir.join("ftrig1listener");
        let stale = event_dir.join("ftrig1stale");
        for fifo in [&listener, &stale] {
            let path = CString::new(fifo.as_os_str().as_bytes()).unwrap();
            // SAFETY: a valid C string and a mode.
            assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
        }
        let reader = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&listener)
            .unwrap();
        s6.announce("db", "dD");
        let mut got = String::new();
        std::io::Read::read_to_string(&mut &reader, &mut got).ok();
        assert_eq!(got, "dD");
        assert!(!stale.exists(), "a fifo nobody reads is removed");
    }
}
