//! Captured output (DESIGN.md §4.6), the shell's side: the two pipes of each captured
//! service, created at its first start and held, both ends, for as long as Phoenix runs
//! (a restart reuses them, so what a dying program wrote is still read after its
//! death); reading them without blocking, at most `READ_BUDGET` bytes a pipe per
//! wake-up; and handing each line to the file, the console queue and the ring. When the
//! program is reaped its pipes are read to the end and an unfinished last line is ended,
//! before the core hears of the exit, so the death tally gets the last lines.
//!
//! Tokens: the console's stdout and stderr are `first` and `first + 1`; service slot `n`
//! reads its stdout at `first + 2 + 2n` and its stderr at `first + 3 + 2n`.

mod adopted;
mod capture;
mod serving;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::time::SystemTime;

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};
use nix::errno::Errno;

use crate::control::server::{ClientId, ControlServer};
use crate::core::Pid;
use crate::output::outbox::Outbox;
use crate::output::ring::MIN_LINES;
use crate::output::{Line, PerStream, Stream};
use crate::sys::console::{ConsoleSink, Written};
use crate::sys::notify_socket::Reading;
use crate::sys::spawn::OutputEnds;
use crate::unit::LogConfig;
use capture::Capture;

/// Bytes read from one pipe per wake-up before the other sources get their turn.
const READ_BUDGET: usize = 256 * 1024;
const READ_CHUNK: usize = 128 * 1024;
/// Console bytes queued per service and stream; beyond, the oldest lines are dropped.
const CONSOLE_BUFFER: usize = 256 * 1024;
/// What is read from a reaped program's pipes at most (its descendants may still write).
const DRAIN_AT_EXIT: usize = 4 << 20;
/// Lines in one `writev` to the console (under `IOV_MAX`).
const WRITEV_LINES: usize = 512;

pub struct Captures {
    first_token: usize,
    max_services: usize,
    services: HashMap<String, Capture>,
    /// Slot n: the service whose pipes use its tokens.
    slots: Vec<Option<String>>,
    pids: HashMap<Pid, String>,
    /// Phoenix's stdout and stderr, opened at the first capture that uses them.
    consoles: Option<PerStream<ConsoleSink>>,
    /// The console stream's reader is gone: its lines are dropped (and counted).
    console_broken: PerStream<bool>,
    scratch: Vec<u8>,
    /// `logs --follow` clients, by service.
    followers: Vec<(ClientId, String)>,
    /// Dropped lines not yet told to the core.
    dropped: BTreeMap<String, u64>,
}

impl Captures {
    /// Tokens from `first_token`, for at most `max_services` captured services.
    pub fn new(first_token: usize, max_services: usize) -> Captures {
        Captures {
            first_token,
            max_services,
            services: HashMap::new(),
            slots: Vec::new(),
            pids: HashMap::new(),
            consoles: None,
            console_broken: PerStream::default(),
            // Allocated at the first read: tini mode and units without capture never read.
            scratch: Vec::new(),
            followers: Vec::new(),
            dropped: BTreeMap::new(),
        }
    }

    pub fn owns(&self, token: Token) -> bool {
        token
            .0
            .checked_sub(self.first_token)
            .is_some_and(|offset| offset < 2 + 2 * self.max_services)
    }

    /// The write ends a start of `name` gets, its pipes made on first use; `stdout` is
    /// false when an s6 logger pipe takes the service's stdout. `None`: nothing captured.
    pub fn prepare(
        &mut self,
        name: &str,
        config: LogConfig,
        stdout: bool,
        registry: &Registry,
    ) -> Option<OutputEnds> {
        if config.console && self.consoles.is_none() {
            self.open_consoles(registry);
        }
        if !self.services.contains_key(name) {
            let slot = self.allocate_slot(name)?;
            self.services
                .insert(name.to_string(), Capture::new(name, slot, &config));
        }
        let capture = self.services.get_mut(name)?;
        capture.configure(name, config);
        let mut ends = OutputEnds::default();
        for stream in Stream::BOTH {
            if stream == Stream::Stdout && !stdout {
                continue;
            }
            let token = Token(self.first_token + 2 + 2 * capture.slot + stream.index());
            let end = capture.pipe(name, stream, token, registry);
            match stream {
                Stream::Stdout => ends.stdout = end,
                Stream::Stderr => ends.stderr = end,
            }
        }
        Some(ends)
    }

    /// The program of `name` is `pid`: its reaping ends its unfinished lines.
    pub fn spawned(&mut self, name: &str, pid: Pid) {
        if let Some(capture) = self.services.get_mut(name) {
            capture.run_start = capture.ring.pushed();
            self.pids.insert(pid, name.to_string());
        }
    }

    /// Serves a readiness event of a pipe or of the console.
    pub fn handle(
        &mut self,
        token: Token,
        now: SystemTime,
        server: Option<&mut ControlServer>,
        registry: &Registry,
    ) -> Reading {
        let Some(offset) = token.0.checked_sub(self.first_token) else {
            return Reading::Drained;
        };
        let mut reading = Reading::Drained;
        if let Some(pipe) = offset.checked_sub(2) {
            let stream = if pipe % 2 == 0 {
                Stream::Stdout
            } else {
                Stream::Stderr
            };
            if let Some(Some(name)) = self.slots.get(pipe / 2).cloned() {
                reading = self.read_pipe(&name, stream, READ_BUDGET, now, server, registry);
            }
        }
        self.flush_console();
        reading
    }

    /// A reaped child: when it was a captured program, its pipes read to the end and its
    /// unfinished lines ended; returns the service and its last lines.
    pub fn exited(
        &mut self,
        pid: Pid,
        now: SystemTime,
        mut server: Option<&mut ControlServer>,
        registry: &Registry,
    ) -> Option<(String, Vec<String>)> {
        let name = self.pids.remove(&pid)?;
        for stream in Stream::BOTH {
            self.read_pipe(
                &name,
                stream,
                DRAIN_AT_EXIT,
                now,
                server.as_deref_mut(),
                registry,
            );
            let rest = self
                .services
                .get_mut(&name)
                .and_then(|capture| capture.splitters.get_mut(stream).finish());
            if let Some(rest) = rest {
                self.deliver(
                    &name,
                    stream,
                    vec![Cow::Owned(rest)],
                    now,
                    server.as_deref_mut(),
                    registry,
                );
            }
        }
        self.flush_console();
        let capture = self.services.get(&name)?;
        let lines = capture
            .ring
            .last_since(capture.run_start, MIN_LINES)
            .map(Line::text)
            .collect();
        Some((name, lines))
    }

    /// Lines dropped since the last call, by service.
    pub fn take_dropped(&mut self) -> BTreeMap<String, u64> {
        std::mem::take(&mut self.dropped)
    }

    fn allocate_slot(&mut self, name: &str) -> Option<usize> {
        let slot = match self.slots.iter().position(Option::is_none) {
            Some(free) => free,
            None if self.slots.len() < self.max_services => {
                self.slots.push(None);
                self.slots.len() - 1
            }
            None => {
                log::warn!(
                    "{name}: output not captured: {} services are captured already",
                    self.max_services
                );
                return None;
            }
        };
        if let Some(entry) = self.slots.get_mut(slot) {
            *entry = Some(name.to_string());
        }
        Some(slot)
    }

    fn open_consoles(&mut self, registry: &Registry) {
        let consoles = PerStream::new(ConsoleSink::open(1), ConsoleSink::open(2));
        for stream in Stream::BOTH {
            let fd = consoles.get(stream).raw_fd();
            let token = Token(self.first_token + stream.index());
            // A regular file cannot be watched, and never needs to be.
            let _ = registry.register(&mut SourceFd(&fd), token, Interest::WRITABLE);
        }
        self.consoles = Some(consoles);
    }

    /// Reads up to `budget` bytes of one pipe and delivers the lines they complete.
    fn read_pipe(
        &mut self,
        name: &str,
        stream: Stream,
        budget: usize,
        now: SystemTime,
        mut server: Option<&mut ControlServer>,
        registry: &Registry,
    ) -> Reading {
        let mut total = 0;
        while total < budget {
            let Some(capture) = self.services.get_mut(name) else {
                return Reading::Drained;
            };
            let Some((read, _)) = capture.pipes.get(stream) else {
                return Reading::Drained;
            };
            let mut scratch = std::mem::take(&mut self.scratch);
            if scratch.is_empty() {
                scratch = vec![0; READ_CHUNK];
            }
            let read = nix::unistd::read(read, &mut scratch);
            let count = match read {
                Ok(count) if count > 0 => count,
                Err(Errno::EINTR) => {
                    self.scratch = scratch;
                    continue;
                }
                Ok(_) | Err(Errno::EAGAIN) => {
                    self.scratch = scratch;
                    return Reading::Drained;
                }
                Err(errno) => {
                    self.scratch = scratch;
                    log::warn!("{name}: reading its {}: {errno}", stream.name());
                    return Reading::Drained;
                }
            };
            total += count;
            let mut lines = Vec::new();
            let bytes = scratch.get(..count).unwrap_or_default();
            capture.splitters.get_mut(stream).push(bytes, &mut lines);
            self.deliver(name, stream, lines, now, server.as_deref_mut(), registry);
            self.scratch = scratch;
        }
        Reading::BudgetSpent
    }

    /// Hands lines to the followers, the file, the console queue and the ring.
    fn deliver(
        &mut self,
        name: &str,
        stream: Stream,
        lines: Vec<Cow<'_, [u8]>>,
        now: SystemTime,
        server: Option<&mut ControlServer>,
        registry: &Registry,
    ) {
        if lines.is_empty() {
            return;
        }
        if let Some(server) = server {
            self.send_to_followers(name, stream, &lines, now, server, registry);
        }
        let console_ok = !*self.console_broken.get(stream);
        let Some(capture) = self.services.get_mut(name) else {
            return;
        };
        let dropped = capture.take(stream, lines, now, console_ok);
        if dropped > 0 {
            *self.dropped.entry(name.to_string()).or_default() += dropped;
        }
    }

    /// Writes queued console lines until the console takes no more.
    fn flush_console(&mut self) {
        let Some(consoles) = &self.consoles else {
            return;
        };
        for stream in Stream::BOTH {
            for (name, capture) in &mut self.services {
                let outbox = capture.outboxes.get_mut(stream);
                if *self.console_broken.get(stream) {
                    let dropped = outbox.clear();
                    if dropped > 0 {
                        *self.dropped.entry(name.clone()).or_default() += dropped;
                    }
                    continue;
                }
                match write_outbox(consoles.get(stream), outbox) {
                    Written::Bytes(_) => {}
                    Written::Full => break,
                    Written::Broken(errno) => {
                        log::warn!(
                            "captured output: Phoenix's {} is unusable ({errno}); its lines are dropped from now on",
                            stream.name()
                        );
                        *self.console_broken.get_mut(stream) = true;
                    }
                }
            }
        }
    }
}

/// Writes `outbox` until it is empty (`Bytes`) or the console stops taking it.
fn write_outbox(console: &ConsoleSink, outbox: &mut Outbox) -> Written {
    while !outbox.is_empty() {
        match console.write(&outbox.slices(WRITEV_LINES)) {
            Written::Bytes(0) => return Written::Full,
            Written::Bytes(count) => outbox.consume(count),
            other => return other,
        }
    }
    Written::Bytes(0)
}
