//! One captured service's state: its two pipes, the lines they are cut into, its ring,
//! its console queues and its file.

use std::borrow::Cow;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::SystemTime;

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};

use crate::control::event_log::format_rfc3339;
use crate::output::lines::LineSplitter;
use crate::output::outbox::Outbox;
use crate::output::ring::Ring;
use crate::output::{Line, PerStream, Stream};
use crate::sys::log_file::LogFile;
use crate::unit::LogConfig;

use super::CONSOLE_BUFFER;

/// The kernel buffer of each capture pipe.
const PIPE_SIZE: i32 = 256 * 1024;

pub(super) struct Capture {
    pub(super) slot: usize,
    pub(super) config: LogConfig,
    /// (read end, non-blocking; write end, given to each start).
    pub(super) pipes: PerStream<Option<(OwnedFd, OwnedFd)>>,
    pub(super) splitters: PerStream<LineSplitter>,
    pub(super) ring: Ring,
    /// The ring's mark at the last start: the death tally shows only that run's lines.
    pub(super) run_start: u64,
    pub(super) outboxes: PerStream<Outbox>,
    pub(super) file: Option<LogFile>,
}

impl Capture {
    pub(super) fn new(name: &str, slot: usize, config: &LogConfig) -> Capture {
        Capture {
            slot,
            config: config.clone(),
            pipes: PerStream::default(),
            splitters: PerStream::default(),
            ring: Ring::new(config.ring),
            run_start: 0,
            outboxes: PerStream::new(
                Outbox::new(name, CONSOLE_BUFFER),
                Outbox::new(name, CONSOLE_BUFFER),
            ),
            file: None,
        }
    }

    /// The config of this start (a reload may have changed it).
    pub(super) fn configure(&mut self, name: &str, config: LogConfig) {
        self.ring.set_capacity(config.ring);
        let same_file = self.file.as_ref().map(LogFile::path) == config.file.as_deref()
            && self.config.max_size == config.max_size
            && self.config.keep == config.keep;
        if !same_file {
            self.file = config
                .file
                .clone()
                .map(|path| LogFile::new(name, path, config.max_size, config.keep));
        }
        self.config = config;
    }

    /// The write end of `stream`'s pipe, made and watched on first use.
    pub(super) fn pipe(
        &mut self,
        name: &str,
        stream: Stream,
        token: Token,
        registry: &Registry,
    ) -> Option<std::os::fd::RawFd> {
        if self.pipes.get(stream).is_none() {
            let flags = nix::fcntl::OFlag::O_CLOEXEC;
            let made = nix::unistd::pipe2(flags)
                .map_err(std::io::Error::from)
                .and_then(|(read, write)| {
                    nix::fcntl::fcntl(
                        &read,
                        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
                    )?;
                    // Fewer, larger reads when the service outruns Phoenix; a failure (a
                    // lowered pipe-max-size) leaves the default 64 KiB.
                    let _ = nix::fcntl::fcntl(&read, nix::fcntl::FcntlArg::F_SETPIPE_SZ(PIPE_SIZE));
                    let fd = read.as_raw_fd();
                    registry.register(&mut SourceFd(&fd), token, Interest::READABLE)?;
                    Ok((read, write))
                });
            match made {
                Ok(ends) => *self.pipes.get_mut(stream) = Some(ends),
                Err(error) => {
                    log::warn!(
                        "{name}: unable to capture its {} (it is inherited): {error}",
                        stream.name()
                    );
                    return None;
                }
            }
        }
        self.pipes
            .get(stream)
            .as_ref()
            .map(|(_, write)| write.as_raw_fd())
    }

    /// One batch of lines of `stream`; returns how many were dropped somewhere.
    pub(super) fn take(
        &mut self,
        stream: Stream,
        lines: Vec<Cow<'_, [u8]>>,
        now: SystemTime,
        console_ok: bool,
    ) -> u64 {
        let mut dropped = 0;
        if let Some(file) = &mut self.file {
            let stamp = self.config.timestamps.then(|| format_rfc3339(now));
            dropped += file.append(stamp.as_deref(), &lines);
        }
        if self.config.console {
            for line in &lines {
                if console_ok {
                    dropped += self.outboxes.get_mut(stream).push(line);
                } else {
                    dropped += 1;
                }
            }
        }
        // Only the lines the ring will still hold are copied into it (a flood keeps few).
        let skipped = lines.len() - self.ring.survivors(lines.iter().map(|line| line.len()));
        self.ring.skip(skipped);
        for line in lines.into_iter().skip(skipped) {
            self.ring.push(Line {
                time: now,
                stream,
                bytes: line.into_owned(),
            });
        }
        dropped
    }
}
