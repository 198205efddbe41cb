//! The notify sockets as an input source of the loop (DESIGN.md §4.1): one
//! [`NotifySocket`] per service, bound at `<runtime-dir>/notify/NAME.sock` at the first
//! spawn that asks for one and kept until Phoenix exits (dropping one removes its file),
//! registered under a token of this source's range; readable sockets become
//! `Event::Notified` with the token of the service's latest spawn.
//!
//! It believes a datagram only from a process of that spawn: the sender the kernel names
//! must be in the process group or session the spawned process leads. The check reads
//! `/proc` and so must come while the sender can still be found — before the loop drains
//! `waitpid` in the same wake-up (an orphaned sender is Phoenix's to reap), and before
//! the datagram is dropped (that closes `systemd-notify`'s barrier pipe and lets it exit).
//!
//! It decides nothing about services: what a message means is the core's business. It
//! never blocks (the sockets are non-blocking, a wake-up reads at most a budget per socket
//! and asks to be served again) and logs a failure to bind once per service, not per spawn.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};

use crate::core::{Event, Pid, SpawnToken};
use crate::notify::parse_datagram;
use crate::sys::notify_socket::{Datagram, NotifySocket, Reading, sender_belongs_to};
use crate::token_slots::TokenSlots;

/// Datagrams read from one socket in one wake-up; the rest waits for the next round.
const BUDGET: usize = 64;

struct ServiceSocket {
    service: String,
    socket: NotifySocket,
    /// The latest spawn of the service and the pid it started (its group and session).
    spawn: Option<(SpawnToken, Pid)>,
}

pub struct NotifySockets {
    /// `<runtime-dir>/notify`; without one (no control socket, tini mode) there are none.
    directory: Option<PathBuf>,
    sockets: TokenSlots<ServiceSocket>,
    token_by_service: HashMap<String, Token>,
    /// The last failure to bind, per service, so that a persisting one is logged once.
    failures: HashMap<String, String>,
}

impl NotifySockets {
    /// Sockets go in `directory` from now on, if they had nowhere to go.
    pub fn set_directory(&mut self, directory: PathBuf) {
        self.directory.get_or_insert(directory);
    }

    /// Sockets in `directory`, under the tokens `first_token .. first_token + capacity`.
    pub fn new(directory: Option<PathBuf>, first_token: usize, capacity: usize) -> NotifySockets {
        NotifySockets {
            directory,
            sockets: TokenSlots::new(first_token, capacity),
            token_by_service: HashMap::new(),
            failures: HashMap::new(),
        }
    }

    pub fn owns(&self, token: Token) -> bool {
        self.sockets.owns(token)
    }

    /// Called before every spawn of `service`: the previous spawn speaks for it no more.
    /// With `wanted`, returns the socket's path for `NOTIFY_SOCKET`, binding it first if
    /// this is the service's first; `None` when it cannot be had (logged once).
    pub fn prepare(&mut self, service: &str, wanted: bool, registry: &Registry) -> Option<PathBuf> {
        if let Some(entry) = self.entry_mut(service) {
            entry.spawn = None;
        }
        if !wanted {
            return None;
        }
        if let Some(entry) = self.entry_mut(service) {
            return Some(entry.socket.path().to_path_buf());
        }
        match self.bind(service, registry) {
            Ok(path) => {
                self.failures.remove(service);
                Some(path)
            }
            Err(message) => {
                if self.failures.get(service) != Some(&message) {
                    log::warn!("{service}: no NOTIFY_SOCKET: {message}");
                    self.failures.insert(service.to_string(), message);
                }
                None
            }
        }
    }

    /// The spawn `token` of `service` started `pid`: its processes may speak from now on.
    pub fn spawned(&mut self, service: &str, token: SpawnToken, pid: Pid) {
        if let Some(entry) = self.entry_mut(service) {
            entry.spawn = Some((token, pid));
        }
    }

    /// Reads the socket behind `token`: every believed datagram with a message becomes
    /// `Event::Notified` in `events`. `BudgetSpent` asks to be served again without waiting
    /// for readiness, which is edge-triggered.
    pub fn handle(&mut self, token: Token, events: &mut VecDeque<Event>) -> Reading {
        let Some(entry) = self.sockets.get(token) else {
            return Reading::Drained;
        };
        let Some((spawn, group)) = entry.spawn else {
            // Read and drop: nothing of the service runs to speak for it.
            let mut ignore = |datagram: &Datagram| {
                log::debug!(
                    "{}: notify datagram from pid {} ignored: no process of it is running",
                    entry.service,
                    datagram.sender_pid
                );
                false
            };
            return entry
                .socket
                .receive_all(&mut Vec::new(), BUDGET, &mut ignore);
        };
        let mut believe = |datagram: &Datagram| {
            let sender = datagram.sender_pid;
            let belongs = sender_belongs_to(sender, group);
            if !belongs {
                log::debug!(
                    "{}: notify datagram from pid {sender} rejected: not in its process group or session {group}",
                    entry.service
                );
            }
            belongs
        };
        let mut datagrams = Vec::new();
        let reading = entry
            .socket
            .receive_all(&mut datagrams, BUDGET, &mut believe);
        for datagram in &datagrams {
            let messages = parse_datagram(&datagram.bytes);
            if !messages.is_empty() {
                events.push_back(Event::Notified {
                    token: spawn,
                    messages,
                });
            }
        }
        reading
    }

    fn bind(&mut self, service: &str, registry: &Registry) -> Result<PathBuf, String> {
        let Some(directory) = &self.directory else {
            return Err("Phoenix has no runtime directory (no control socket)".to_string());
        };
        let Some(token) = self.sockets.vacant() else {
            return Err(format!(
                "too many notify sockets (the limit is {})",
                self.sockets.capacity()
            ));
        };
        let path = socket_path(directory, service);
        let bound = NotifySocket::bind(&path)
            .map_err(|error| error.to_string())
            .and_then(|socket| {
                registry
                    .register(&mut SourceFd(&socket.raw_fd()), token, Interest::READABLE)
                    .map(|()| socket)
                    .map_err(|error| {
                        format!(
                            "notify socket {}: registering: {}",
                            path.display(),
                            crate::sys::io_error_text(&error)
                        )
                    })
            });
        let socket = match bound {
            Ok(socket) => socket,
            Err(error) => {
                self.sockets.abandon(token);
                return Err(error);
            }
        };
        log::debug!("{service}: notify socket {}", path.display());
        let entry = ServiceSocket {
            service: service.to_string(),
            socket,
            spawn: None,
        };
        self.sockets.fill(token, entry);
        self.token_by_service.insert(service.to_string(), token);
        Ok(path)
    }

    fn entry_mut(&mut self, service: &str) -> Option<&mut ServiceSocket> {
        let token = *self.token_by_service.get(service)?;
        self.sockets.get_mut(token)
    }
}

impl Drop for NotifySockets {
    /// The sockets remove their files; the directory goes too when nothing else is in it.
    fn drop(&mut self) {
        self.sockets.clear();
        if let Some(directory) = &self.directory {
            let _ = std::fs::remove_dir(directory);
        }
    }
}

/// `DIRECTORY/NAME.sock`; unit names hold no `/`, so this never leaves the directory.
pub fn socket_path(directory: &Path, service: &str) -> PathBuf {
    directory.join(format!("{service}.sock"))
}

#[cfg(test)]
mod tests;
