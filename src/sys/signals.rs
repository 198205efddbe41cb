//! Signals arrive through a signalfd: every catchable signal is blocked and read as data, so
//! there are no handlers, no async-signal-safety rules and no self-pipe. Blocked signals are
//! also how PID 1 of a namespace receives signals at all: the kernel drops a signal sent to
//! such a PID 1 only when its disposition is the default, and blocked signals never are.

use std::os::fd::{AsRawFd, RawFd};

use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, Signal as NixSignal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use crate::unit::Signal;

/// What a child must undo before exec: Phoenix's mask and every ignored disposition
/// (both survive exec). Found once at start-up, so a spawn resets only what needs it.
pub struct ChildSignals {
    /// The mask Phoenix was started with; children get it back.
    pub original_mask: libc::sigset_t,
    /// Signals ignored in Phoenix: Rust's SIGPIPE, Phoenix's TTIN/TTOU, and whatever
    /// Phoenix's own parent ignored (a shell ignores INT and QUIT for background jobs).
    pub ignored: Vec<libc::c_int>,
}

pub struct SignalSource {
    fd: SignalFd,
    child: ChildSignals,
    own_pid: u32,
}

/// One received signal and whether Phoenix raised it itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    pub signal: Signal,
    pub from_self: bool,
}

impl SignalSource {
    /// Blocks every signal but TTIN and TTOU (ignored, so Phoenix in a background process
    /// group is never stopped by its terminal) and opens a signalfd for them.
    pub fn install() -> nix::Result<SignalSource> {
        let mut ignored = inherited_ignored_signals();
        ignored.extend([libc::SIGTTIN, libc::SIGTTOU]);
        for ignored in [NixSignal::SIGTTIN, NixSignal::SIGTTOU] {
            // SAFETY: SIG_IGN installs no handler code; nothing can run in signal context.
            unsafe { nix::sys::signal::signal(ignored, SigHandler::SigIgn) }?;
        }
        let mut mask = SigSet::all();
        mask.remove(NixSignal::SIGTTIN);
        mask.remove(NixSignal::SIGTTOU);
        let mut original = SigSet::empty();
        nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&mask), Some(&mut original))?;
        let fd = SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)?;
        Ok(SignalSource {
            fd,
            child: ChildSignals {
                original_mask: *original.as_ref(),
                ignored,
            },
            own_pid: std::process::id(),
        })
    }

    pub fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    pub fn child_signals(&self) -> &ChildSignals {
        &self.child
    }

    /// Reads every queued signal (the fd is non-blocking).
    pub fn read_all(&self, out: &mut Vec<Received>) {
        loop {
            match self.fd.read_signal() {
                Ok(Some(info)) => {
                    let number = i32::try_from(info.ssi_signo).unwrap_or(0);
                    if let Some(signal) = Signal::from_number(number) {
                        out.push(Received {
                            signal,
                            from_self: info.ssi_pid == self.own_pid,
                        });
                    }
                }
                Ok(None) => return,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(error) => {
                    log::warn!("reading signals: {error}");
                    return;
                }
            }
        }
    }
}

/// Every signal whose disposition is SIG_IGN right now.
fn inherited_ignored_signals() -> Vec<libc::c_int> {
    (1..=libc::SIGRTMAX())
        .filter(|&signal| {
            // SAFETY: a zeroed sigaction is a valid out-parameter; a null new action only
            // queries the current one.
            let mut current: libc::sigaction = unsafe { std::mem::zeroed() };
            let queried = unsafe { libc::sigaction(signal, std::ptr::null(), &mut current) } == 0;
            queried && current.sa_sigaction == libc::SIG_IGN
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::unit::Signal;
    use crate::unit::signal::{RTMAX, RTMIN};

    #[test]
    fn signal_numbers_match_libc() {
        for (name, number) in [
            ("HUP", libc::SIGHUP),
            ("INT", libc::SIGINT),
            ("QUIT", libc::SIGQUIT),
            ("KILL", libc::SIGKILL),
            ("USR1", libc::SIGUSR1),
            ("USR2", libc::SIGUSR2),
            ("PIPE", libc::SIGPIPE),
            ("TERM", libc::SIGTERM),
            ("CHLD", libc::SIGCHLD),
            ("CONT", libc::SIGCONT),
            ("STOP", libc::SIGSTOP),
            ("TSTP", libc::SIGTSTP),
            ("TTIN", libc::SIGTTIN),
            ("TTOU", libc::SIGTTOU),
            ("WINCH", libc::SIGWINCH),
            ("PWR", libc::SIGPWR),
            ("SYS", libc::SIGSYS),
            ("STKFLT", libc::SIGSTKFLT),
            ("URG", libc::SIGURG),
            ("IO", libc::SIGIO),
            ("ALRM", libc::SIGALRM),
        ] {
            assert_eq!(name.parse::<Signal>().unwrap().number(), number, "{name}");
        }
        assert_eq!(RTMIN, libc::SIGRTMIN());
        assert_eq!(RTMAX, libc::SIGRTMAX());
    }
}
