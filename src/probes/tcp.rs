//! A non-blocking connect and what became of it: whether a probe's socket is connected yet,
//! and how a socket error reads in a probe's failure reason. It only asks the socket (the
//! pending `SO_ERROR`, the peer address); it never waits and never retries.

use std::io::{self, ErrorKind};

use mio::net::TcpStream;

/// Where a non-blocking connect stands after a readiness event.
pub(super) enum Connection {
    /// Still in progress: the event was spurious or early.
    Pending,
    Established,
    Failed(String),
}

/// The steps mio documents for a non-blocking connect: a pending socket error means the
/// connect failed; otherwise a peer address means it succeeded, and "not connected" means
/// it is still in progress.
pub(super) fn connection_state(stream: &TcpStream) -> Connection {
    match stream.take_error() {
        Ok(None) => {}
        Ok(Some(error)) | Err(error) => {
            return Connection::Failed(describe_error("connect", &error));
        }
    }
    match stream.peer_addr() {
        Ok(_) => Connection::Established,
        Err(error) if is_in_progress(&error) => Connection::Pending,
        Err(error) => Connection::Failed(describe_error("connect", &error)),
    }
}

/// Whether a connect has not finished yet (as opposed to having failed).
pub(super) fn is_in_progress(error: &io::Error) -> bool {
    error.kind() == ErrorKind::NotConnected || error.raw_os_error() == Some(libc::EINPROGRESS)
}

/// A failure reason for an I/O error during `step`: the usual network failures in plain
/// words, anything else as the step and the system's text for the errno.
pub(super) fn describe_error(step: &str, error: &io::Error) -> String {
    match error.kind() {
        ErrorKind::ConnectionRefused => "connection refused".to_string(),
        ErrorKind::ConnectionReset => "connection reset by peer".to_string(),
        ErrorKind::ConnectionAborted => "connection aborted".to_string(),
        ErrorKind::HostUnreachable => "host unreachable".to_string(),
        ErrorKind::NetworkUnreachable => "network unreachable".to_string(),
        ErrorKind::AddrNotAvailable => "address not available".to_string(),
        ErrorKind::TimedOut => "connection timed out".to_string(),
        _ => format!("{step}: {}", crate::sys::io_error_text(error)),
    }
}
