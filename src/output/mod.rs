//! Captured output's decisions (DESIGN.md §4.6), pure: cutting a stream of bytes into
//! lines (`lines.rs`), the ring of recent lines (`ring.rs`), the bounded console queue
//! that drops its oldest lines and says so (`outbox.rs`), and when and how a file is
//! rotated (`rotation.rs`). No system calls: the pipes, the console and the files are the
//! shell's (`event_loop/logs.rs`, `sys/log_file.rs`, `sys/console.rs`).

pub mod lines;
pub mod outbox;
pub mod ring;
pub mod rotation;

use std::time::SystemTime;

/// Which of a service's outputs a line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub const BOTH: [Stream; 2] = [Stream::Stdout, Stream::Stderr];

    pub fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }

    pub fn index(self) -> usize {
        match self {
            Stream::Stdout => 0,
            Stream::Stderr => 1,
        }
    }
}

/// One value for each stream.
#[derive(Debug, Default)]
pub struct PerStream<T> {
    pub stdout: T,
    pub stderr: T,
}

impl<T> PerStream<T> {
    pub fn new(stdout: T, stderr: T) -> PerStream<T> {
        PerStream { stdout, stderr }
    }

    pub fn get(&self, stream: Stream) -> &T {
        match stream {
            Stream::Stdout => &self.stdout,
            Stream::Stderr => &self.stderr,
        }
    }

    pub fn get_mut(&mut self, stream: Stream) -> &mut T {
        match stream {
            Stream::Stdout => &mut self.stdout,
            Stream::Stderr => &mut self.stderr,
        }
    }
}

/// One line as the service wrote it, without its newline; bytes, not text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub time: SystemTime,
    pub stream: Stream,
    pub bytes: Vec<u8>,
}

impl Line {
    /// The text, invalid UTF-8 replaced (for people and JSON; files get the bytes).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// `name | line\n`, as the console shows it.
pub fn console_line(service: &str, bytes: &[u8]) -> Vec<u8> {
    let mut line = Vec::with_capacity(service.len() + bytes.len() + 4);
    line.extend_from_slice(service.as_bytes());
    line.extend_from_slice(b" | ");
    line.extend_from_slice(bytes);
    line.push(b'\n');
    line
}

/// The line that stands for `count` dropped ones.
pub fn dropped_marker(count: u64) -> Vec<u8> {
    format!("[phoenix: {count} lines dropped]").into_bytes()
}

/// A file line: the stamp (when given) and a space, the bytes, a newline.
pub fn file_line(stamp: Option<&str>, bytes: &[u8], into: &mut Vec<u8>) {
    if let Some(stamp) = stamp {
        into.extend_from_slice(stamp.as_bytes());
        into.push(b' ');
    }
    into.extend_from_slice(bytes);
    into.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_lines_are_prefixed_with_the_service() {
        assert_eq!(console_line("web", b"hello"), b"web | hello\n");
        assert_eq!(dropped_marker(1234), b"[phoenix: 1234 lines dropped]");
    }

    #[test]
    fn file_lines_carry_the_stamp_and_the_bytes_unchanged() {
        let mut out = Vec::new();
        file_line(Some("2026-01-01T00:00:00.000Z"), b"\xff\xfe", &mut out);
        file_line(None, b"x", &mut out);
        assert_eq!(out, b"2026-01-01T00:00:00.000Z \xff\xfe\nx\n");
    }
}
