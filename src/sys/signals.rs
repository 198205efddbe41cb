//! Signals arrive through a signalfd: every catchable signal is blocked and read as data, so
//! there are no handlers, no async-signal-safety rules and no self-pipe. Blocked signals are
//! also how PID 1 of a namespace receives signals at all: the kernel drops a signal sent to
//! such a PID 1 only when its disposition is the default, and blocked signals never are.

use std::os::fd::{AsRawFd, RawFd};

use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, Signal as NixSignal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use crate::unit::Signal;

/// What a child must undo before exec: Phoenix's mask and ignored dispositions (both
/// survive exec). Found once at start-up, so a spawn resets only what needs it.
pub struct ChildSignals {
    /// The mask Phoenix was started with: tini mode's command gets it back.
    pub original_mask: libc::sigset_t,
    /// The empty mask services start with, as under systemd and s6.
    pub empty_mask: libc::sigset_t,
    /// Signals ignored in Phoenix: Rust's SIGPIPE, Phoenix's TTIN/TTOU, and whatever
    /// Phoenix's own parent ignored (`nohup` ignores HUP, a shell INT and QUIT for
    /// background jobs). Services get every one back to its default. Complete only when
    /// installed with `every_signal` (services mode); tini mode spawns no service.
    pub ignored: Vec<libc::c_int>,
    /// Only what Phoenix itself changed: SIGPIPE, TTIN and TTOU, each unless the parent
    /// already ignored it (`sys::start` saw SIGPIPE's before ignoring it). Tini mode's
    /// command keeps the rest, as tini's does.
    pub changed_by_phoenix: Vec<libc::c_int>,
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
    /// `every_signal`: find every inherited ignored disposition (one system call per
    /// signal, for `ignored`); otherwise only TTIN's and TTOU's, all `changed_by_phoenix`
    /// needs, and `ignored` holds only what Phoenix itself ignores.
    pub fn install(every_signal: bool) -> nix::Result<SignalSource> {
        let inherited = if every_signal {
            inherited_ignored_signals(1..=libc::SIGRTMAX())
        } else {
            inherited_ignored_signals([libc::SIGTTIN, libc::SIGTTOU])
        };
        let mut changed_by_phoenix: Vec<libc::c_int> = [libc::SIGTTIN, libc::SIGTTOU]
            .into_iter()
            .filter(|signal| !inherited.contains(signal))
            .collect();
        if !crate::sys::start::sigpipe_was_ignored() {
            changed_by_phoenix.push(libc::SIGPIPE);
        }
        // What Phoenix ignores itself (changed_by_phoenix is a part of it) and what it found.
        let mut ignored = inherited;
        ignored.extend([libc::SIGPIPE, libc::SIGTTIN, libc::SIGTTOU]);
        ignored.sort_unstable();
        ignored.dedup();
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
                empty_mask: *SigSet::empty().as_ref(),
                ignored,
                changed_by_phoenix,
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

/// The kernel's `struct sigaction` for `rt_sigaction(2)`. glibc's wrapper refuses its two
/// internal signals (32 and 33), yet a parent can hand them over ignored (glibc's own
/// `posix_spawn` leaves 32 so), so Phoenix asks and resets through the system call itself.
#[repr(C)]
struct KernelSigaction {
    handler: libc::sighandler_t,
    flags: libc::c_ulong,
    restorer: usize,
    mask: u64,
}

/// The size of the kernel's signal set, which `rt_sigaction` insists on.
const KERNEL_SIGSET_SIZE: usize = 8;

/// The signals of `candidates` whose disposition is SIG_IGN right now.
fn inherited_ignored_signals(
    candidates: impl IntoIterator<Item = libc::c_int>,
) -> Vec<libc::c_int> {
    candidates
        .into_iter()
        .filter(|&signal| {
            let mut current = KernelSigaction {
                handler: libc::SIG_DFL,
                flags: 0,
                restorer: 0,
                mask: 0,
            };
            // SAFETY: a null new action only queries; `current` is a valid out-parameter
            // of the kernel's layout and size.
            let queried = unsafe {
                libc::syscall(
                    libc::SYS_rt_sigaction,
                    signal,
                    std::ptr::null::<KernelSigaction>(),
                    &mut current as *mut KernelSigaction,
                    KERNEL_SIGSET_SIZE,
                )
            } == 0;
            queried && current.handler == libc::SIG_IGN
        })
        .collect()
}

/// Puts `signal` back to its default disposition.
///
/// # Safety
/// Async-signal-safe (one system call on stack memory): fit for the child side of a fork.
pub unsafe fn reset_to_default(signal: libc::c_int) {
    let default = KernelSigaction {
        handler: libc::SIG_DFL,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    // SAFETY: `default` is a valid action of the kernel's layout; no old action is asked.
    unsafe {
        libc::syscall(
            libc::SYS_rt_sigaction,
            signal,
            &default as *const KernelSigaction,
            std::ptr::null_mut::<KernelSigaction>(),
            KERNEL_SIGSET_SIZE,
        );
    }
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
