//! The notify socket (DESIGN.md §4.1): an `AF_UNIX` datagram socket that services reach
//! through `NOTIFY_SOCKET`, read without ever blocking, every datagram stamped by the kernel
//! with its sender's pid and uid (`SO_PASSCRED`). It owns the socket file and the reading;
//! it does not parse datagrams (`crate::notify` does) and does not decide whom to believe:
//! the caller checks each sender with [`sender_belongs_to`] before acting on its words.
//!
//! The caller chooses the path, one socket per service (`<runtime-dir>/notify/NAME.sock`),
//! so the socket a datagram arrives on names its service and a sender can only speak for
//! the service whose socket it was given.
//!
//! Permissions: the socket file is mode 0666, in a directory created 0755. A service may run
//! as any user (a unit's `user`) and sending needs write permission on the file and search
//! permission on every directory above it, so anything stricter would need a chown per
//! service user — and would still fail for services that change user after start-up. As
//! with systemd's own `/run/systemd/notify` (0777 in a 0755 directory), the file mode is
//! not what keeps strangers out: the credentials are. The kernel fills them in itself and
//! lets no unprivileged sender claim another pid or uid, so a stranger's datagram is read
//! and dropped. An existing directory keeps its owner's mode; one that is not searchable by
//! a service's user (a 0700 runtime directory) makes the socket unreachable for it.
//!
//! Reading is bounded (a flood cannot starve the loop) and total: EINTR is retried, an
//! oversized or credential-less datagram is dropped, any other error ends the reading and
//! is logged once until a read succeeds again.

use std::cell::Cell;
use std::fs;
use std::io::{self, IoSliceMut};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::socket::{
    self, AddressFamily, ControlMessageOwned, MsgFlags, RecvMsg, SockFlag, SockType, UnixAddr,
    UnixCredentials, sockopt,
};

use crate::core::Pid;
use crate::notify::MAX_DATAGRAM;

/// The socket file's mode: writable by every user, so that any service can send.
const SOCKET_MODE: u32 = 0o666;

/// The mode of a directory created for the socket: searchable by every user.
const DIRECTORY_MODE: u32 = 0o755;

/// Linux's limit on descriptors in one message (`SCM_MAX_FD`). Room for that many keeps
/// the control data from ever being truncated, so every passed descriptor is seen and
/// closed rather than leaked.
const MAX_PASSED_DESCRIPTORS: usize = 253;

/// One datagram and who sent it, as the kernel stamped it.
#[derive(Debug)]
pub struct Datagram {
    /// The sending process, in Phoenix's pid namespace (0 when it lives in a namespace
    /// Phoenix cannot see).
    pub sender_pid: Pid,
    pub sender_uid: u32,
    pub bytes: Vec<u8>,
    /// Descriptors sent along (`FDSTORE=1`, or the pipe of `systemd-notify`'s `BARRIER=1`),
    /// closed when the datagram is dropped. Closing the barrier pipe is what lets a waiting
    /// `systemd-notify` exit, so drop the datagrams after checking their senders: until
    /// then the sender is alive and [`sender_belongs_to`] can still place it.
    pub descriptors: Vec<OwnedFd>,
}

/// Why [`NotifySocket::receive_all`] stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reading {
    /// Nothing is left to read (or reading failed): wait for the next readiness event.
    Drained,
    /// The budget ran out with datagrams possibly still queued. Readiness is
    /// edge-triggered, so the caller must come back (re-register, or read again later in
    /// the same wake-up) or they wait for the next datagram.
    BudgetSpent,
}

pub struct NotifySocket {
    path: PathBuf,
    /// The socket file we created, so that drop never removes a successor's.
    inode: (u64, u64),
    socket: OwnedFd,
    /// The error last logged, so that a persisting one is logged once.
    last_error: Cell<Option<Errno>>,
}

impl NotifySocket {
    /// Binds a non-blocking, close-on-exec datagram socket at `path` with `SO_PASSCRED`,
    /// creating its directory (0755) if missing and replacing a stale socket file.
    pub fn bind(path: &Path) -> io::Result<NotifySocket> {
        let context = |what: &str, error: io::Error| {
            io::Error::new(
                error.kind(),
                format!("notify socket {}: {what}: {error}", path.display()),
            )
        };
        super::socket_file::prepare_directory(path, DIRECTORY_MODE)
            .map_err(|error| context("creating its directory", error))?;
        super::socket_file::remove_stale_socket(path, SockType::Datagram)
            .map_err(|error| context("replacing it", error))?;
        let socket = bind_datagram(path).map_err(|error| context("binding", error))?;
        let metadata = fs::symlink_metadata(path).map_err(|error| context("stat", error))?;
        Ok(NotifySocket {
            path: path.to_path_buf(),
            inode: (metadata.dev(), metadata.ino()),
            socket,
            last_error: Cell::new(None),
        })
    }

    /// The descriptor to register for readable events (`mio::unix::SourceFd`).
    pub fn raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads queued datagrams until none is left or `budget` datagrams were read (dropped
    /// ones count too, so a flood of junk is bounded like any other). Each is shown to
    /// `accept` at once, while its sender still holds the descriptors it passed (a waiting
    /// `systemd-notify` cannot exit and be reaped before its credentials are checked); then
    /// those descriptors are closed, so one datagram's worth at most is ever held, and the
    /// accepted ones go to `out`.
    pub fn receive_all(
        &self,
        out: &mut Vec<Datagram>,
        budget: usize,
        accept: &mut dyn FnMut(&Datagram) -> bool,
    ) -> Reading {
        let mut buffer = [0u8; MAX_DATAGRAM + 1];
        let mut control = nix::cmsg_space!(libc::ucred, [RawFd; MAX_PASSED_DESCRIPTORS]);
        for _ in 0..budget {
            match self.receive_one(&mut buffer, &mut control) {
                Ok(Some(mut datagram)) => {
                    let accepted = accept(&datagram);
                    datagram.descriptors.clear();
                    if accepted {
                        out.push(datagram);
                    }
                }
                Ok(None) => {}
                Err(Errno::EAGAIN) => return Reading::Drained,
                Err(errno) => {
                    if self.last_error.replace(Some(errno)) != Some(errno) {
                        log::warn!("notify socket {}: reading: {errno}", self.path.display());
                    }
                    return Reading::Drained;
                }
            }
        }
        Reading::BudgetSpent
    }

    /// One datagram; `None` when it was read and dropped.
    fn receive_one(
        &self,
        buffer: &mut [u8],
        control: &mut [u8],
    ) -> Result<Option<Datagram>, Errno> {
        // MSG_TRUNC makes the length the datagram's own, however much of it fit. A zeroed
        // control buffer ends where the kernel's messages end, should it have to be walked.
        control.fill(0);
        let flags = MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_CMSG_CLOEXEC | MsgFlags::MSG_TRUNC;
        let mut iov = [IoSliceMut::new(buffer)];
        let message = loop {
            match socket::recvmsg::<()>(self.raw_fd(), &mut iov, Some(&mut *control), flags) {
                Err(Errno::EINTR) => continue,
                result => break result?,
            }
        };
        self.last_error.set(None);
        let length = message.bytes;
        let truncated = message.flags.contains(MsgFlags::MSG_TRUNC);
        if message.flags.contains(MsgFlags::MSG_CTRUNC) {
            // Cut control data (Phoenix's descriptor table was full): nix will not walk it,
            // but the descriptors that did arrive are ours and must be closed.
            close_passed_descriptors(control);
            log::debug!(
                "notify socket {}: datagram with cut control data dropped",
                self.path.display()
            );
            return Ok(None);
        }
        let (credentials, descriptors) = control_data(&message);
        let Some(credentials) = credentials else {
            log::debug!(
                "notify socket {}: datagram without credentials (or with cut control data) dropped",
                self.path.display()
            );
            return Ok(None);
        };
        if length > MAX_DATAGRAM || truncated {
            log::debug!(
                "notify socket {}: {length}-byte datagram from pid {} dropped (at most {MAX_DATAGRAM})",
                self.path.display(),
                credentials.pid()
            );
            return Ok(None);
        }
        let bytes = buffer.get(..length).map(<[u8]>::to_vec).unwrap_or_default();
        Ok(Some(Datagram {
            sender_pid: credentials.pid(),
            sender_uid: credentials.uid(),
            bytes,
            descriptors,
        }))
    }
}

/// The credentials and the descriptors that came with a message. Control data is never cut
/// short with room for `SCM_MAX_FD` descriptors; were it anyway, nix would not walk it and
/// the descriptors that fit could not be found to be closed.
fn control_data(message: &RecvMsg<'_, '_, ()>) -> (Option<UnixCredentials>, Vec<OwnedFd>) {
    let mut credentials = None;
    let mut descriptors = Vec::new();
    for control_message in message.cmsgs().into_iter().flatten() {
        match control_message {
            ControlMessageOwned::ScmCredentials(found) => credentials = Some(found),
            ControlMessageOwned::ScmRights(fds) => {
                for fd in fds {
                    // SAFETY: the kernel has just installed this descriptor in our table
                    // for this message; nothing else refers to it.
                    descriptors.push(unsafe { OwnedFd::from_raw_fd(fd) });
                }
            }
            _ => {}
        }
    }
    (credentials, descriptors)
}

/// Closes every descriptor an `SCM_RIGHTS` message in the (zero-padded) control buffer
/// carries; what nix cannot read when the kernel set `MSG_CTRUNC`.
fn close_passed_descriptors(control: &[u8]) {
    // SAFETY: a zeroed msghdr is valid; only its control fields are used.
    let mut header: libc::msghdr = unsafe { std::mem::zeroed() };
    header.msg_control = control.as_ptr() as *mut libc::c_void;
    header.msg_controllen = control.len();
    let end = control.as_ptr_range().end as usize;
    // SAFETY: CMSG_FIRSTHDR/CMSG_NXTHDR stay within msg_controllen (glibc checks each
    // header's length against it) and return null past the last one; the zero padding
    // after the kernel's messages reads as a header too short to be one.
    let mut message = unsafe { libc::CMSG_FIRSTHDR(&header) };
    while !message.is_null() {
        // SAFETY: `message` points at a whole header inside `control` (see above); the
        // descriptors are read unaligned and only up to the buffer's end.
        unsafe {
            let found = std::ptr::read_unaligned(message);
            if found.cmsg_level == libc::SOL_SOCKET && found.cmsg_type == libc::SCM_RIGHTS {
                let data = libc::CMSG_DATA(message);
                let length = (found.cmsg_len as usize).saturating_sub(libc::CMSG_LEN(0) as usize);
                let available = end.saturating_sub(data as usize);
                let count = length.min(available) / std::mem::size_of::<libc::c_int>();
                for index in 0..count {
                    let fd = std::ptr::read_unaligned(
                        data.add(index * std::mem::size_of::<libc::c_int>()) as *const libc::c_int,
                    );
                    libc::close(fd);
                }
            }
            message = libc::CMSG_NXTHDR(&header, message);
        }
    }
}

impl Drop for NotifySocket {
    /// Removes the socket file, if it is still the one we bound.
    fn drop(&mut self) {
        let is_ours = fs::symlink_metadata(&self.path)
            .is_ok_and(|metadata| (metadata.dev(), metadata.ino()) == self.inode);
        if is_ours {
            if let Err(error) = fs::remove_file(&self.path) {
                log::warn!("notify socket {}: removing: {error}", self.path.display());
            }
        }
    }
}

/// Whether `sender_pid` is in the process group or the session led by `group` (a service
/// leads its own session, so both equal its first pid), read from `/proc/PID/stat` now.
///
/// The credentials name the sender as it was when it sent; this asks about it as it is, so
/// ask before dropping the datagrams. A sender that exited but is not reaped yet still
/// counts (a zombie keeps its group); a reaped one cannot be placed and does not. Hence:
/// - `systemd-notify` waits (by default) until its `BARRIER=1` datagram is dropped, so it
///   is alive while its datagrams are held; as root it even claims its parent's pid.
/// - A sender that does not wait (`--no-block`, `sd_notify` just before exit) is placed
///   only if the read comes before its parent reaps it. Read the notify sockets before
///   draining `waitpid` in a wake-up: an orphaned sender's parent is Phoenix itself.
/// - A process that left the service's session (a daemon's `setsid`) is not placed.
pub fn sender_belongs_to(sender_pid: Pid, group: Pid) -> bool {
    if sender_pid <= 0 || group <= 0 {
        return false;
    }
    fs::read_to_string(format!("/proc/{sender_pid}/stat"))
        .ok()
        .and_then(|stat| group_and_session(&stat))
        .is_some_and(|(process_group, session)| process_group == group || session == group)
}

/// Fields 5 and 6 of a `/proc/PID/stat` line; the command name may contain spaces and
/// parentheses, so parse after the last ')'.
fn group_and_session(stat: &str) -> Option<(Pid, Pid)> {
    let after_name = stat.get(stat.rfind(')')? + 1..)?;
    let mut fields = after_name.split_whitespace().skip(2);
    Some((fields.next()?.parse().ok()?, fields.next()?.parse().ok()?))
}

fn bind_datagram(path: &Path) -> io::Result<OwnedFd> {
    let socket = socket::socket(
        AddressFamily::Unix,
        SockType::Datagram,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    // Before bind, so that no datagram ever arrives without credentials.
    socket::setsockopt(&socket, sockopt::PassCred, &true)?;
    socket::bind(socket.as_raw_fd(), &UnixAddr::new(path)?)?;
    // A socket file's mode cannot be set through its descriptor; until this chmod it is
    // the umask's, never more open than 0666 wants.
    if let Err(error) = fs::set_permissions(path, fs::Permissions::from_mode(SOCKET_MODE)) {
        let _ = fs::remove_file(path);
        return Err(error);
    }
    Ok(socket)
}

#[cfg(test)]
mod tests;
