//! Reaping: drain `waitpid(-1, WNOHANG)` until nothing is left, because SIGCHLDs merge and
//! one wake-up may stand for thousands of exits. Wait statuses become `ExitStatus` here.

use crate::core::Pid;
use crate::exit_status::ExitStatus;
use crate::unit::Signal;

/// Reaps every child that has exited, appending it to `out`. Returns whether any child
/// remains (false once `waitpid` says ECHILD).
pub fn reap_children(out: &mut Vec<(Pid, ExitStatus)>) -> bool {
    loop {
        let mut raw = 0;
        // SAFETY: `raw` is a valid out-pointer for the duration of the call.
        let pid = unsafe { libc::waitpid(-1, &mut raw, libc::WNOHANG) };
        match pid {
            0 => return true,
            pid if pid > 0 => {
                if let Some(status) = exit_status(raw) {
                    out.push((pid, status));
                }
            }
            _ => match nix::errno::Errno::last() {
                nix::errno::Errno::EINTR => continue,
                nix::errno::Errno::ECHILD => return false,
                errno => {
                    log::warn!("waitpid: {errno}");
                    return true;
                }
            },
        }
    }
}

/// Converts a raw wait status of a terminated child; `None` for stop/continue reports.
pub fn exit_status(raw: i32) -> Option<ExitStatus> {
    if libc::WIFEXITED(raw) {
        return Some(ExitStatus::Code(
            u8::try_from(libc::WEXITSTATUS(raw)).unwrap_or(u8::MAX),
        ));
    }
    if libc::WIFSIGNALED(raw) {
        return Signal::from_number(libc::WTERMSIG(raw)).map(ExitStatus::Signal);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_exit_codes_and_signals() {
        assert_eq!(exit_status(7 << 8), Some(ExitStatus::Code(7)));
        assert_eq!(exit_status(9), Some(ExitStatus::Signal(Signal::KILL)));
        assert_eq!(
            exit_status(9 | 0x80),
            Some(ExitStatus::Signal(Signal::KILL))
        );
        assert_eq!(exit_status(37), Some(ExitStatus::Signal(Signal::RTMIN_3)));
        assert_eq!(exit_status(0x137f), None);
    }
}
