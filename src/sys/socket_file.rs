//! What binding a Unix socket at a path needs first, for the control socket (stream) and
//! the notify sockets (datagram) alike: its directory, created with an exact mode when
//! missing, and the removal of a socket file left by an earlier Phoenix — never one that
//! something still answers on, nor anything that is not a socket.

use std::fs;
use std::io::{self, ErrorKind};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, PermissionsExt};
use std::path::Path;

use nix::errno::Errno;
use nix::sys::socket::{self, AddressFamily, SockFlag, SockType, UnixAddr};

/// Creates the directory of the socket at `path` with `mode` when it is missing (exactly
/// `mode`, whatever the umask); an existing one keeps the mode its owner chose.
pub fn prepare_directory(path: &Path, mode: u32) -> io::Result<()> {
    let Some(directory) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) else {
        return Ok(());
    };
    match fs::metadata(directory) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == ErrorKind::NotFound => {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(mode)
                .create(directory)?;
            fs::set_permissions(directory, fs::Permissions::from_mode(mode))
        }
        Err(error) => Err(error),
    }
}

/// Removes the socket file at `path` unless a socket of `kind` still answers there.
pub fn remove_stale_socket(path: &Path, kind: SockType) -> io::Result<()> {
    let metadata = match fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(error),
    };
    let error = |kind: ErrorKind, what: &str| {
        io::Error::new(kind, format!("socket {}: {what}", path.display()))
    };
    if !metadata.file_type().is_socket() {
        return Err(error(
            ErrorKind::AlreadyExists,
            "exists and is not a socket; not removing it",
        ));
    }
    if answers(path, kind) {
        return Err(error(
            ErrorKind::AddrInUse,
            "another process is listening on it",
        ));
    }
    log::info!("removing stale socket {}", path.display());
    fs::remove_file(path)
}

/// Whether something accepts a connection at `path`, asked without ever blocking; a
/// listener whose backlog is full (EAGAIN) is alive all the same.
fn answers(path: &Path, kind: SockType) -> bool {
    let Ok(address) = UnixAddr::new(path) else {
        return false;
    };
    let Ok(probe) = socket::socket(
        AddressFamily::Unix,
        kind,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    ) else {
        return false;
    };
    matches!(
        socket::connect(probe.as_raw_fd(), &address),
        Ok(()) | Err(Errno::EAGAIN)
    )
}
