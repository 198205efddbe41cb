//! One http exchange on a connected socket: write the request — a probe's `GET PATH
//! HTTP/1.1`, or a webhook's `POST` with its body — however many writes it takes, read
//! until the status line and the headers parse, and judge the status.
//! The head must fit a fixed 8 KiB buffer and the body is never read, so a server that
//! talks forever costs no more than that. It never waits: each call goes as far as the
//! socket allows and says whether the exchange is over.

use std::io::{ErrorKind, Read, Write};

use super::Progress;
use super::tcp::describe_error;
use crate::probe_target::HttpTarget;

/// The most a response head (status line and headers) may take.
pub(super) const HEAD_LIMIT: usize = 8 * 1024;

/// Headers parsed at most; a head with more is refused rather than grown into.
const MAX_HEADERS: usize = 64;

pub(super) struct HttpExchange {
    request: Vec<u8>,
    written: usize,
    head: Vec<u8>,
    filled: usize,
}

/// What the bytes of a response head so far say.
#[derive(Debug, PartialEq)]
pub(super) enum Head {
    Incomplete,
    /// The final status; informational (1xx) heads before it are skipped.
    Status(u16),
    Invalid(String),
}

impl HttpExchange {
    pub(super) fn new(request: Vec<u8>) -> HttpExchange {
        HttpExchange {
            request,
            written: 0,
            head: vec![0; HEAD_LIMIT],
            filled: 0,
        }
    }

    /// Writes what is left of the request and reads what has arrived of the response,
    /// each until the socket would block: readiness is edge-triggered.
    pub(super) fn advance(&mut self, stream: &mut impl ReadWrite) -> Progress {
        if let Err(reason) = self.write_request(stream) {
            return Progress::Finished(Err(reason));
        }
        self.read_head(stream)
    }

    fn write_request(&mut self, stream: &mut impl Write) -> Result<(), String> {
        while let Some(rest) = self
            .request
            .get(self.written..)
            .filter(|rest| !rest.is_empty())
        {
            match stream.write(rest) {
                Ok(0) => return Err("connection closed before the request was sent".to_string()),
                Ok(count) => self.written += count,
                Err(error) if error.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(error) => return Err(describe_error("write", &error)),
            }
        }
        Ok(())
    }

    fn read_head(&mut self, stream: &mut impl Read) -> Progress {
        loop {
            let Some(space) = self
                .head
                .get_mut(self.filled..)
                .filter(|space| !space.is_empty())
            else {
                return Progress::Finished(Err("response head over 8 KiB".to_string()));
            };
            match stream.read(space) {
                Ok(0) => {
                    return Progress::Finished(Err(
                        "connection closed before a response".to_string()
                    ));
                }
                Ok(count) => {
                    self.filled += count;
                    match evaluate_head(self.head.get(..self.filled).unwrap_or_default()) {
                        Head::Incomplete => {}
                        Head::Status(code) => return Progress::Finished(judge_status(code)),
                        Head::Invalid(reason) => return Progress::Finished(Err(reason)),
                    }
                }
                Err(error) if error.kind() == ErrorKind::WouldBlock => return Progress::Pending,
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(error) => return Progress::Finished(Err(describe_error("read", &error))),
            }
        }
    }
}

/// A socket, or a test's stand-in for one.
pub(super) trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// `Connection: close` because a probe is one request; the server may close at once.
pub(super) fn format_request(target: &HttpTarget) -> String {
    format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: phoenix/{}\r\nConnection: close\r\n\r\n",
        target.path,
        target.host_header,
        env!("CARGO_PKG_VERSION")
    )
}

/// A `POST` of `body` to `target` (a webhook): one request per connection too.
pub fn format_post(target: &HttpTarget, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: phoenix/{}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        target.path,
        target.host_header,
        env!("CARGO_PKG_VERSION"),
        body.len()
    )
    .into_bytes()
}

/// Parses the head received so far with httparse, skipping interim 1xx heads (103 Early
/// Hints, an unasked-for 100 Continue) that come before the final status.
pub(super) fn evaluate_head(bytes: &[u8]) -> Head {
    let mut offset = 0;
    loop {
        let rest = bytes.get(offset..).unwrap_or_default();
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(rest) {
            Ok(httparse::Status::Partial) => return Head::Incomplete,
            Ok(httparse::Status::Complete(length)) => match response.code {
                Some(code) if is_interim(code) && length > 0 => offset += length,
                Some(code) => return Head::Status(code),
                None => return Head::Invalid("malformed response: no status".to_string()),
            },
            Err(httparse::Error::TooManyHeaders) => {
                return Head::Invalid(format!("response head has over {MAX_HEADERS} headers"));
            }
            Err(error) => return Head::Invalid(format!("malformed response: {error}")),
        }
    }
}

/// 101 Switching Protocols is final: we asked for no upgrade, so it is a failure.
fn is_interim(code: u16) -> bool {
    (100..200).contains(&code) && code != 101
}

/// 2xx and 3xx answer the probe (as Kubernetes and Docker judge); redirects are not
/// followed.
pub(super) fn judge_status(code: u16) -> Result<(), String> {
    if (200..400).contains(&code) {
        Ok(())
    } else {
        Err(format!("HTTP {code}"))
    }
}
