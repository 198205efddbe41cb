//! Spawning a program: everything the child needs is prepared first (C strings, pointer
//! arrays, the resolved path, the environment with its files read, the credentials with
//! their group list, an open `/dev/null`), then `vfork.rs` starts the child in Phoenix's
//! memory, where until exec it may only make async-signal-safe calls: no allocation, no
//! locks, no logging, no user database. A failure in the child is left in a report in
//! that shared memory as (step, errno), so the parent can name the step, and the child
//! still exits 127 (not found) or 126 (anything else), as shells do.
//!
//! Two things are finished in the child because they exist only there: the readiness
//! descriptor (`readiness.rs`: a pipe end moved to the number the service expects) and
//! `WATCHDOG_PID` (`watchdog.rs`: the child's own pid, written into a buffer allocated
//! beforehand).

use std::ffi::{CString, OsString};
use std::fs::OpenOptions;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::sync::OnceLock;

use nix::errno::Errno;

use crate::core::{Pid, SpawnError};
use crate::process_spec::{Placement, ProcessSpec};
use crate::sys::credentials::{Credentials, resolve_credentials};
use crate::sys::environment::build_environment;
use crate::sys::signals::ChildSignals;
use failure::{Step, child_failed};
pub use program::forget_programs;
use program::resolve_remembered;
use readiness::ReadinessPipe;
use vfork::Report;
use watchdog::PidVariable;

mod failure;
mod limits;
mod program;
pub use limits::protect_phoenix;
mod readiness;
mod vfork;
mod watchdog;

/// The search path when the environment has none (glibc's and Debian's default).
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A command ready to spawn: nothing below allocates in the child.
struct Prepared {
    path: CString,
    _argv: Vec<CString>,
    argv_ptrs: Vec<*const libc::c_char>,
    _envp: Vec<CString>,
    envp_ptrs: Vec<*const libc::c_char>,
    /// `WATCHDOG_PID`, filled in by the child, and its place in `envp_ptrs`.
    watchdog_pid: Option<(PidVariable, usize)>,
    cwd: Option<CString>,
    placement: Placement,
    /// `/dev/null` (Phoenix's one copy, close-on-exec), to become the child's stdin.
    stdin: Option<RawFd>,
    /// A logger pipe's read end, instead of `/dev/null`.
    stdin_pipe: Option<RawFd>,
    /// A logger pipe's (or a capture pipe's) write end, to become the child's stdout.
    stdout_pipe: Option<RawFd>,
    /// A capture pipe's write end, to become the child's stderr.
    stderr_pipe: Option<RawFd>,
    /// The readiness pipe's write end and the descriptor it becomes in the child.
    readiness: Option<(RawFd, RawFd)>,
    umask: Option<libc::mode_t>,
    credentials: Credentials,
    limits: limits::PreparedLimits,
    inherit_signals: bool,
}

/// Pipe ends the shell holds for s6 loggers, by logger name.
pub trait PipeEnds {
    /// (read end, write end) of the pipe named `name`, created on first use.
    fn pipe(&mut self, name: &str) -> Option<(RawFd, RawFd)>;
}

/// The write ends of the pipes Phoenix captures a service's output from (DESIGN.md §4.6).
#[derive(Clone, Copy, Debug, Default)]
pub struct OutputEnds {
    pub stdout: Option<RawFd>,
    pub stderr: Option<RawFd>,
}

/// A program that is running (its exec succeeded).
#[derive(Debug)]
pub struct Started {
    pub pid: Pid,
    /// With `spec.readiness_fd`: Phoenix's end of the readiness pipe, non-blocking and
    /// close-on-exec; the service writes a line on the other end when it is ready.
    pub readiness: Option<OwnedFd>,
}

/// Starts `spec`; returns once the program is running (exec succeeded) or has failed.
pub fn spawn(
    spec: &ProcessSpec,
    signals: &ChildSignals,
    pipes: &mut dyn PipeEnds,
) -> Result<Started, SpawnError> {
    spawn_with_output(spec, signals, pipes, OutputEnds::default())
}

/// `spawn`, with stdout and stderr into `output`'s pipes where it has them (an s6 logger
/// pipe takes stdout first).
pub fn spawn_with_output(
    spec: &ProcessSpec,
    signals: &ChildSignals,
    pipes: &mut dyn PipeEnds,
    output: OutputEnds,
) -> Result<Started, SpawnError> {
    let mut prepared = prepare(spec)?;
    prepared.stdin_pipe = spec
        .stdin_pipe
        .as_deref()
        .and_then(|name| pipes.pipe(name))
        .map(|(read, _)| read);
    prepared.stdout_pipe = spec
        .stdout_pipe
        .as_deref()
        .and_then(|name| pipes.pipe(name))
        .map(|(_, write)| write)
        .or(output.stdout);
    prepared.stderr_pipe = output.stderr;
    let readiness = spec.readiness_fd.map(ReadinessPipe::create).transpose()?;
    prepared.readiness = readiness
        .as_ref()
        .map(|pipe| (pipe.write.as_raw_fd(), pipe.target));
    let mut report = vfork::Report::default();
    // SAFETY: the child only calls async-signal-safe functions on memory prepared before
    // the clone (see `exec_child`), and Phoenix is suspended until it has exec'd or exited.
    let pid = unsafe { vfork::spawn_child(&mut prepared, signals, &mut report) };
    if pid < 0 {
        // Named as users know it: the clone is the fork of a vfork-style spawn.
        return Err(before_fork("fork", Errno::last()));
    }
    // The child has its copy; ours would keep the pipe from ever reading EOF.
    let readiness = readiness.map(|pipe| pipe.read);
    match report.failure() {
        None => Ok(Started { pid, readiness }),
        Some((step, errno)) => Err(child_failed(pid, step, errno, spec, &prepared)),
    }
}

fn before_fork(what: &str, errno: Errno) -> SpawnError {
    SpawnError {
        pid: None,
        errno: errno as i32,
        message: format!("{what}: {}", errno.desc()),
    }
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
    let credentials =
        resolve_credentials(spec.user.as_deref(), spec.group.as_deref()).map_err(|error| {
            SpawnError {
                pid: None,
                errno: error.errno(),
                message: error.to_string(),
            }
        })?;
    let mut environment = build_environment(spec, credentials.account.as_ref())?;
    if let Some(usec) = spec.watchdog_usec {
        environment.retain(|(key, _)| key != "WATCHDOG_USEC" && key != "WATCHDOG_PID");
        environment.push(("WATCHDOG_USEC".into(), usec.to_string().into()));
    }
    let search = environment
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| OsString::from(DEFAULT_PATH));
    let path = resolve_remembered(program, &search).ok_or_else(|| SpawnError {
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
    let stdin = if spec.stdin_null {
        Some(dev_null()?)
    } else {
        None
    };
    let mut envp_ptrs = null_terminated(&envp);
    let watchdog_pid = spec.watchdog_usec.map(|_| {
        let variable = PidVariable::new();
        // Before the terminating null pointer.
        let index = envp.len();
        envp_ptrs.insert(index, variable.as_ptr());
        (variable, index)
    });
    Ok(Prepared {
        argv_ptrs: null_terminated(&argv),
        envp_ptrs,
        watchdog_pid,
        path,
        _argv: argv,
        _envp: envp,
        cwd,
        placement: spec.placement,
        stdin,
        stdin_pipe: None,
        stdout_pipe: None,
        stderr_pipe: None,
        readiness: None,
        umask: spec.umask.map(|umask| umask & 0o777),
        credentials,
        limits: limits::prepare(&spec.limits),
        inherit_signals: spec.inherit_signals,
    })
}

/// Read-write, like a terminal, so a service that writes to fd 0 does not fail; std opens
/// it close-on-exec, so only the dup2'd copy reaches the service. Opened once and kept:
/// every later start saves an open and a close.
fn dev_null() -> Result<RawFd, SpawnError> {
    static DEV_NULL: OnceLock<OwnedFd> = OnceLock::new();
    if let Some(fd) = DEV_NULL.get() {
        return Ok(fd.as_raw_fd());
    }
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(|error| {
            before_fork(
                "open /dev/null",
                Errno::from_raw(error.raw_os_error().unwrap_or(libc::EIO)),
            )
        })?;
    Ok(DEV_NULL.get_or_init(|| OwnedFd::from(file)).as_raw_fd())
}

fn null_terminated(strings: &[CString]) -> Vec<*const libc::c_char> {
    strings
        .iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

/// The child side of the spawn.
///
/// # Safety
/// Must be called only in the child of `vfork::spawn_child`, whose parent waits.
unsafe fn exec_child(prepared: &mut Prepared, signals: &ChildSignals, report: *mut Report) -> ! {
    if let Some((variable, index)) = &mut prepared.watchdog_pid {
        // SAFETY: getpid is async-signal-safe.
        variable.fill(unsafe { libc::getpid() }.unsigned_abs());
        // The pointer taken before the write, replaced in place: nothing allocates.
        if let Some(pointer) = prepared.envp_ptrs.get_mut(*index) {
            *pointer = variable.as_ptr();
        }
    }
    // SAFETY: only async-signal-safe calls on memory prepared before the spawn.
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
        let stdin = prepared.stdin_pipe.or(prepared.stdin);
        if let Some(fd) = stdin {
            if redirect(fd, libc::STDIN_FILENO) < 0 {
                fail(report, Step::Stdin);
            }
        }
        if let Some(fd) = prepared.stdout_pipe {
            if redirect(fd, libc::STDOUT_FILENO) < 0 {
                fail(report, Step::Stdin);
            }
        }
        if let Some(fd) = prepared.stderr_pipe {
            if redirect(fd, libc::STDERR_FILENO) < 0 {
                fail(report, Step::Stdin);
            }
        }
        // After stdin and stdout: their dup2's cannot replace the write end (it is above 2),
        // and this one may replace their sources, which are no longer needed.
        if let Some((fd, target)) = prepared.readiness {
            if redirect(fd, target) < 0 {
                fail(report, Step::Readiness);
            }
        }
        if let Some(umask) = prepared.umask {
            libc::umask(umask);
        }
        if let Err(failure) = limits::apply(&prepared.limits) {
            fail(
                report,
                match failure {
                    limits::LimitFailure::Resource => Step::Rlimit,
                    limits::LimitFailure::OomScore => Step::OomScore,
                    limits::LimitFailure::NoNewPrivileges => Step::NoNewPrivileges,
                },
            );
        }
        set_credentials(&prepared.credentials, report);
        // After the uid change, so the directory is checked with the service's rights.
        if let Some(cwd) = &prepared.cwd {
            if libc::chdir(cwd.as_ptr()) != 0 {
                fail(report, Step::Chdir);
            }
        }
        // Ignored dispositions and the mask survive exec. Services get a clean state, as
        // systemd and s6 give: every ignored signal back to its default (Phoenix installs
        // no handlers, so nothing else differs) and an empty mask. Tini mode's command
        // gets what Phoenix inherited, as tini's does: only Phoenix's own changes undone.
        let (reset, mask) = if prepared.inherit_signals {
            (&signals.changed_by_phoenix, &signals.original_mask)
        } else {
            (&signals.ignored, &signals.empty_mask)
        };
        for &signal in reset {
            crate::sys::signals::reset_to_default(signal);
        }
        libc::sigprocmask(libc::SIG_SETMASK, mask, std::ptr::null_mut());
        libc::execve(
            prepared.path.as_ptr(),
            prepared.argv_ptrs.as_ptr(),
            prepared.envp_ptrs.as_ptr(),
        );
        fail(report, Step::Exec)
    }
}

/// Groups, then gid, then uid: once the uid is no longer 0 the process may change neither.
///
/// # Safety
/// Child side of the spawn only.
unsafe fn set_credentials(credentials: &Credentials, report: *mut Report) {
    // SAFETY: raw system calls on memory prepared before the clone. Not glibc's wrappers:
    // those change the credentials of every thread of the process, by signalling them,
    // and the clone shares its memory (and so glibc's idea of "the process") with Phoenix.
    unsafe {
        if let Some(groups) = &credentials.groups {
            if libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr()) != 0 {
                fail(report, Step::Setgroups);
            }
        }
        if let Some(gid) = credentials.gid {
            if libc::syscall(libc::SYS_setgid, gid) != 0 {
                fail(report, Step::Setgid);
            }
        }
        if let Some(uid) = credentials.uid {
            if libc::syscall(libc::SYS_setuid, uid) != 0 {
                fail(report, Step::Setuid);
            }
        }
    }
}

/// Makes `fd` the child's `target` descriptor, inheritable.
///
/// # Safety
/// Child side of the spawn only.
unsafe fn redirect(fd: RawFd, target: RawFd) -> libc::c_int {
    // SAFETY: fcntl and dup2 are async-signal-safe. dup2 onto itself would leave
    // close-on-exec set (when Phoenix started with that descriptor closed, the pipe or
    // /dev/null may already sit there), so then only the flag is cleared.
    unsafe {
        if fd == target {
            libc::fcntl(fd, libc::F_SETFD, 0)
        } else {
            libc::dup2(fd, target)
        }
    }
}

/// Reports the failing step and errno to the parent, then exits 127 or 126.
///
/// # Safety
/// Child side of the spawn only; `report` is the parent's, alive while it waits.
unsafe fn fail(report: *mut Report, step: Step) -> ! {
    // SAFETY: the errno location, a volatile store into the parent's report (read once
    // the clone returned) and _exit are async-signal-safe.
    unsafe {
        let errno = *libc::__errno_location();
        std::ptr::write_volatile(
            report,
            Report {
                step: step as i32,
                errno,
            },
        );
        libc::_exit(if errno == libc::ENOENT { 127 } else { 126 })
    }
}

#[cfg(test)]
mod tests;
