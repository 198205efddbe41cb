//! What Rust's own start-up (`lang_start`) did before `main` that Phoenix keeps, for a
//! `phoenix` whose entry point is C's `main` (see `src/main.rs`): the standard
//! descriptors 0–2 opened on `/dev/null` when closed, and SIGPIPE ignored — now with a
//! look at its disposition before, so tini mode's command gets SIGPIPE as Phoenix's parent
//! left it (std's start-up ignored it before anyone could look). Left out is
//! the stack-overflow report (a read of `/proc/self/maps`, an alternate signal stack,
//! SIGSEGV and SIGBUS handlers, a dozen system calls at every start); an overflow still
//! ends the process with SIGSEGV, with or without the message.

use std::sync::atomic::{AtomicBool, Ordering};

/// Call first, before anything opens a file: a closed 0, 1 or 2 would otherwise be handed
/// to the next file opened, and logging to stderr would write into it.
pub fn prepare_process() {
    let mut standard = [0, 1, 2].map(|fd| libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    });
    // SAFETY: `standard` is a valid array of three pollfd; a zero timeout never blocks.
    let polled = unsafe { libc::poll(standard.as_mut_ptr(), 3, 0) };
    if polled > 0 {
        for entry in standard.iter().filter(|e| e.revents & libc::POLLNVAL != 0) {
            // SAFETY: a constant C string; the lowest free descriptor is the closed one.
            let fd = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
            if fd >= 0 && fd != entry.fd {
                // Not the one that was closed (another below it was filled first).
                // SAFETY: fd was just opened; dup2 onto a closed descriptor.
                unsafe {
                    libc::dup2(fd, entry.fd);
                    libc::close(fd);
                }
            }
        }
    }
    // SAFETY: SIG_IGN installs no handler code. A write to a closed pipe or socket is
    // then EPIPE, handled where it happens, never a signal.
    let before = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    SIGPIPE_WAS_IGNORED.store(before == libc::SIG_IGN, Ordering::Relaxed);
}

/// Whether SIGPIPE was already ignored when Phoenix started (false before
/// `prepare_process`, as in a test binary, whose std start-up ignored it).
pub fn sigpipe_was_ignored() -> bool {
    SIGPIPE_WAS_IGNORED.load(Ordering::Relaxed)
}

static SIGPIPE_WAS_IGNORED: AtomicBool = AtomicBool::new(false);

#[cfg(test)]
mod tests {
    #[test]
    fn sigpipe_is_ignored_afterwards() {
        super::prepare_process();
        // SAFETY: an all-zero sigaction is a valid value of the C struct.
        let mut current: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: a null new action only queries into `current`.
        unsafe { libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut current) };
        assert_eq!(current.sa_sigaction, libc::SIG_IGN);
    }
}
