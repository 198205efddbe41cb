//! Where the runtime directory (control socket, and state as a last resort) lives when
//! nothing says otherwise (DESIGN.md §7), in order of preference, so that a read-only root
//! filesystem (`docker run --read-only`) or a user without a home still gets a socket:
//!
//! - root: `/run/phoenix`, then `/dev/shm/phoenix`, then `$TMPDIR/phoenix`;
//! - anyone else: `$XDG_RUNTIME_DIR/phoenix` when it is set, then `/dev/shm/phoenix-UID`,
//!   then `$TMPDIR/phoenix-UID` (the uid keeps users of a shared directory apart).
//!
//! Phoenix listens in the first that works; `phoenixctl` (after `--socket` and
//! `$PHOENIX_SOCKET`) connects to the first socket that exists, and as root also finds the
//! socket of a Phoenix running as another user.

use std::path::{Path, PathBuf};

pub const SOCKET_NAME: &str = "control.sock";

/// The runtime directories to try, best first.
pub fn runtime_dir_candidates() -> Vec<PathBuf> {
    let uid = nix::unistd::geteuid();
    let temporary = std::env::temp_dir();
    if uid.is_root() {
        return vec![
            PathBuf::from("/run/phoenix"),
            PathBuf::from("/dev/shm/phoenix"),
            temporary.join("phoenix"),
        ];
    }
    let mine = format!("phoenix-{uid}");
    std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|dir| !dir.is_empty())
        .map(|dir| PathBuf::from(dir).join("phoenix"))
        .into_iter()
        .chain([Path::new("/dev/shm").join(&mine), temporary.join(&mine)])
        .collect()
}

/// The socket paths `phoenixctl` looks at, best first: its own runtime directories, then,
/// for root, those of a Phoenix running as any other user.
pub fn socket_candidates() -> Vec<PathBuf> {
    let mut candidates: Vec<PathBuf> = runtime_dir_candidates()
        .into_iter()
        .map(|dir| dir.join(SOCKET_NAME))
        .collect();
    if nix::unistd::geteuid().is_root() {
        for (parent, suffix) in [
            (PathBuf::from("/run/user"), Some("phoenix")),
            (PathBuf::from("/dev/shm"), None),
            (std::env::temp_dir(), None),
        ] {
            candidates.extend(other_users_sockets(&parent, suffix));
        }
    }
    candidates
}

/// `PARENT/phoenix-UID/control.sock`, or `PARENT/UID/SUFFIX/control.sock` for `/run/user`.
fn other_users_sockets(parent: &Path, suffix: Option<&str>) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .filter(|entry| match suffix {
            Some(_) => entry.file_name().to_string_lossy().parse::<u32>().is_ok(),
            None => entry.file_name().to_string_lossy().starts_with("phoenix-"),
        })
        .map(|entry| match suffix {
            Some(suffix) => entry.path().join(suffix).join(SOCKET_NAME),
            None => entry.path().join(SOCKET_NAME),
        })
        .collect();
    found.sort();
    found
}

/// The socket to use: the first candidate something listens on (or that refuses us, which
/// is worth reporting), else the first that exists (a stale one says so when used), else
/// the list looked at.
pub fn find_socket() -> Result<PathBuf, Vec<PathBuf>> {
    let candidates = socket_candidates();
    let answers = |path: &&PathBuf| match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => true,
        Err(error) => error.kind() == std::io::ErrorKind::PermissionDenied,
    };
    candidates
        .iter()
        .find(answers)
        .or_else(|| candidates.iter().find(|path| path.exists()))
        .cloned()
        .ok_or(candidates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_prefers_run_then_shared_memory() {
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let candidates = runtime_dir_candidates();
        assert_eq!(candidates.first(), Some(&PathBuf::from("/run/phoenix")));
        assert_eq!(candidates.get(1), Some(&PathBuf::from("/dev/shm/phoenix")));
    }

    #[test]
    fn other_users_sockets_are_found_by_directory_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("phoenix-1000")).unwrap();
        std::fs::create_dir(dir.path().join("unrelated")).unwrap();
        assert_eq!(
            other_users_sockets(dir.path(), None),
            vec![dir.path().join("phoenix-1000").join(SOCKET_NAME)]
        );
        std::fs::create_dir(dir.path().join("1000")).unwrap();
        assert_eq!(
            other_users_sockets(dir.path(), Some("phoenix")),
            vec![dir.path().join("1000/phoenix").join(SOCKET_NAME)]
        );
    }
}
