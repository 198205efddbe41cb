//! The readiness pipe of one spawn (s6's notification-fd, DESIGN.md §4.1): the child gets
//! the write end as descriptor `target`, Phoenix keeps the read end, non-blocking, for the
//! event loop to watch. Both ends are close-on-exec, so neither reaches another child, and
//! the child receives the write end only as `target` (its dup2 clears the flag there).
//!
//! The child dup2's the write end onto `target` after its stdin and stdout are in place, so
//! the write end may not sit where those dup2's land: it is kept above 2. This file only
//! prepares descriptors before the spawn; it never reads the pipe.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};

use crate::core::SpawnError;

/// The lowest descriptor a service may be given: 0, 1 and 2 are its standard streams.
const LOWEST_TARGET: RawFd = 3;

pub(super) struct ReadinessPipe {
    /// Phoenix's end: non-blocking, close-on-exec.
    pub(super) read: OwnedFd,
    /// The child's end, close-on-exec until the child moves it to `target`.
    pub(super) write: OwnedFd,
    pub(super) target: RawFd,
}

impl ReadinessPipe {
    pub(super) fn create(target: RawFd) -> Result<ReadinessPipe, SpawnError> {
        if target < LOWEST_TARGET {
            return Err(SpawnError {
                pid: None,
                errno: libc::EINVAL,
                message: format!("readiness descriptor {target}: expected {LOWEST_TARGET} or more"),
            });
        }
        let failed = |what: &str, errno: Errno| SpawnError {
            pid: None,
            errno: errno as i32,
            message: format!("readiness pipe: {what}: {}", errno.desc()),
        };
        let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| failed("pipe", e))?;
        fcntl(&read, FcntlArg::F_SETFL(OFlag::O_NONBLOCK))
            .map_err(|e| failed("non-blocking", e))?;
        let write = if write.as_raw_fd() < LOWEST_TARGET {
            duplicate_from(&write, LOWEST_TARGET).map_err(|e| failed("moving", e))?
        } else {
            write
        };
        Ok(ReadinessPipe {
            read,
            write,
            target,
        })
    }
}

/// A close-on-exec copy of `fd` at the lowest free descriptor from `lowest` up.
fn duplicate_from(fd: &OwnedFd, lowest: RawFd) -> Result<OwnedFd, Errno> {
    let copy = fcntl(fd, FcntlArg::F_DUPFD_CLOEXEC(lowest))?;
    // SAFETY: fcntl has just created this descriptor; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(copy) })
}
