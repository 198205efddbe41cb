//! One accepted control connection: its peer's credentials, the line framing of what it
//! sends (bounded: a line longer than `MAX_REQUEST_BYTES` is answered and skipped), and the
//! bounded queue of what it is owed. It never blocks and never decides anything about
//! services: complete requests go back to the server, which hands them to the loop.

use std::collections::VecDeque;
use std::io::{self, ErrorKind, Read};
use std::os::fd::{AsFd, AsRawFd};

use mio::net::UnixStream;
use mio::{Interest, Registry, Token};
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{self, MsgFlags};

use super::protocol::{self, MAX_REQUEST_BYTES, Reply, Request};
use super::server::{ClientId, MAX_OUTPUT_BYTES};

/// Bytes read from one client per wake-up before the others get their turn.
const READ_BUDGET: usize = 256 * 1024;

pub(super) struct Client {
    pub(super) id: ClientId,
    token: Token,
    pub(super) stream: UnixStream,
    uid: u32,
    pid: i32,
    /// The incomplete line received so far, at most `MAX_REQUEST_BYTES`.
    input: Vec<u8>,
    /// Skipping the rest of an over-long line up to its newline.
    is_discarding: bool,
    output: VecDeque<u8>,
    pub(super) is_follower: bool,
    /// The peer shut down its sending side; it may still read what we owe it.
    is_read_closed: bool,
    is_registered_writable: bool,
    /// The read budget ran out before `WouldBlock`: re-arm so the next poll comes back.
    needs_rearm: bool,
}

/// Why a connection ends; decides how loudly it is logged.
pub(super) enum Disconnect {
    /// The peer closed its end.
    Finished,
    Broken(io::Error),
    /// This many bytes of replies were left unread.
    Unread(usize),
}

impl Client {
    pub(super) fn new(
        id: ClientId,
        token: Token,
        stream: UnixStream,
        uid: u32,
        pid: i32,
    ) -> Client {
        Client {
            id,
            token,
            stream,
            uid,
            pid,
            input: Vec::new(),
            is_discarding: false,
            output: VecDeque::new(),
            is_follower: false,
            is_read_closed: false,
            is_registered_writable: false,
            needs_rearm: false,
        }
    }

    pub(super) fn describe(&self) -> String {
        format!(
            "client #{} (uid {}, pid {})",
            self.id.serial, self.uid, self.pid
        )
    }

    pub(super) fn serve(
        &mut self,
        scratch: &mut [u8],
        requests: &mut Vec<(ClientId, Request)>,
    ) -> Result<(), Disconnect> {
        self.flush()?;
        if self.is_read_closed {
            return self.check_peer();
        }
        self.read_requests(scratch, requests)
    }

    fn read_requests(
        &mut self,
        scratch: &mut [u8],
        requests: &mut Vec<(ClientId, Request)>,
    ) -> Result<(), Disconnect> {
        let mut budget = READ_BUDGET;
        loop {
            if budget == 0 {
                self.needs_rearm = true;
                return Ok(());
            }
            match (&self.stream).read(scratch) {
                Ok(0) => {
                    self.is_read_closed = true;
                    return self.check_peer();
                }
                Ok(count) => {
                    budget = budget.saturating_sub(count);
                    self.absorb(scratch.get(..count).unwrap_or_default(), requests)?;
                }
                Err(error) if error.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(error) => return Err(Disconnect::Broken(error)),
            }
        }
    }

    /// After end of input the connection lives on while the peer may still read replies (it
    /// only shut down its sending side); once it has closed altogether there is nobody left
    /// to answer.
    fn check_peer(&self) -> Result<(), Disconnect> {
        let mut fds = [PollFd::new(self.stream.as_fd(), PollFlags::POLLOUT)];
        let is_gone = nix::poll::poll(&mut fds, PollTimeout::ZERO).is_ok()
            && fds.iter().any(|fd| {
                fd.revents().is_some_and(|events| {
                    events.intersects(PollFlags::POLLHUP | PollFlags::POLLERR)
                })
            });
        if is_gone {
            Err(Disconnect::Finished)
        } else {
            Ok(())
        }
    }

    /// Splits received bytes into lines: each complete line is a request or an error reply.
    fn absorb(
        &mut self,
        mut bytes: &[u8],
        requests: &mut Vec<(ClientId, Request)>,
    ) -> Result<(), Disconnect> {
        while !bytes.is_empty() {
            let (chunk, rest, is_complete) = match bytes.iter().position(|&byte| byte == b'\n') {
                Some(end) => {
                    let (chunk, rest) = bytes.split_at(end);
                    (chunk, rest.get(1..).unwrap_or_default(), true)
                }
                None => (bytes, &[][..], false),
            };
            bytes = rest;
            if self.is_discarding {
                self.is_discarding = !is_complete;
            } else if self.input.len() + chunk.len() > MAX_REQUEST_BYTES {
                self.input.clear();
                self.is_discarding = !is_complete;
                log::debug!("control: {}: request too long", self.describe());
                self.queue_error(format!(
                    "request too long: the limit is {MAX_REQUEST_BYTES} bytes per line; the line was ignored"
                ))?;
            } else {
                self.input.extend_from_slice(chunk);
                if is_complete {
                    let line = std::mem::take(&mut self.input);
                    self.answer_line(&line, requests)?;
                }
            }
        }
        Ok(())
    }

    fn answer_line(
        &mut self,
        line: &[u8],
        requests: &mut Vec<(ClientId, Request)>,
    ) -> Result<(), Disconnect> {
        if line.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        match protocol::parse_request(line) {
            Ok(request) => {
                requests.push((self.id, request));
                Ok(())
            }
            Err(error) => {
                log::debug!("control: {}: {error}", self.describe());
                self.queue_error(error.0)
            }
        }
    }

    fn queue_error(&mut self, message: String) -> Result<(), Disconnect> {
        let line = protocol::format_reply(&Reply::Error { message });
        self.queue(line.as_bytes())
    }

    pub(super) fn queue(&mut self, line: &[u8]) -> Result<(), Disconnect> {
        self.output.extend(line);
        self.flush()?;
        if self.output.len() > MAX_OUTPUT_BYTES {
            return Err(Disconnect::Unread(self.output.len()));
        }
        Ok(())
    }

    pub(super) fn flush(&mut self) -> Result<(), Disconnect> {
        while !self.output.is_empty() {
            let (front, _) = self.output.as_slices();
            match send(&self.stream, front) {
                Ok(0) => return Ok(()),
                Ok(written) => {
                    self.output.drain(..written.min(self.output.len()));
                }
                Err(Errno::EAGAIN) => return Ok(()),
                Err(Errno::EINTR) => {}
                Err(errno) => return Err(Disconnect::Broken(errno.into())),
            }
        }
        Ok(())
    }

    /// Asks for writable events only while output waits, and re-arms a client whose read
    /// budget ran out (re-registering makes epoll report readiness that is still there).
    pub(super) fn update_interest(&mut self, registry: &Registry) -> Result<(), Disconnect> {
        let wants_writable = !self.output.is_empty();
        if wants_writable == self.is_registered_writable && !self.needs_rearm {
            return Ok(());
        }
        let interest = if wants_writable {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        registry
            .reregister(&mut self.stream, self.token, interest)
            .map_err(Disconnect::Broken)?;
        self.is_registered_writable = wants_writable;
        self.needs_rearm = false;
        Ok(())
    }
}

/// A non-blocking write that cannot raise SIGPIPE: Phoenix blocks that signal and reads it
/// from its signalfd, where it would look like a signal to forward.
fn send(stream: &UnixStream, bytes: &[u8]) -> Result<usize, Errno> {
    socket::send(
        stream.as_raw_fd(),
        bytes,
        MsgFlags::MSG_NOSIGNAL | MsgFlags::MSG_DONTWAIT,
    )
}

/// Best effort: one write of the error reply into the fresh socket's empty buffer, then the
/// connection is dropped.
pub(super) fn refuse(stream: &UnixStream, message: String) {
    let line = protocol::format_reply(&Reply::Error { message });
    let _ = send(stream, line.as_bytes());
}
