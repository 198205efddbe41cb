//! One client of the HTTP endpoint, from accept to close: read a request head (at most
//! `max-request-bytes`), wait for the core's answer, write it, then shut down the writing
//! side and throw away whatever the client still sends until it closes — closing with
//! unread bytes would reset the connection and could destroy the reply in flight.
//! Every step goes as far as the socket allows without blocking; the deadline (the
//! server's `expire`) bounds the rest.

use std::io::{ErrorKind, Read, Write};
use std::net::Shutdown;
use std::time::Instant;

use mio::net::TcpStream;

use super::request::{Parsed, parse_request};
use super::response::format_response;

/// Bytes read and thrown away after the reply, at most; a client that sends more is cut
/// off without waiting for its close.
const MAX_DISCARDED_BYTES: usize = 64 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Reading,
    /// The request went to the core; its reply comes through `respond`.
    Waiting,
    Writing,
    Lingering {
        discarded: usize,
    },
}

/// What serving a readiness event came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
    Open,
    /// A well-formed request of this path, for the core.
    Request(String),
    Close,
}

pub struct Connection {
    pub serial: u64,
    pub stream: TcpStream,
    pub deadline: Instant,
    received: Vec<u8>,
    output: Vec<u8>,
    written: usize,
    phase: Phase,
    head: bool,
}

impl Connection {
    pub fn new(serial: u64, stream: TcpStream, deadline: Instant) -> Connection {
        Connection {
            serial,
            stream,
            deadline,
            received: Vec::new(),
            output: Vec::new(),
            written: 0,
            phase: Phase::Reading,
            head: false,
        }
    }

    /// Goes as far as the socket allows; `scratch` is the server's read buffer.
    pub fn serve(&mut self, max_bytes: usize, scratch: &mut [u8]) -> Progress {
        match self.phase {
            Phase::Reading => self.read_request(max_bytes, scratch),
            Phase::Waiting => Progress::Open,
            Phase::Writing | Phase::Lingering { .. } => self.finish(scratch),
        }
    }

    /// The core's (or the endpoint's own) answer to the request read; ignored in any
    /// other phase.
    pub fn respond(
        &mut self,
        status: u16,
        content_type: &str,
        body: &str,
        scratch: &mut [u8],
    ) -> Progress {
        if self.phase != Phase::Waiting {
            return Progress::Open;
        }
        self.output = format_response(status, content_type, body, self.head);
        self.written = 0;
        self.phase = Phase::Writing;
        self.finish(scratch)
    }

    fn read_request(&mut self, max_bytes: usize, scratch: &mut [u8]) -> Progress {
        loop {
            match self.stream.read(scratch) {
                Ok(0) => return Progress::Close,
                Ok(count) => {
                    let room = max_bytes.saturating_sub(self.received.len());
                    let taken = scratch.get(..count.min(room)).unwrap_or_default();
                    self.received.extend_from_slice(taken);
                    match parse_request(&self.received, max_bytes) {
                        Parsed::Incomplete => {}
                        Parsed::Get { path, head } => {
                            self.head = head;
                            self.phase = Phase::Waiting;
                            self.received = Vec::new();
                            return Progress::Request(path);
                        }
                        Parsed::Reject(rejection) => {
                            self.phase = Phase::Waiting;
                            let body = rejection.body(max_bytes);
                            let text = "text/plain; charset=utf-8";
                            return self.respond(rejection.status(), text, &body, scratch);
                        }
                    }
                }
                Err(error) if error.kind() == ErrorKind::WouldBlock => return Progress::Open,
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Progress::Close,
            }
        }
    }

    /// Writes the reply, then lingers: reads and drops what the client still sends.
    fn finish(&mut self, scratch: &mut [u8]) -> Progress {
        if self.phase == Phase::Writing {
            while let Some(rest) = self.output.get(self.written..).filter(|r| !r.is_empty()) {
                match self.stream.write(rest) {
                    Ok(0) => return Progress::Close,
                    Ok(count) => self.written += count,
                    Err(error) if error.kind() == ErrorKind::WouldBlock => return Progress::Open,
                    Err(error) if error.kind() == ErrorKind::Interrupted => {}
                    Err(_) => return Progress::Close,
                }
            }
            self.output = Vec::new();
            if self.stream.shutdown(Shutdown::Write).is_err() {
                return Progress::Close;
            }
            self.phase = Phase::Lingering { discarded: 0 };
        }
        self.discard(scratch)
    }

    fn discard(&mut self, scratch: &mut [u8]) -> Progress {
        while let Phase::Lingering { discarded } = self.phase {
            match self.stream.read(scratch) {
                Ok(0) => return Progress::Close,
                Ok(count) if discarded + count > MAX_DISCARDED_BYTES => return Progress::Close,
                Ok(count) => {
                    self.phase = Phase::Lingering {
                        discarded: discarded + count,
                    }
                }
                Err(error) if error.kind() == ErrorKind::WouldBlock => return Progress::Open,
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Progress::Close,
            }
        }
        Progress::Open
    }
}
