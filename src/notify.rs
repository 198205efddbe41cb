//! The sd_notify protocol (DESIGN.md §4.1): one datagram of newline-separated `KEY=VALUE`
//! assignments, turned into the messages Phoenix acts on. Pure: it reads no socket and
//! knows no sender — which service a datagram belongs to, and whether its sender may speak
//! for it, is the shell's business (`sys::notify_socket`).
//!
//! A service talks to Phoenix in a language it chose, so nothing it sends is an error:
//! unknown keys (`FDSTORE=1`, `BARRIER=1`, `WATCHDOG_USEC=…`), lines without `=`,
//! malformed numbers and undecodable bytes are skipped, as systemd skips them, and an
//! oversized datagram is dropped whole. Messages keep the datagram's order, repeats
//! included; the consumer decides which of two `STATUS=` lines wins.

use std::time::Duration;

use crate::core::Pid;

/// The largest datagram Phoenix reads (DESIGN.md §4.1); a longer one is ignored entirely.
pub const MAX_DATAGRAM: usize = 4096;

/// The longest `STATUS=` text kept, in characters: enough for a line of `phoenixctl
/// status`, bounded so a chatty service cannot grow Phoenix's memory or its replies.
pub const MAX_STATUS_CHARS: usize = 256;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotifyMessage {
    /// `READY=1`: start-up (or a reload) is complete.
    Ready,
    /// `RELOADING=1`: the service is reloading its configuration.
    Reloading,
    /// `STOPPING=1`: the service is shutting down on its own.
    Stopping,
    /// `STATUS=…`: free text for `phoenixctl status`; empty clears it.
    Status(String),
    /// `WATCHDOG=1`: a heartbeat.
    Watchdog,
    /// `WATCHDOG=trigger`: the service asks to be treated as hung.
    WatchdogTrigger,
    /// `EXTEND_TIMEOUT_USEC=N`: the current start or stop deadline becomes now + N µs.
    ExtendTimeout(Duration),
    /// `MAINPID=N`: the service's main process is now `N`.
    MainPid(Pid),
    /// `ERRNO=N`: the service reports a failure as an errno value.
    Errno(i32),
}

/// Every message in one datagram, in order; never fails.
pub fn parse_datagram(bytes: &[u8]) -> Vec<NotifyMessage> {
    if bytes.len() > MAX_DATAGRAM {
        return Vec::new();
    }
    bytes
        .split(|&byte| byte == b'\n')
        .filter_map(parse_line)
        .collect()
}

fn parse_line(line: &[u8]) -> Option<NotifyMessage> {
    let split = line.iter().position(|&byte| byte == b'=')?;
    let (key, value) = (line.get(..split)?, line.get(split + 1..)?);
    match key {
        b"READY" => (value == b"1").then_some(NotifyMessage::Ready),
        b"RELOADING" => (value == b"1").then_some(NotifyMessage::Reloading),
        b"STOPPING" => (value == b"1").then_some(NotifyMessage::Stopping),
        b"WATCHDOG" => match value {
            b"1" => Some(NotifyMessage::Watchdog),
            b"trigger" => Some(NotifyMessage::WatchdogTrigger),
            _ => None,
        },
        b"STATUS" => Some(NotifyMessage::Status(status_text(value))),
        b"EXTEND_TIMEOUT_USEC" => parse_decimal::<u64>(value)
            .map(|micros| NotifyMessage::ExtendTimeout(Duration::from_micros(micros))),
        b"MAINPID" => parse_decimal::<Pid>(value)
            .filter(|&pid| pid > 0)
            .map(NotifyMessage::MainPid),
        b"ERRNO" => parse_decimal::<i32>(value).map(NotifyMessage::Errno),
        _ => None,
    }
}

/// The status text: undecodable bytes become U+FFFD, a stray carriage return goes, and at
/// most [`MAX_STATUS_CHARS`] characters stay (cut between characters, never inside one).
fn status_text(value: &[u8]) -> String {
    let value = value.strip_suffix(b"\r").unwrap_or(value);
    String::from_utf8_lossy(value)
        .chars()
        .take(MAX_STATUS_CHARS)
        .collect()
}

/// Plain decimal digits only, as systemd reads them: no sign, no spaces, no overflow.
fn parse_decimal<T: std::str::FromStr>(value: &[u8]) -> Option<T> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(value).ok()?.parse().ok()
}

#[cfg(test)]
mod tests;
