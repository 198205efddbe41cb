//! Captured pipes across a re-exec: handed to the next image beside the s6 logger pipes
//! (as `NAME/stdout`, `NAME/stderr`), taken back there and read again at once, since the
//! programs carried on still write to them.

use std::os::fd::{AsRawFd, RawFd};

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};

use crate::output::Stream;
use crate::unit::LogConfig;

use super::Captures;
use super::capture::Capture;

impl Captures {
    /// Every pipe, as (`NAME/stream`, read end, write end), for a re-exec to keep.
    pub fn kept_pipes(&self) -> Vec<(String, RawFd, RawFd)> {
        let mut kept = Vec::new();
        for (name, capture) in &self.services {
            for stream in Stream::BOTH {
                if let Some((read, write)) = capture.pipes.get(stream) {
                    let label = format!("{name}/{}", stream.name());
                    kept.push((label, read.as_raw_fd(), write.as_raw_fd()));
                }
            }
        }
        kept
    }

    /// A pipe the last image kept: read again at once (its program still writes to it),
    /// with the default config until `configure_adopted` gives the unit's.
    pub fn adopt(
        &mut self,
        name: &str,
        stream: &str,
        read: RawFd,
        write: RawFd,
        registry: &Registry,
    ) -> Result<(), String> {
        let stream = Stream::BOTH
            .into_iter()
            .find(|candidate| candidate.name() == stream)
            .ok_or_else(|| format!("unknown stream '{stream}'"))?;
        let ends = crate::sys::pipes::adopt_pipe(read, write)?;
        nix::fcntl::fcntl(
            &ends.0,
            nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
        )
        .map_err(|errno| errno.to_string())?;
        if !self.services.contains_key(name) {
            let slot = self
                .allocate_slot(name)
                .ok_or_else(|| "no capture slot left".to_string())?;
            let capture = Capture::new(name, slot, &LogConfig::default());
            self.services.insert(name.to_string(), capture);
        }
        let capture = self
            .services
            .get_mut(name)
            .ok_or_else(|| "no capture".to_string())?;
        let token = Token(self.first_token + 2 + 2 * capture.slot + stream.index());
        let fd = ends.0.as_raw_fd();
        registry
            .register(&mut SourceFd(&fd), token, Interest::READABLE)
            .map_err(|error| error.to_string())?;
        *capture.pipes.get_mut(stream) = Some(ends);
        Ok(())
    }

    /// The config of a program carried on from a re-exec, for its adopted pipes.
    pub fn configure_adopted(&mut self, name: &str, config: LogConfig, registry: &Registry) {
        if config.console && self.consoles.is_none() {
            self.open_consoles(registry);
        }
        if let Some(capture) = self.services.get_mut(name) {
            capture.configure(name, config);
        }
    }
}
