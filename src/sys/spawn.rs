//! fork + exec. Everything the child needs is prepared before the fork (C strings, pointer
//! arrays, the resolved path), because between fork and exec the child may only make
//! async-signal-safe calls: no allocation, no locks, no logging. An exec failure travels
//! back to the parent over a close-on-exec pipe, so the parent learns the errno and the
//! child still exits 127 (not found) or 126 (anything else), as shells do.

use std::ffi::{CString, OsStr, OsString};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;

use crate::core::{Pid, SpawnError};
use crate::process_spec::{Placement, ProcessSpec};

/// The search path when the environment has none (glibc's and Debian's default).
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Which step the child failed at, sent with the errno.
#[derive(Clone, Copy)]
#[repr(i32)]
enum Step {
    Chdir = 1,
    Exec = 2,
}

/// A command ready to fork: nothing below allocates in the child.
struct Prepared {
    path: CString,
    _argv: Vec<CString>,
    argv_ptrs: Vec<*const libc::c_char>,
    _envp: Vec<CString>,
    envp_ptrs: Vec<*const libc::c_char>,
    cwd: Option<CString>,
    placement: Placement,
}

/// Starts `spec`; returns once the program is running (exec succeeded) or has failed.
pub fn spawn(spec: &ProcessSpec, original_mask: &libc::sigset_t) -> Result<Pid, SpawnError> {
    let prepared = prepare(spec)?;
    let (read_end, write_end) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| before_fork("pipe", e))?;
    // SAFETY: Phoenix is single-threaded, and the child only calls async-signal-safe
    // functions on memory prepared before the fork (see `exec_child`).
    match unsafe { libc::fork() } {
        -1 => Err(before_fork("fork", Errno::last())),
        0 => {
            drop(read_end);
            // SAFETY: in the child of a fork; exec_child never returns.
            unsafe { exec_child(&prepared, original_mask, write_end.as_raw_fd()) }
        }
        pid => {
            drop(write_end);
            if prepared.placement == Placement::ForegroundGroup {
                // Also set here, so a signal to the group cannot race the child's own call.
                // SAFETY: setpgid takes plain integers; failure (the child already exec'd
                // or set it) is harmless.
                unsafe { libc::setpgid(pid, pid) };
            }
            match read_failure(&read_end) {
                None => Ok(pid),
                Some((step, errno)) => Err(child_failed(pid, step, errno, spec, &prepared)),
            }
        }
    }
}

fn before_fork(what: &str, errno: Errno) -> SpawnError {
    SpawnError {
        pid: None,
        errno: errno as i32,
        message: format!("{what}: {}", errno.desc()),
    }
}

fn child_failed(
    pid: Pid,
    step: i32,
    errno: i32,
    spec: &ProcessSpec,
    prepared: &Prepared,
) -> SpawnError {
    let text = super::errno_text(errno);
    let message = if step == Step::Chdir as i32 {
        let dir = spec.working_directory.as_deref().unwrap_or(Path::new(""));
        format!("chdir {}: {text}", dir.display())
    } else {
        format!("exec {}: {text}", prepared.path.to_string_lossy())
    };
    SpawnError {
        pid: Some(pid),
        errno,
        message,
    }
}

/// Reads the child's (step, errno) report; `None` when the pipe closed on a successful exec.
fn read_failure(read_end: &OwnedFd) -> Option<(i32, i32)> {
    let mut buffer = [0u8; 8];
    let mut filled = 0;
    while filled < buffer.len() {
        match nix::unistd::read(read_end, &mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(Errno::EINTR) => continue,
            Err(_) => break,
        }
    }
    if filled < buffer.len() {
        return None;
    }
    let (step, errno) = buffer.split_at(4);
    Some((
        i32::from_ne_bytes(step.try_into().ok()?),
        i32::from_ne_bytes(errno.try_into().ok()?),
    ))
}

fn prepare(spec: &ProcessSpec) -> Result<Prepared, SpawnError> {
    let invalid = |what: &str| SpawnError {
        pid: None,
        errno: libc::EINVAL,
        message: format!("{what} contains a NUL byte"),
    };
    let program = spec.argv.first().ok_or_else(|| SpawnError {
        pid: None,
        errno: libc::ENOENT,
        message: "empty command".to_string(),
    })?;
    let environment = merged_environment(spec);
    let search = environment
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| OsString::from(DEFAULT_PATH));
    let path = resolve_program(program, &search).ok_or_else(|| SpawnError {
        pid: None,
        errno: libc::ENOENT,
        message: format!("exec {program}: command not found"),
    })?;
    let path =
        CString::new(path.into_os_string().into_vec()).map_err(|_| invalid("the program path"))?;
    let argv = spec
        .argv
        .iter()
        .map(|arg| CString::new(arg.as_bytes()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| invalid("an argument"))?;
    let envp = environment
        .iter()
        .map(|(k, v)| {
            let mut pair = k.as_bytes().to_vec();
            pair.push(b'=');
            pair.extend_from_slice(v.as_bytes());
            CString::new(pair)
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| invalid("an environment variable"))?;
    let cwd = match &spec.working_directory {
        Some(dir) => Some(
            CString::new(dir.as_os_str().as_bytes())
                .map_err(|_| invalid("the working directory"))?,
        ),
        None => None,
    };
    Ok(Prepared {
        argv_ptrs: null_terminated(&argv),
        envp_ptrs: null_terminated(&envp),
        path,
        _argv: argv,
        _envp: envp,
        cwd,
        placement: spec.placement,
    })
}

fn null_terminated(strings: &[CString]) -> Vec<*const libc::c_char> {
    strings
        .iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

/// Phoenix's environment with the spec's variables set or unset over it.
fn merged_environment(spec: &ProcessSpec) -> Vec<(OsString, OsString)> {
    let mut environment: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    for (key, value) in &spec.environment {
        environment.retain(|(k, _)| k != OsStr::new(key));
        if let Some(value) = value {
            environment.push((OsString::from(key), OsString::from(value)));
        }
    }
    environment
}

/// `execvp`'s lookup, done before the fork: a name with a slash is used as it is; otherwise
/// the first executable file on the search path, else the first file found there (so exec
/// reports EACCES, like a shell), else nothing.
fn resolve_program(program: &str, search: &OsStr) -> Option<PathBuf> {
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

/// The child side of the fork.
///
/// # Safety
/// Must be called only in a freshly forked child of a single-threaded process.
unsafe fn exec_child(prepared: &Prepared, original_mask: &libc::sigset_t, report: i32) -> ! {
    // SAFETY: only async-signal-safe calls on memory prepared before the fork.
    unsafe {
        match prepared.placement {
            Placement::ForegroundGroup => {
                libc::setpgid(0, 0);
                // SIGTTOU is still ignored here (inherited), so a background group may
                // take the terminal.
                if libc::isatty(libc::STDIN_FILENO) == 1 {
                    libc::tcsetpgrp(libc::STDIN_FILENO, libc::getpid());
                }
            }
            Placement::NewSession => {
                libc::setsid();
            }
        }
        // A clean signal state, as systemd and s6 give services: Rust ignores SIGPIPE,
        // Phoenix ignores TTIN/TTOU, and Phoenix's own parent may have ignored others (a
        // shell ignores INT and QUIT for background jobs). Ignored dispositions and the
        // mask survive exec, so reset both. KILL and STOP refuse and are skipped.
        for signal in 1..=libc::SIGRTMAX() {
            libc::signal(signal, libc::SIG_DFL);
        }
        libc::sigprocmask(libc::SIG_SETMASK, original_mask, std::ptr::null_mut());
        if let Some(cwd) = &prepared.cwd {
            if libc::chdir(cwd.as_ptr()) != 0 {
                fail(report, Step::Chdir);
            }
        }
        libc::execve(
            prepared.path.as_ptr(),
            prepared.argv_ptrs.as_ptr(),
            prepared.envp_ptrs.as_ptr(),
        );
        fail(report, Step::Exec)
    }
}

/// Reports the failing step and errno to the parent, then exits 127 or 126.
///
/// # Safety
/// Child side of a fork only.
unsafe fn fail(report: i32, step: Step) -> ! {
    // SAFETY: errno location, write and _exit are async-signal-safe.
    unsafe {
        let errno = *libc::__errno_location();
        let mut message = [0u8; 8];
        message[..4].copy_from_slice(&(step as i32).to_ne_bytes());
        message[4..].copy_from_slice(&errno.to_ne_bytes());
        libc::write(report, message.as_ptr().cast(), message.len());
        libc::_exit(if errno == libc::ENOENT { 127 } else { 126 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_like_execvp() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("tool");
        std::fs::write(&plain, "").unwrap();
        let search = OsString::from(format!("/nonexistent:{}", dir.path().display()));
        // Found but not executable: returned, so exec fails with EACCES.
        assert_eq!(resolve_program("tool", &search), Some(plain.clone()));
        std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(resolve_program("tool", &search), Some(plain));
        assert_eq!(resolve_program("missing-tool", &search), None);
        assert_eq!(resolve_program("./x", &search), Some(PathBuf::from("./x")));
    }

    #[test]
    fn environment_overrides_and_unsets() {
        // SAFETY: this test binary's other tests do not read this variable.
        unsafe { std::env::set_var("PHOENIX_TEST_UNSET_ME", "1") };
        let mut spec = ProcessSpec::command("x", vec!["x".into()], Placement::NewSession);
        spec.environment = vec![
            ("PHOENIX_TEST_UNSET_ME".into(), None),
            ("A_NEW_ONE".into(), Some("v".into())),
        ];
        let merged = merged_environment(&spec);
        assert!(!merged.iter().any(|(k, _)| k == "PHOENIX_TEST_UNSET_ME"));
        assert!(merged.contains(&("A_NEW_ONE".into(), "v".into())));
    }
}
