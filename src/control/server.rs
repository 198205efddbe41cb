//! The control socket server, living in PID 1's mio loop: accepts connections, admits only
//! root and Phoenix's own uid (`SO_PEERCRED`), routes readiness to each connection and
//! replies, broadcasts to `events --follow` streams, and hands complete, parsed requests to
//! the caller. It decides nothing about services and never blocks, panics or grows without
//! bound: the number of connections is capped, and each connection's buffers are too
//! (`connection.rs`), so a peer that sends garbage gets an error reply, a peer that does
//! not read is disconnected, and either way the next client is served.
//!
//! Readiness is edge-triggered: every read and write is drained until `WouldBlock`, a
//! connection asks for writable events only while output is pending, and one that used up
//! its read budget for a wake-up is re-armed so that it cannot starve the others.

use std::fs;
use std::io::{self, ErrorKind};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use mio::net::{UnixListener, UnixStream};
use mio::{Interest, Registry, Token};
use nix::sys::socket;

use super::connection::{Client, Disconnect, refuse};
use super::protocol::{self, Reply, Request};
use super::socket_file::{DIRECTORY_MODE, listen_at};
use crate::sys::socket_file::{prepare_directory, remove_stale_socket};

/// Connections served at once; one more is refused with an error reply.
pub const MAX_CLIENTS: usize = 1024;

/// Replies queued for one client beyond what its socket holds; a client that lets more pile
/// up is not reading and is disconnected.
pub const MAX_OUTPUT_BYTES: usize = 1 << 20;

const READ_CHUNK: usize = 16 * 1024;

/// One connection, unique for the server's lifetime: a slot reused by a later connection
/// gets a new serial, so a late reply never reaches the wrong peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId {
    pub(super) slot: usize,
    pub(super) serial: u64,
}

impl ClientId {
    /// One number for the pure core to carry (slot in the high bits, serial below).
    pub fn to_raw(self) -> u64 {
        ((self.slot as u64) << 40) | (self.serial & ((1 << 40) - 1))
    }

    pub fn from_raw(raw: u64) -> ClientId {
        ClientId {
            slot: (raw >> 40) as usize,
            serial: raw & ((1 << 40) - 1),
        }
    }
}

pub struct ControlServer {
    path: PathBuf,
    /// The socket file we created, so that `close` never removes a successor's.
    inode: (u64, u64),
    listener: UnixListener,
    first_token: usize,
    clients: Vec<Option<Client>>,
    free_slots: Vec<usize>,
    max_clients: usize,
    next_serial: u64,
    own_uid: u32,
    scratch: Vec<u8>,
    /// Accepting failed (out of descriptors) with connections still queued: retried when
    /// a client leaves and frees one, since an edge-triggered listener will not say again.
    accept_blocked: bool,
}

impl ControlServer {
    /// Creates the socket at `path` (mode 0600; its directory 0755 when created here) and
    /// registers the listener as `first_token`; clients use the tokens after it.
    pub fn bind(path: &Path, registry: &Registry, first_token: usize) -> io::Result<ControlServer> {
        let context = |what: &str, error: io::Error| {
            io::Error::new(
                error.kind(),
                format!("control socket {}: {what}: {error}", path.display()),
            )
        };
        if first_token.checked_add(1 + MAX_CLIENTS).is_none() {
            return Err(io::Error::new(
                ErrorKind::InvalidInput,
                format!("control socket tokens overflow after {first_token}"),
            ));
        }
        prepare_directory(path, DIRECTORY_MODE)
            .map_err(|error| context("creating its directory", error))?;
        remove_stale_socket(path, nix::sys::socket::SockType::Stream)?;
        let mut listener = listen_at(path).map_err(|error| context("binding", error))?;
        let metadata = fs::symlink_metadata(path).map_err(|error| context("stat", error))?;
        registry
            .register(&mut listener, Token(first_token), Interest::READABLE)
            .map_err(|error| context("registering", error))?;
        log::info!("control: listening on {}", path.display());
        Ok(ControlServer {
            path: path.to_path_buf(),
            inode: (metadata.dev(), metadata.ino()),
            listener,
            first_token,
            clients: Vec::new(),
            free_slots: Vec::new(),
            max_clients: MAX_CLIENTS,
            next_serial: 0,
            own_uid: nix::unistd::geteuid().as_raw(),
            scratch: vec![0; READ_CHUNK],
            accept_blocked: false,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether `token` is the listener's or one of the client tokens.
    pub fn owns(&self, token: Token) -> bool {
        token
            .0
            .checked_sub(self.first_token)
            .is_some_and(|offset| offset <= MAX_CLIENTS)
    }

    pub fn client_count(&self) -> usize {
        self.clients.iter().flatten().count()
    }

    /// Serves a readiness event: accepts new connections, or reads, answers malformed lines
    /// and flushes output for one client. Returns the valid requests received.
    pub fn handle(&mut self, token: Token, registry: &Registry) -> Vec<(ClientId, Request)> {
        let mut requests = Vec::new();
        if token == Token(self.first_token) {
            self.accept_all(registry);
        } else if let Some(slot) = self.slot_of(token) {
            let Some(client) = self.clients.get_mut(slot).and_then(Option::as_mut) else {
                return requests;
            };
            let result = client
                .serve(&mut self.scratch, &mut requests)
                .and_then(|()| client.update_interest(registry));
            if let Err(reason) = result {
                self.disconnect(slot, reason, registry);
            }
        }
        requests
    }

    /// Queues one reply and writes what the socket takes now; the connection stays open.
    pub fn reply(&mut self, client: ClientId, reply: &Reply, registry: &Registry) {
        let line = protocol::format_reply(reply);
        self.send_line(client, line.as_bytes(), registry);
    }

    /// Whether `client` is still connected.
    pub fn is_connected(&self, client: ClientId) -> bool {
        self.clients
            .get(client.slot)
            .and_then(Option::as_ref)
            .is_some_and(|connected| connected.id == client)
    }

    /// Makes `client` receive every later `broadcast`.
    pub fn follow(&mut self, client: ClientId) {
        if let Some(client) = self.client_mut(client) {
            client.is_follower = true;
        }
    }

    /// Queues one reply to every follower.
    pub fn broadcast(&mut self, reply: &Reply, registry: &Registry) {
        let line = protocol::format_reply(reply);
        let followers: Vec<ClientId> = self
            .clients
            .iter()
            .flatten()
            .filter(|client| client.is_follower)
            .map(|client| client.id)
            .collect();
        for follower in followers {
            self.send_line(follower, line.as_bytes(), registry);
        }
    }

    /// Deregisters everything, sends what each socket takes of pending output and removes
    /// the socket file (if it is still ours).
    pub fn close(&mut self, registry: &Registry) {
        for mut client in self.clients.drain(..).flatten() {
            let _ = client.flush();
            let _ = registry.deregister(&mut client.stream);
        }
        self.free_slots.clear();
        let _ = registry.deregister(&mut self.listener);
        let is_ours = fs::symlink_metadata(&self.path)
            .is_ok_and(|metadata| (metadata.dev(), metadata.ino()) == self.inode);
        if is_ours {
            if let Err(error) = fs::remove_file(&self.path) {
                log::warn!("control: removing {}: {error}", self.path.display());
            }
        }
    }

    fn accept_all(&mut self, registry: &Registry) {
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => self.admit(stream, registry),
                Err(error) if error.kind() == ErrorKind::WouldBlock => {
                    self.accept_blocked = false;
                    return;
                }
                Err(error)
                    if matches!(
                        error.kind(),
                        ErrorKind::Interrupted | ErrorKind::ConnectionAborted
                    ) => {}
                Err(error) => {
                    // Out of descriptors, most likely: said once, retried as clients leave.
                    if !self.accept_blocked {
                        log::warn!("control: accepting a connection: {error}");
                    }
                    self.accept_blocked = true;
                    return;
                }
            }
        }
    }

    fn admit(&mut self, mut stream: UnixStream, registry: &Registry) {
        let (uid, pid) = match socket::getsockopt(&stream, socket::sockopt::PeerCredentials) {
            Ok(credentials) => (credentials.uid(), credentials.pid()),
            Err(errno) => {
                log::warn!(
                    "control: refused a connection: unable to read its credentials: {errno}"
                );
                return;
            }
        };
        if uid != 0 && uid != self.own_uid {
            log::warn!(
                "control: refused uid {uid} (pid {pid}): only root and uid {} may control Phoenix",
                self.own_uid
            );
            refuse(
                &stream,
                format!("permission denied: uid {uid} may not control Phoenix"),
            );
            return;
        }
        let Some(slot) = self.allocate_slot() else {
            log::warn!(
                "control: refused uid {uid} (pid {pid}): {} clients are already connected",
                self.max_clients
            );
            refuse(
                &stream,
                format!(
                    "too many control connections (the limit is {})",
                    self.max_clients
                ),
            );
            return;
        };
        let token = Token(self.first_token + 1 + slot);
        if let Err(error) = registry.register(&mut stream, token, Interest::READABLE) {
            log::warn!("control: registering a connection from uid {uid} (pid {pid}): {error}");
            self.free_slots.push(slot);
            return;
        }
        self.next_serial += 1;
        let id = ClientId {
            slot,
            serial: self.next_serial,
        };
        let client = Client::new(id, token, stream, uid, pid);
        log::debug!("control: {} connected", client.describe());
        if let Some(entry) = self.clients.get_mut(slot) {
            *entry = Some(client);
        }
    }

    fn allocate_slot(&mut self) -> Option<usize> {
        if let Some(slot) = self.free_slots.pop() {
            return Some(slot);
        }
        if self.clients.len() >= self.max_clients {
            return None;
        }
        self.clients.push(None);
        Some(self.clients.len() - 1)
    }

    fn slot_of(&self, token: Token) -> Option<usize> {
        let offset = token.0.checked_sub(self.first_token)?;
        offset.checked_sub(1).filter(|&slot| slot < MAX_CLIENTS)
    }

    fn client_mut(&mut self, id: ClientId) -> Option<&mut Client> {
        self.clients
            .get_mut(id.slot)
            .and_then(Option::as_mut)
            .filter(|client| client.id == id)
    }

    fn send_line(&mut self, id: ClientId, line: &[u8], registry: &Registry) {
        let Some(client) = self.client_mut(id) else {
            log::debug!("control: dropping a reply to client #{}, gone", id.serial);
            return;
        };
        let result = client
            .queue(line)
            .and_then(|()| client.update_interest(registry));
        if let Err(reason) = result {
            self.disconnect(id.slot, reason, registry);
        }
    }

    fn disconnect(&mut self, slot: usize, reason: Disconnect, registry: &Registry) {
        let Some(mut client) = self.clients.get_mut(slot).and_then(Option::take) else {
            return;
        };
        let _ = registry.deregister(&mut client.stream);
        self.free_slots.push(slot);
        let who = client.describe();
        match reason {
            Disconnect::Finished => log::debug!("control: {who} disconnected"),
            Disconnect::Broken(error)
                if matches!(
                    error.kind(),
                    ErrorKind::BrokenPipe | ErrorKind::ConnectionReset
                ) =>
            {
                log::debug!("control: {who} went away: {error}")
            }
            Disconnect::Broken(error) => log::warn!("control: dropping {who}: {error}"),
            Disconnect::Unread(bytes) => log::warn!(
                "control: disconnecting {who}: it left {bytes} bytes of replies unread \
                 (the limit is {MAX_OUTPUT_BYTES})"
            ),
        }
        drop(client);
        if self.accept_blocked {
            self.accept_all(registry);
        }
    }
}

#[cfg(test)]
mod tests;
