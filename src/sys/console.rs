//! Phoenix's stdout and stderr as outputs for captured lines, written without ever
//! blocking. A pipe or terminal is opened again through `/proc/self/fd/N`, which gives a
//! file description of Phoenix's own, made non-blocking without touching the one the
//! services that inherit the console share; when that fails, a write is only tried after
//! `poll` says there is room, and at most `PIPE_BUF` bytes of it, which then fit.

use std::io::IoSlice;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::stat::Mode;

/// What a write at most may be when only `poll` vouches for the room.
const PIPE_BUF: usize = 4096;

pub struct ConsoleSink {
    /// A non-blocking description of our own, or none (write to `target` after `poll`).
    own: Option<OwnedFd>,
    target: RawFd,
    /// A regular file (a redirected stdout): writes never wait on a reader.
    is_file: bool,
}

/// The outcome of one write.
pub enum Written {
    Bytes(usize),
    /// No room now; try again when the sink is writable.
    Full,
    /// The reader is gone or the descriptor is unusable: the lines cannot be delivered.
    Broken(Errno),
}

impl ConsoleSink {
    /// Phoenix's descriptor `target` (1 or 2).
    pub fn open(target: RawFd) -> ConsoleSink {
        // SAFETY: 1 and 2 stay open for Phoenix's life (init points them at /dev/null
        // at worst); borrowed only for this fstat.
        let borrowed = unsafe { BorrowedFd::borrow_raw(target) };
        let is_file = nix::sys::stat::fstat(borrowed)
            .is_ok_and(|stat| stat.st_mode & libc::S_IFMT == libc::S_IFREG);
        let own = if is_file {
            None
        } else {
            nix::fcntl::open(
                format!("/proc/self/fd/{target}").as_str(),
                OFlag::O_WRONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC | OFlag::O_NOCTTY,
                Mode::empty(),
            )
            .ok()
        };
        ConsoleSink {
            own,
            target,
            is_file,
        }
    }

    /// The descriptor to watch for writability.
    pub fn raw_fd(&self) -> RawFd {
        self.own.as_ref().map_or(self.target, AsRawFd::as_raw_fd)
    }

    pub fn write(&self, slices: &[IoSlice<'_>]) -> Written {
        if let Some(own) = &self.own {
            return outcome(nix::sys::uio::writev(own, slices));
        }
        // SAFETY: as in `open`.
        let target = unsafe { BorrowedFd::borrow_raw(self.target) };
        if self.is_file {
            return outcome(nix::sys::uio::writev(target, slices));
        }
        let mut poll = [PollFd::new(target.as_fd(), PollFlags::POLLOUT)];
        match nix::poll::poll(&mut poll, PollTimeout::ZERO) {
            Ok(1) => {}
            Ok(_) | Err(Errno::EINTR) => return Written::Full,
            Err(errno) => return Written::Broken(errno),
        }
        let first = slices.first().map_or(&[][..], |slice| &slice[..]);
        let part = first.get(..first.len().min(PIPE_BUF)).unwrap_or(first);
        outcome(nix::unistd::write(target, part))
    }
}

fn outcome(result: nix::Result<usize>) -> Written {
    match result {
        Ok(count) => Written::Bytes(count),
        Err(Errno::EAGAIN | Errno::EINTR) => Written::Full,
        Err(errno) => Written::Broken(errno),
    }
}
