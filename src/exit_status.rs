//! How a process ended, in Phoenix's own terms: an exit code or a signal. The OS boundary
//! converts wait statuses into this; nothing above it sees raw status words or sentinels.

use std::fmt;

use crate::unit::Signal;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExitStatus {
    /// `exit(code)` or a return from `main`.
    Code(u8),
    /// Killed by a signal (a core dump is still just the signal).
    Signal(Signal),
}

/// Exit code for "the command could not be found", as shells use it.
pub const NOT_FOUND: u8 = 127;
/// Exit code for "the command was found but could not be executed".
pub const NOT_EXECUTABLE: u8 = 126;

impl ExitStatus {
    /// The status a shell would report: the code, or `128 + N` for signal N.
    pub fn shell_code(self) -> u8 {
        match self {
            ExitStatus::Code(code) => code,
            ExitStatus::Signal(signal) => u8::try_from(128 + signal.number()).unwrap_or(u8::MAX),
        }
    }

    pub fn is_success(self) -> bool {
        self == ExitStatus::Code(0)
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitStatus::Code(code) => write!(f, "exit {code}"),
            ExitStatus::Signal(signal) => write!(f, "killed by {signal}"),
        }
    }
}

/// Maps a status to Phoenix's own exit code, turning every code listed with `-e` into 0.
pub fn remap_exit_code(status: ExitStatus, success_codes: &[u8]) -> u8 {
    let code = status.shell_code();
    if success_codes.contains(&code) {
        0
    } else {
        code
    }
}

/// The `-w` line for a reaped orphan. It keeps tini's own phrase, so tools and tests that
/// grep tini's output for `Reaped zombie process with pid=N` find it.
pub fn reaped_orphan_line(pid: i32, status: ExitStatus) -> String {
    format!("Reaped zombie process with pid={pid} (orphan, {status})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_codes() {
        assert_eq!(ExitStatus::Code(7).shell_code(), 7);
        assert_eq!(ExitStatus::Signal(Signal::KILL).shell_code(), 137);
        assert_eq!(ExitStatus::Signal(Signal::TERM).shell_code(), 143);
        let rtmax = Signal::from_number(64).unwrap();
        assert_eq!(ExitStatus::Signal(rtmax).shell_code(), 192);
    }

    #[test]
    fn remaps_listed_codes_only() {
        let term = ExitStatus::Signal(Signal::TERM);
        assert_eq!(remap_exit_code(term, &[143]), 0);
        assert_eq!(remap_exit_code(term, &[1, 2]), 143);
        assert_eq!(remap_exit_code(ExitStatus::Code(3), &[3]), 0);
        assert_eq!(remap_exit_code(ExitStatus::Code(0), &[]), 0);
    }

    #[test]
    fn displays_plainly() {
        assert_eq!(ExitStatus::Code(1).to_string(), "exit 1");
        assert_eq!(
            ExitStatus::Signal(Signal::KILL).to_string(),
            "killed by SIGKILL"
        );
    }
}
