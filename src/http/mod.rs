//! The read-only HTTP endpoint (`[http] listen`, DESIGN.md §8) in PID 1's mio loop: a
//! non-blocking listener, at most `max-connections` clients each with a bounded request
//! buffer and a deadline, and well-formed `GET`s handed to the caller as (client, path) for
//! the core to answer. What a path means is the core's (`supervisor/http.rs`); this module
//! only speaks HTTP/1.1, one request per connection.
//!
//! It never blocks, panics or grows without bound. One connection over the limit is
//! accepted, told 503 with whatever the socket takes at once and closed, so the kernel's
//! backlog never fills and a flood costs one accept each. Malformed requests get 400,
//! other methods 405, a head over the limit 431; a client that sends too slowly or does
//! not read its reply is dropped at its deadline. Readiness is edge-triggered: each socket
//! is registered for both directions once, and every step goes until `WouldBlock`.

mod connection;
mod request;
mod response;

use std::io::{self, ErrorKind, Read, Write};
use std::time::Instant;

use mio::net::{TcpListener, TcpStream};
use mio::{Interest, Registry, Token};

use crate::core::ClientId;
use crate::sys::notify_socket::Reading;
use crate::token_slots::TokenSlots;
use crate::unit::HttpSettings;
use connection::{Connection, Progress};

pub use request::{Parsed, Rejection, parse_request};
pub use response::{format_response, reason_phrase};

/// Connections accepted per wake-up; the listener is served again in the next round.
const ACCEPT_BUDGET: usize = 256;

/// A reply larger than this is replaced by a 500, so no connection holds more.
const MAX_REPLY_BYTES: usize = 16 << 20;

const READ_CHUNK: usize = 16 * 1024;

/// A connection's deadline is capped so that it can always be computed.
const MAX_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Bits of a client id that hold the connection's serial; the token sits above them.
const SERIAL_BITS: u32 = 40;

pub struct HttpServer {
    listener: TcpListener,
    listener_token: Token,
    connections: TokenSlots<Connection>,
    settings: HttpSettings,
    next_serial: u64,
    scratch: Vec<u8>,
}

impl HttpServer {
    /// Listens on `settings.listen`, the listener under `first_token` and the clients
    /// under the `max-connections` tokens after it.
    pub fn bind(
        settings: &HttpSettings,
        registry: &Registry,
        first_token: usize,
    ) -> io::Result<HttpServer> {
        let context = |error: io::Error| {
            io::Error::new(
                error.kind(),
                format!("http: listening on {}: {error}", settings.listen),
            )
        };
        let mut listener = TcpListener::bind(settings.listen).map_err(context)?;
        registry
            .register(&mut listener, Token(first_token), Interest::READABLE)
            .map_err(context)?;
        log::info!("http: listening on {}", settings.listen);
        Ok(HttpServer {
            listener,
            listener_token: Token(first_token),
            connections: TokenSlots::new(first_token + 1, settings.max_connections),
            settings: settings.clone(),
            next_serial: 0,
            scratch: vec![0; READ_CHUNK],
        })
    }

    pub fn local_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    pub fn owns(&self, token: Token) -> bool {
        token == self.listener_token || self.connections.owns(token)
    }

    pub fn connection_count(&self) -> usize {
        self.connections.iter().count()
    }

    /// Serves a readiness event; well-formed requests are appended to `requests`.
    pub fn handle(
        &mut self,
        token: Token,
        now: Instant,
        registry: &Registry,
        requests: &mut Vec<(ClientId, String)>,
    ) -> Reading {
        if token == self.listener_token {
            return self.accept_all(now, registry);
        }
        let Some(connection) = self.connections.get_mut(token) else {
            return Reading::Drained;
        };
        match connection.serve(self.settings.max_request_bytes, &mut self.scratch) {
            Progress::Open => {}
            Progress::Request(path) => requests.push((client_id(token, connection.serial), path)),
            Progress::Close => self.close(token, registry),
        }
        Reading::Drained
    }

    /// The core's answer to `client`; a client gone (closed, expired) is skipped.
    pub fn reply(
        &mut self,
        client: ClientId,
        status: u16,
        content_type: &str,
        body: &str,
        registry: &Registry,
    ) {
        let token = Token((client >> SERIAL_BITS) as usize);
        let Some(connection) = self
            .connections
            .get_mut(token)
            .filter(|c| c.serial == client & ((1 << SERIAL_BITS) - 1))
        else {
            log::debug!("http: dropping a reply to a client gone");
            return;
        };
        let progress = if body.len() > MAX_REPLY_BYTES {
            log::warn!(
                "http: a {}-byte reply is over the {MAX_REPLY_BYTES}-byte limit",
                body.len()
            );
            let text = "text/plain; charset=utf-8";
            connection.respond(500, text, "reply too large\n", &mut self.scratch)
        } else {
            connection.respond(status, content_type, body, &mut self.scratch)
        };
        if progress == Progress::Close {
            self.close(token, registry);
        }
    }

    /// Every wake-up: connections past their deadline are closed.
    pub fn expire(&mut self, now: Instant, registry: &Registry) {
        let due: Vec<Token> = self
            .connections
            .iter()
            .filter(|(_, connection)| connection.deadline <= now)
            .map(|(token, _)| token)
            .collect();
        for token in due {
            log::debug!(
                "http: closing a connection at its {:?} deadline",
                self.settings.timeout
            );
            self.close(token, registry);
        }
    }

    /// The earliest connection deadline, for the loop's poll timeout.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.connections.iter().map(|(_, c)| c.deadline).min()
    }

    fn accept_all(&mut self, now: Instant, registry: &Registry) -> Reading {
        for _ in 0..ACCEPT_BUDGET {
            match self.listener.accept() {
                Ok((stream, _)) => self.admit(stream, now, registry),
                Err(error) if error.kind() == ErrorKind::WouldBlock => return Reading::Drained,
                Err(error)
                    if matches!(
                        error.kind(),
                        ErrorKind::Interrupted | ErrorKind::ConnectionAborted
                    ) => {}
                Err(error) => {
                    // Out of descriptors, most likely; the next connection will retry.
                    log::warn!("http: accepting a connection: {error}");
                    return Reading::Drained;
                }
            }
        }
        Reading::BudgetSpent
    }

    fn admit(&mut self, mut stream: TcpStream, now: Instant, registry: &Registry) {
        let Some(token) = self.connections.vacant() else {
            log::debug!("http: refusing a connection over the limit");
            let body = format!(
                "too many connections (the limit is {})\n",
                self.settings.max_connections
            );
            let reply = format_response(503, "text/plain; charset=utf-8", &body, false);
            // Best effort, never waiting: the request already received is read so that the
            // close is less likely a reset, and the reply is what the socket takes at once.
            let _ = stream.read(&mut self.scratch);
            let _ = stream.write(&reply);
            let _ = stream.shutdown(std::net::Shutdown::Write);
            return;
        };
        if let Err(error) =
            registry.register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)
        {
            log::warn!("http: registering a connection: {error}");
            self.connections.abandon(token);
            return;
        }
        self.next_serial = (self.next_serial + 1) & ((1 << SERIAL_BITS) - 1);
        let timeout = self.settings.timeout.min(MAX_TIMEOUT);
        let deadline = now.checked_add(timeout).unwrap_or(now);
        let connection = Connection::new(self.next_serial, stream, deadline);
        self.connections.fill(token, connection);
    }

    fn close(&mut self, token: Token, registry: &Registry) {
        if let Some(mut connection) = self.connections.take(token) {
            let _ = registry.deregister(&mut connection.stream);
        }
    }
}

/// One number for the core to carry: the token in the high bits, the serial below, so a
/// reply to a connection whose slot was reused reaches nobody.
fn client_id(token: Token, serial: u64) -> ClientId {
    ((token.0 as u64) << SERIAL_BITS) | serial
}

#[cfg(test)]
mod tests;
