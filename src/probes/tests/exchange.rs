//! Tests of an http exchange without a socket: how a response head is judged, and a
//! request written a few bytes at a time.

use std::io::{self, Read, Write};

use crate::probe_target::parse_http_url;
use crate::probes::Progress;
use crate::probes::http::{Head, HttpExchange, evaluate_head, format_request};

#[test]
fn heads_are_judged_by_their_final_status() {
    for (bytes, expected) in [
        ("", Head::Incomplete),
        ("HTTP/1.1 200 OK\r\n", Head::Incomplete),
        ("HTTP/1.1 200 OK\r\n\r\n", Head::Status(200)),
        (
            "HTTP/1.0 503 Busy\r\nRetry-After: 1\r\n\r\nbody",
            Head::Status(503),
        ),
        (
            "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n",
            Head::Incomplete,
        ),
        (
            "HTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
            Head::Status(204),
        ),
        (
            "HTTP/1.1 101 Switching Protocols\r\n\r\n",
            Head::Status(101),
        ),
        (
            "HTTP/1.1 2OO OK\r\n\r\n",
            Head::Invalid("malformed response: invalid response status".to_string()),
        ),
    ] {
        assert_eq!(evaluate_head(bytes.as_bytes()), expected, "{bytes:?}");
    }
    let many = format!("HTTP/1.1 200 OK\r\n{}\r\n", "A: b\r\n".repeat(65));
    assert_eq!(
        evaluate_head(many.as_bytes()),
        Head::Invalid("response head has over 64 headers".to_string())
    );
}

/// A socket stand-in that takes at most `write_size` bytes a call, every other call
/// blocked, and hands out `input` in pieces.
struct Trickle {
    write_size: usize,
    is_blocked: bool,
    written: Vec<u8>,
    input: Vec<&'static [u8]>,
}

impl Write for Trickle {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.is_blocked = !self.is_blocked;
        if self.is_blocked {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let count = bytes.len().min(self.write_size);
        self.written.extend_from_slice(&bytes[..count]);
        Ok(count)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for Trickle {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        if self.input.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let piece = self.input.remove(0);
        buffer[..piece.len()].copy_from_slice(piece);
        Ok(piece.len())
    }
}

#[test]
fn partial_writes_resume_where_they_stopped() {
    let target = parse_http_url("http://127.0.0.1:8080/ready").unwrap();
    let mut exchange = HttpExchange::new(format_request(&target).into_bytes());
    let mut socket = Trickle {
        write_size: 7,
        is_blocked: false,
        written: Vec::new(),
        input: Vec::new(),
    };
    let mut rounds = 0;
    while socket.written.len() < format_request(&target).len() {
        assert!(matches!(exchange.advance(&mut socket), Progress::Pending));
        rounds += 1;
        assert!(rounds < 100);
    }
    assert_eq!(socket.written, format_request(&target).as_bytes());
    socket.input = vec![b"HTTP/1.1 200", b" OK\r\n\r\n"];
    assert!(matches!(
        exchange.advance(&mut socket),
        Progress::Finished(Ok(()))
    ));
}
