//! The pipes between s6-style services and their `log/` loggers. Phoenix creates each pipe
//! once and holds both ends for as long as it runs, so a restarting service never meets a
//! closed reader (EPIPE) and a restarting logger never sees end-of-file: the pipe survives
//! restarts of either side, as s6-svscan's does.

use std::collections::HashMap;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::spawn::PipeEnds;

#[derive(Default)]
pub struct LoggerPipes {
    pipes: HashMap<String, (OwnedFd, OwnedFd)>,
}

impl PipeEnds for LoggerPipes {
    fn pipe(&mut self, name: &str) -> Option<(RawFd, RawFd)> {
        if !self.pipes.contains_key(name) {
            match nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC) {
                Ok(ends) => {
                    self.pipes.insert(name.to_string(), ends);
                }
                Err(error) => {
                    log::warn!("{name}: unable to create the logger pipe: {error}");
                    return None;
                }
            }
        }
        self.pipes
            .get(name)
            .map(|(read, write)| (read.as_raw_fd(), write.as_raw_fd()))
    }
}

impl LoggerPipes {
    /// Every pipe: (service, read end, write end), to keep across a re-exec.
    pub fn ends(&self) -> Vec<(String, RawFd, RawFd)> {
        self.pipes
            .iter()
            .map(|(name, (read, write))| (name.clone(), read.as_raw_fd(), write.as_raw_fd()))
            .collect()
    }

    /// Takes back a pipe the last image kept open across exec: both ends must be FIFOs,
    /// and are close-on-exec again from now on.
    pub fn adopt(&mut self, name: &str, read: RawFd, write: RawFd) -> Result<(), String> {
        let ends = adopt_pipe(read, write)?;
        self.pipes.insert(name.to_string(), ends);
        Ok(())
    }
}

/// Takes back a pipe the last image kept open across exec (an s6 logger's, or a captured
/// service's output): both ends must be FIFOs, and are close-on-exec again from now on.
pub fn adopt_pipe(read: RawFd, write: RawFd) -> Result<(OwnedFd, OwnedFd), String> {
    for fd in [read, write] {
        let stat = nix::sys::stat::fstat(unsafe_borrow(fd))
            .map_err(|error| format!("descriptor {fd}: {error}"))?;
        if stat.st_mode & libc::S_IFMT != libc::S_IFIFO {
            return Err(format!("descriptor {fd} is not a pipe"));
        }
    }
    // SAFETY: both descriptors were handed to this image by the last one, which kept
    // them open for exactly this; they are owned here from now on.
    let ends = unsafe { (OwnedFd::from_raw_fd(read), OwnedFd::from_raw_fd(write)) };
    for end in [&ends.0, &ends.1] {
        let _ = nix::fcntl::fcntl(
            end,
            nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
        );
    }
    Ok(ends)
}

/// A borrowed descriptor for a number not yet owned (only for the fstat that checks it).
fn unsafe_borrow(fd: RawFd) -> std::os::fd::BorrowedFd<'static> {
    // SAFETY: used only for an fstat right away; a closed number fails with EBADF.
    unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) }
}

/// No pipes at all (tini mode and tests).
pub struct NoPipes;

impl PipeEnds for NoPipes {
    fn pipe(&mut self, _name: &str) -> Option<(RawFd, RawFd)> {
        None
    }
}
