//! Finding the program to exec before the fork, as `execvp` would, so the child only
//! calls `execve` on a path already known.

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

/// `execvp`'s lookup, done before the fork: a name with a slash is used as it is; otherwise
/// the first executable file on the search path, else the first file found there (so exec
/// reports EACCES, like a shell), else nothing.
pub(super) fn resolve_program(program: &str, search: &OsStr) -> Option<PathBuf> {
    if program.is_empty() {
        return None;
    }
    if program.contains('/') {
        return Some(PathBuf::from(program));
    }
    let mut first_found = None;
    for dir in std::env::split_paths(search) {
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        let candidate = dir.join(program);
        let Ok(metadata) = std::fs::metadata(&candidate) else {
            continue;
        };
        if metadata.is_file() && metadata.permissions().mode() & 0o111 != 0 {
            return Some(candidate);
        }
        first_found.get_or_insert(candidate);
    }
    first_found
}
