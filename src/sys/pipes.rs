//! The pipes between s6-style services and their `log/` loggers. Phoenix creates each pipe
//! once and holds both ends for as long as it runs, so a restarting service never meets a
//! closed reader (EPIPE) and a restarting logger never sees end-of-file: the pipe survives
//! restarts of either side, as s6-svscan's does.

use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

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

/// No pipes at all (tini mode and tests).
pub struct NoPipes;

impl PipeEnds for NoPipes {
    fn pipe(&mut self, _name: &str) -> Option<(RawFd, RawFd)> {
        None
    }
}
