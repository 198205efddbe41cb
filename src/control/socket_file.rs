//! The control socket's file: its directory (0755 when Phoenix creates it) and a listening
//! socket of mode 0600 with a backlog deep enough for a
//! burst of clients. Nothing here reads or writes a connection.
//!
//! The directory is the runtime directory, where services also find their notify sockets
//! (`notify/NAME.sock`), so every user may search it: a service may run as any user. The
//! control socket stays out of their reach by its own mode (0600), and a peer that gets
//! past that anyway is refused by its credentials (`SO_PEERCRED`, in the server).

use std::fs;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use mio::net::UnixListener;
use nix::sys::socket::{self, AddressFamily, Backlog, SockFlag, SockType, UnixAddr};

/// Pending connections the kernel keeps for us: many clients may connect in one burst.
const BACKLOG: i32 = 1024;

/// A runtime directory Phoenix creates: searchable by the services' users (see above).
pub(super) const DIRECTORY_MODE: u32 = 0o755;

pub(super) fn listen_at(path: &Path) -> io::Result<UnixListener> {
    let socket = socket::socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    socket::bind(socket.as_raw_fd(), &UnixAddr::new(path)?)?;
    // Between bind and chmod the mode comes from the umask; the peer credential check
    // covers that instant.
    let result = fs::set_permissions(path, fs::Permissions::from_mode(0o600)).and_then(|()| {
        // musl's SOMAXCONN is 128, which nix enforces; -1 means the kernel's own maximum
        // (net.core.somaxconn, 4096 since Linux 5.4).
        let backlog = Backlog::new(BACKLOG).unwrap_or(Backlog::MAXALLOWABLE);
        Ok(socket::listen(&socket, backlog)?)
    });
    if let Err(error) = result {
        let _ = fs::remove_file(path);
        return Err(error);
    }
    Ok(UnixListener::from_std(
        std::os::unix::net::UnixListener::from(socket),
    ))
}
