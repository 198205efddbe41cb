//! Readiness descriptors as an input source of the loop (s6's notification-fd, DESIGN.md
//! §4.1): the read end of each spawn's readiness pipe, registered under a token of this
//! source's range. A newline on it becomes `Event::Notified { messages: [Ready] }` for that
//! spawn, and the pipe is done: closed and deregistered, as s6 does. End-of-file without a
//! newline (the service died, or closed the descriptor) closes it silently.
//!
//! At most one pipe per service is watched: a new spawn of the service replaces the last
//! one's (its process is gone or going, and the core listens only to the latest spawn).
//! It never blocks or grows: reads are non-blocking and bounded per wake-up (a service
//! that writes without a newline is read on in the next round), and every pipe is closed
//! when it is done, replaced, or fails. What readiness means is the core's business.

use std::collections::{HashMap, VecDeque};
use std::io::{ErrorKind, Read};
use std::os::fd::OwnedFd;

use mio::unix::pipe::Receiver;
use mio::{Interest, Registry, Token};

use crate::core::{Event, SpawnToken};
use crate::notify::NotifyMessage;
use crate::sys::notify_socket::Reading;
use crate::token_slots::TokenSlots;

/// Bytes read from one pipe in one wake-up.
const BUDGET: usize = 512;

struct Watched {
    service: String,
    spawn: SpawnToken,
    receiver: Receiver,
}

pub struct ReadinessPipes {
    slots: TokenSlots<Watched>,
    token_by_service: HashMap<String, Token>,
}

/// What one read came to.
enum Outcome {
    /// A newline: the service is ready.
    Line,
    /// End of file, or a read error: nothing more will come.
    Closed,
    /// Nothing more to read now.
    Empty,
    /// Bytes without a newline: read on.
    Partial,
}

impl ReadinessPipes {
    /// Pipes use the tokens `first_token .. first_token + capacity`.
    pub fn new(first_token: usize, capacity: usize) -> ReadinessPipes {
        ReadinessPipes {
            slots: TokenSlots::new(first_token, capacity),
            token_by_service: HashMap::new(),
        }
    }

    pub fn owns(&self, token: Token) -> bool {
        self.slots.owns(token)
    }

    #[cfg(test)]
    pub fn watched(&self) -> usize {
        self.token_by_service.len()
    }

    /// Watches `read_end`, the readiness pipe of spawn `spawn` of `service`, instead of the
    /// service's previous one. A pipe that cannot be watched is closed, with a warning: the
    /// service will not be seen ready this way.
    pub fn watch(
        &mut self,
        service: &str,
        spawn: SpawnToken,
        read_end: OwnedFd,
        registry: &Registry,
    ) {
        if let Some(token) = self.token_by_service.get(service).copied() {
            self.release(token, registry);
        }
        let Some(token) = self.slots.vacant() else {
            log::warn!(
                "{service}: readiness descriptor not watched: too many (the limit is {})",
                self.slots.capacity()
            );
            return;
        };
        let mut receiver = Receiver::from(read_end);
        if let Err(error) = registry.register(&mut receiver, token, Interest::READABLE) {
            log::warn!(
                "{service}: readiness descriptor not watched: registering: {}",
                crate::sys::io_error_text(&error)
            );
            self.slots.abandon(token);
            return;
        }
        let watched = Watched {
            service: service.to_string(),
            spawn,
            receiver,
        };
        self.slots.fill(token, watched);
        self.token_by_service.insert(service.to_string(), token);
    }

    /// Reads the pipe behind `token`; a line queues `Notified` with `Ready` in `events`.
    /// `BudgetSpent` asks to be served again without waiting for readiness.
    pub fn handle(
        &mut self,
        token: Token,
        registry: &Registry,
        events: &mut VecDeque<Event>,
    ) -> Reading {
        let Some(watched) = self.slots.get_mut(token) else {
            return Reading::Drained;
        };
        let mut buffer = [0u8; BUDGET];
        let mut budget = BUDGET;
        while budget > 0 {
            match read_some(watched, buffer.get_mut(..budget).unwrap_or_default()) {
                (Outcome::Partial, count) => budget = budget.saturating_sub(count),
                (Outcome::Empty, _) => return Reading::Drained,
                (Outcome::Line, _) => {
                    events.push_back(Event::Notified {
                        token: watched.spawn,
                        messages: vec![NotifyMessage::Ready],
                    });
                    self.release(token, registry);
                    return Reading::Drained;
                }
                (Outcome::Closed, _) => {
                    self.release(token, registry);
                    return Reading::Drained;
                }
            }
        }
        Reading::BudgetSpent
    }

    /// Deregisters and closes the pipe behind `token`.
    fn release(&mut self, token: Token, registry: &Registry) {
        let Some(mut watched) = self.slots.take(token) else {
            return;
        };
        let _ = registry.deregister(&mut watched.receiver);
        self.token_by_service.remove(&watched.service);
    }
}

/// One read into `buffer`, and how many bytes it took.
fn read_some(watched: &mut Watched, buffer: &mut [u8]) -> (Outcome, usize) {
    let result = loop {
        match watched.receiver.read(buffer) {
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            result => break result,
        }
    };
    match result {
        Ok(0) => (Outcome::Closed, 0),
        Ok(count)
            if buffer
                .get(..count)
                .is_some_and(|read| read.contains(&b'\n')) =>
        {
            (Outcome::Line, count)
        }
        Ok(count) => (Outcome::Partial, count),
        Err(error) if error.kind() == ErrorKind::WouldBlock => (Outcome::Empty, 0),
        Err(error) => {
            log::warn!(
                "{}: readiness descriptor: {}; no longer watched",
                watched.service,
                crate::sys::io_error_text(&error)
            );
            (Outcome::Closed, 0)
        }
    }
}

#[cfg(test)]
mod tests;
