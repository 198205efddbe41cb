//! Phoenix's own log lines on the console (stderr), written so that PID 1 never blocks on
//! them: a pipe nobody reads would otherwise stop supervision at the next log line. When
//! stderr is a pipe, a FIFO or a terminal, Phoenix writes through its own non-blocking open
//! of it (a new open file description: the services sharing the console keep their
//! blocking one); anything else is written only when `poll` says it can take a line at
//! once. A terminal is not left to `poll`: it reports room only while fewer than 256
//! characters wait to go out, so a slow serial console would lose every line of a burst
//! after the first few, where a non-blocking write fills its whole buffer. A line that
//! cannot be written whole is dropped and counted, and the count goes out before the next
//! line.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

/// A longer line is cut: a pipe takes up to PIPE_BUF bytes in one piece.
const MAX_LINE: usize = 4096;

pub struct Console {
    /// The console reopened non-blocking, when it is a pipe, a FIFO or a terminal.
    pipe: Option<File>,
    dropped: u64,
}

impl Console {
    pub fn open() -> Console {
        let is_fifo = std::fs::metadata("/proc/self/fd/2")
            .is_ok_and(|metadata| metadata.file_type().is_fifo());
        // SAFETY: isatty only asks about descriptor 2.
        let is_terminal = unsafe { libc::isatty(libc::STDERR_FILENO) } == 1;
        let pipe = (is_fifo || is_terminal)
            .then(|| {
                OpenOptions::new()
                    .write(true)
                    // O_NOCTTY: opening a terminal must never make it Phoenix's own.
                    .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY)
                    .open("/proc/self/fd/2")
                    .ok()
            })
            .flatten();
        Console { pipe, dropped: 0 }
    }

    /// Writes `line` at once or not at all (false).
    fn write_now(&mut self, line: &[u8]) -> bool {
        let line = line.get(..MAX_LINE).unwrap_or(line);
        match &mut self.pipe {
            // EAGAIN: full; anything else (EPIPE: nobody reads) loses the line all the same.
            // A pipe takes a line of up to PIPE_BUF bytes whole or not at all; a terminal
            // may take part of it, which counts as lost.
            Some(pipe) => pipe.write(line).is_ok_and(|written| written == line.len()),
            None => {
                let stderr = io::stderr();
                let mut fds = [PollFd::new(stderr.as_fd(), PollFlags::POLLOUT)];
                let is_writable = matches!(poll(&mut fds, PollTimeout::ZERO), Ok(n) if n > 0)
                    && fds
                        .first()
                        .and_then(PollFd::revents)
                        .is_some_and(|events| events.contains(PollFlags::POLLOUT));
                is_writable && stderr.lock().write(line).is_ok()
            }
        }
    }
}

impl Write for Console {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.dropped > 0 {
            let note = format!(
                "[phoenix] warn: {} log lines dropped: the console did not take them\n",
                self.dropped
            );
            if !self.write_now(note.as_bytes()) {
                self.dropped += 1;
                return Ok(buf.len());
            }
            self.dropped = 0;
        }
        if !self.write_now(buf) {
            self.dropped += 1;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Waits, at most `limit`, until a terminal on stderr has sent what it holds: the last
/// step before `reboot(2)`, which would lose whatever a slow serial console still buffers
/// (the last service's goodbye, the final sequence's own lines). Never longer than `limit`,
/// so a console stopped by flow control cannot hold up a power-off.
pub fn drain_terminal(limit: std::time::Duration) {
    let deadline = std::time::Instant::now() + limit;
    loop {
        let mut pending: libc::c_int = 0;
        // SAFETY: TIOCOUTQ writes one int through the valid pointer; on anything but a
        // terminal it fails, and there is nothing to wait for.
        let asked = unsafe { libc::ioctl(libc::STDERR_FILENO, libc::TIOCOUTQ, &mut pending) };
        if asked != 0 || pending <= 0 || std::time::Instant::now() >= deadline {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}
