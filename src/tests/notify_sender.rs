//! A sender for the notify tests that leads a process group of its own, as a service's
//! process does. The test runner's own group cannot serve: its leader may live outside
//! this PID namespace, and `/proc/self/stat` then reports group 0.

use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixDatagram;
use std::path::Path;

use nix::sys::socket::{SockaddrLike, UnixAddr};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};

use crate::core::Pid;

/// A child that sent one datagram and exited; it stays a zombie, its group still
/// readable, until this is dropped.
pub(crate) struct GroupSender {
    pub pid: Pid,
}

impl GroupSender {
    /// Forks a child that leads a new process group, sends `bytes` to `path` with
    /// `rights` attached, and exits 0 when the kernel took the datagram.
    #[track_caller]
    pub fn send(path: &Path, bytes: &[u8], rights: &[RawFd]) -> GroupSender {
        let socket = UnixDatagram::unbound().unwrap();
        let address = UnixAddr::new(path).unwrap();
        let mut iov = libc::iovec {
            iov_base: bytes.as_ptr() as *mut libc::c_void,
            iov_len: bytes.len(),
        };
        let rights_len = std::mem::size_of_val(rights) as u32;
        // SAFETY: CMSG_SPACE is arithmetic.
        let mut control = vec![0u8; unsafe { libc::CMSG_SPACE(rights_len) } as usize];
        // SAFETY: an all-zero msghdr is valid; every pointer set below outlives the send.
        let mut message: libc::msghdr = unsafe { std::mem::zeroed() };
        message.msg_name = address.as_ptr() as *mut libc::c_void;
        message.msg_namelen = address.len();
        message.msg_iov = &mut iov;
        message.msg_iovlen = 1;
        if !rights.is_empty() {
            message.msg_control = control.as_mut_ptr().cast();
            message.msg_controllen = control.len();
            // SAFETY: the control buffer has room for one header and the descriptors.
            unsafe {
                let header = libc::CMSG_FIRSTHDR(&message);
                (*header).cmsg_level = libc::SOL_SOCKET;
                (*header).cmsg_type = libc::SCM_RIGHTS;
                (*header).cmsg_len = libc::CMSG_LEN(rights_len) as usize;
                std::ptr::copy_nonoverlapping(
                    rights.as_ptr(),
                    libc::CMSG_DATA(header).cast::<RawFd>(),
                    rights.len(),
                );
            }
        }
        // SAFETY: the child calls only async-signal-safe functions (setpgid, sendmsg,
        // _exit) on memory prepared before the fork.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            // SAFETY: as above.
            unsafe {
                libc::setpgid(0, 0);
                let sent = libc::sendmsg(socket.as_raw_fd(), &message, 0);
                libc::_exit(if sent < 0 { 1 } else { 0 });
            }
        }
        let exited = waitid(
            Id::Pid(nix::unistd::Pid::from_raw(pid)),
            WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT,
        )
        .unwrap();
        assert!(matches!(exited, WaitStatus::Exited(_, 0)), "{exited:?}");
        GroupSender { pid }
    }
}

impl Drop for GroupSender {
    fn drop(&mut self) {
        let mut status = 0;
        // SAFETY: reaps the child this sender forked.
        unsafe { libc::waitpid(self.pid, &mut status, 0) };
    }
}
