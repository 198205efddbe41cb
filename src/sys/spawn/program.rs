//! Finding the program to exec before the fork, as `execvp` would, so the child only
//! calls `execve` on a path already known. A name found on the search path is remembered
//! (per name and search path), so a restart does not stat every directory again: the
//! lookup is done again only after an exec of it failed, or after a reload
//! ([`forget_programs`]). A search path with a relative directory, which depends on the
//! working directory, is never remembered.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

/// Names remembered at most; past that the memory starts afresh.
const MAX_REMEMBERED: usize = 4096;

thread_local! {
    // PID 1 is single-threaded: the cache is the loop's alone.
    static RESOLVED: RefCell<HashMap<(String, OsString), PathBuf>> = RefCell::new(HashMap::new());
}

/// [`resolve_program`], remembering executable files found on the search path.
pub(super) fn resolve_remembered(program: &str, search: &OsStr) -> Option<PathBuf> {
    if program.contains('/') || std::env::split_paths(search).any(|dir| !dir.is_absolute()) {
        return resolve_program(program, search);
    }
    let key = (program.to_string(), search.to_os_string());
    if let Some(path) = RESOLVED.with(|cache| cache.borrow().get(&key).cloned()) {
        return Some(path);
    }
    let found = resolve_program(program, search)?;
    let executable = std::fs::metadata(&found)
        .is_ok_and(|metadata| metadata.is_file() && metadata.permissions().mode() & 0o111 != 0);
    if executable {
        RESOLVED.with(|cache| {
            let mut cache = cache.borrow_mut();
            if cache.len() >= MAX_REMEMBERED {
                cache.clear();
            }
            cache.insert(key, found.clone());
        });
    }
    Some(found)
}

/// Forgets every remembered lookup: after a failed exec (the file moved or changed) and at
/// a reload (units, and programs, may have changed).
pub fn forget_programs() {
    RESOLVED.with(|cache| cache.borrow_mut().clear());
}

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
