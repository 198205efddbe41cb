//! The only system calls std lacks, declared by hand so that the rescue crate needs no
//! dependency: signal masks and `sigtimedwait`, `waitpid(-1)`, `kill`, `setsid`, the child
//! subreaper flag, the controlling terminal, `statvfs`, `access`. Every `unsafe` block is
//! here, each with its argument; the rest of the crate sees safe functions with typed
//! results. Nothing here decides anything.
//!
//! Constants and layouts are Linux's (glibc and musl agree) as on x86_64 and aarch64,
//! checked against the C headers with a small C program when written.

use std::ffi::{CString, c_char, c_int, c_long, c_ulong};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::Duration;

#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
compile_error!("rescue/src/sys.rs spells out Linux x86_64/aarch64 constants; check them first");

pub const SIGHUP: c_int = 1;
pub const SIGINT: c_int = 2;
pub const SIGKILL: c_int = 9;
const SIGPIPE: c_int = 13;
pub const SIGTERM: c_int = 15;
pub const SIGCHLD: c_int = 17;
pub const SIGCONT: c_int = 18;
const SIGSTOP: c_int = 19;
pub const SIGTTIN: c_int = 21;
pub const SIGTTOU: c_int = 22;
pub const SIGPWR: c_int = 30;
/// SIGRTMIN+3 as glibc numbers it (its SIGRTMIN is 34): systemd's container stop signal.
pub const SIGRTMIN_3: c_int = 37;
/// Left unblocked: the synchronous ones (ILL TRAP ABRT BUS FPE SEGV SYS), raised by the
/// process itself when something is badly wrong, where blocking would turn a crash into a
/// hang; and PIPE (13), which std ignores so that a write to a closed stderr is an EPIPE —
/// blocked, it would queue up and be taken for a signal to forward.
const UNBLOCKED: [c_int; 8] = [4, 5, 6, 7, 8, 11, 31, SIGPIPE];
/// The last signal number (SIGRTMAX).
const LAST_SIGNAL: c_int = 64;
/// glibc keeps these two real-time signals for its threads.
const GLIBC_RESERVED: [c_int; 2] = [32, 33];
const SIG_DFL: usize = 0;

const SIG_BLOCK: c_int = 0;
const SIG_SETMASK: c_int = 2;
const WNOHANG: c_int = 1;
const PR_SET_CHILD_SUBREAPER: c_int = 36;
const TIOCSCTTY: c_ulong = 0x540e;
const W_OK: c_int = 2;
const EINTR: i32 = 4;
const ESRCH: i32 = 3;

/// `sigset_t`: 1024 bits in glibc and musl.
#[repr(C)]
#[derive(Clone, Copy)]
#[allow(dead_code, reason = "read by the C library only")]
pub struct SignalSet {
    bits: [c_ulong; 16],
}

#[repr(C)]
#[allow(dead_code, reason = "read by the C library only")]
struct Timespec {
    tv_sec: c_long,
    tv_nsec: c_long,
}

/// `struct statvfs` (112 bytes); only the sizes are read.
#[repr(C)]
#[allow(
    dead_code,
    reason = "the layout must be whole; only the sizes are read"
)]
struct Statvfs {
    f_bsize: c_ulong,
    f_frsize: c_ulong,
    f_blocks: u64,
    f_bfree: u64,
    f_bavail: u64,
    f_files: u64,
    f_ffree: u64,
    f_favail: u64,
    f_fsid: c_ulong,
    f_flag: c_ulong,
    f_namemax: c_ulong,
    spare: [c_int; 6],
}

unsafe extern "C" {
    fn sigemptyset(set: *mut SignalSet) -> c_int;
    fn sigfillset(set: *mut SignalSet) -> c_int;
    fn sigdelset(set: *mut SignalSet, signal: c_int) -> c_int;
    fn signal(signal: c_int, handler: usize) -> usize;
    fn sigprocmask(how: c_int, set: *const SignalSet, old: *mut SignalSet) -> c_int;
    fn sigtimedwait(set: *const SignalSet, info: *mut u8, timeout: *const Timespec) -> c_int;
    fn waitpid(pid: c_int, status: *mut c_int, options: c_int) -> c_int;
    fn kill(pid: c_int, signal: c_int) -> c_int;
    fn setsid() -> c_int;
    fn isatty(fd: c_int) -> c_int;
    fn close(fd: c_int) -> c_int;
    fn prctl(option: c_int, ...) -> c_int;
    fn ioctl(fd: c_int, request: c_ulong, ...) -> c_int;
    fn access(path: *const c_char, mode: c_int) -> c_int;
    fn statvfs(path: *const c_char, buf: *mut Statvfs) -> c_int;
}

fn errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Every signal to block and take with `wait_signal`: all but KILL, STOP and `UNBLOCKED`.
pub fn catchable_signals() -> SignalSet {
    let mut set = SignalSet { bits: [0; 16] };
    // SAFETY: `set` is a valid, writable sigset_t; the calls only set bits in it.
    unsafe {
        sigfillset(&mut set);
        for signal in UNBLOCKED {
            sigdelset(&mut set, signal);
        }
    }
    set
}

/// Sets every disposition the process that exec'd us may have changed (an ignored
/// SIGHUP, SIGTTOU…) back to the default, so services do not inherit it; PIPE stays as
/// std set it (ignored).
pub fn reset_dispositions() {
    for number in 1..=LAST_SIGNAL {
        if [SIGKILL, SIGSTOP, SIGPIPE].contains(&number) || GLIBC_RESERVED.contains(&number) {
            continue;
        }
        // SAFETY: signal(2) with SIG_DFL installs no handler of ours; invalid numbers
        // (none here) would only fail with EINVAL.
        unsafe {
            signal(number, SIG_DFL);
        }
    }
}

/// Blocks `set`, so its signals wait for `wait_signal` instead of interrupting anything.
pub fn block_signals(set: &SignalSet) -> io::Result<()> {
    // SAFETY: `set` is a valid sigset_t; a null old-set pointer is allowed.
    match unsafe { sigprocmask(SIG_BLOCK, set, std::ptr::null_mut()) } {
        0 => Ok(()),
        _ => Err(io::Error::last_os_error()),
    }
}

/// Waits for a signal of `set` (blocked beforehand) for at most `timeout` (`None`: as long
/// as it takes). `None` back means the time ran out or the wait was interrupted.
pub fn wait_signal(set: &SignalSet, timeout: Option<Duration>) -> Option<c_int> {
    let timespec = timeout.map(|timeout| Timespec {
        tv_sec: c_long::try_from(timeout.as_secs()).unwrap_or(c_long::MAX),
        tv_nsec: c_long::from(timeout.subsec_nanos()),
    });
    let timespec_pointer = timespec
        .as_ref()
        .map_or(std::ptr::null(), |timespec| timespec as *const Timespec);
    // SAFETY: `set` and the timespec (or null: no timeout) outlive the call; a null info
    // pointer is allowed.
    let signal = unsafe { sigtimedwait(set, std::ptr::null_mut(), timespec_pointer) };
    (signal > 0).then_some(signal)
}

/// One `waitpid(-1, WNOHANG)`.
pub enum Reaped {
    /// A child ended: its pid and raw wait status.
    Child(i32, i32),
    /// Children remain, none has ended.
    NoneEnded,
    /// No child at all (ECHILD), or waitpid failed otherwise.
    NoChildren,
}

pub fn reap_one() -> Reaped {
    loop {
        let mut status: c_int = 0;
        // SAFETY: `status` is a valid int to write to; -1 and WNOHANG are plain integers.
        let pid = unsafe { waitpid(-1, &mut status, WNOHANG) };
        match pid {
            0 => return Reaped::NoneEnded,
            pid if pid > 0 => return Reaped::Child(pid, status),
            _ if errno() == EINTR => continue,
            _ => return Reaped::NoChildren,
        }
    }
}

/// Sends `signal` to `pid` (a negative pid is a process group); a target already gone is
/// not an error, and the answer says whether it existed.
pub fn send_signal(pid: i32, signal: c_int) -> bool {
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    let result = unsafe { kill(pid, signal) };
    result == 0 || errno() != ESRCH
}

/// Signals a service's process group, or its process alone when it leads no group (an
/// adopted process that never called setsid).
pub fn signal_group(pid: i32, signal: c_int) {
    if !send_signal(-pid, signal) {
        send_signal(pid, signal);
    }
}

/// Whether a process with this pid exists (zombies included).
pub fn is_alive(pid: i32) -> bool {
    send_signal(pid, 0)
}

/// Makes this process the reaper of every orphan among its descendants, as PID 1 is.
pub fn become_subreaper() -> io::Result<()> {
    // SAFETY: PR_SET_CHILD_SUBREAPER takes an integer flag and touches no memory.
    match unsafe { prctl(PR_SET_CHILD_SUBREAPER, 1 as c_ulong) } {
        0 => Ok(()),
        _ => Err(io::Error::last_os_error()),
    }
}

/// In a forked child before exec (async-signal-safe calls only): an empty signal mask and
/// a session of its own, so the service's process group is its own to signal; `is_console`
/// also takes the terminal on stdin as the controlling terminal, for job control.
pub fn prepare_child(is_console: bool) -> io::Result<()> {
    let mut empty = SignalSet { bits: [0; 16] };
    // SAFETY: sigemptyset, sigprocmask, setsid, isatty and ioctl are async-signal-safe and
    // touch only `empty`, which lives on this stack.
    unsafe {
        sigemptyset(&mut empty);
        if sigprocmask(SIG_SETMASK, &empty, std::ptr::null_mut()) != 0 || setsid() < 0 {
            return Err(io::Error::last_os_error());
        }
        if is_console && isatty(0) == 1 {
            // Failing (another session holds the terminal) leaves a shell without job
            // control, which still works.
            ioctl(0, TIOCSCTTY, 0 as c_int);
        }
    }
    Ok(())
}

/// Closes every descriptor above stderr that Phoenix may have left open across its exec
/// (sockets, pipes, its state), so services started here do not inherit them.
pub fn close_inherited_descriptors() {
    let listed: Vec<c_int> = match std::fs::read_dir("/proc/self/fd") {
        Ok(entries) => entries
            .flatten()
            .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
            .collect(),
        Err(_) => (3..1024).collect(),
    };
    for fd in listed.into_iter().filter(|&fd| fd > 2) {
        // SAFETY: closing a number that is not open (the listing's own descriptor, already
        // closed) is a harmless EBADF; nothing in this process holds these descriptors.
        unsafe {
            close(fd);
        }
    }
}

fn c_path(path: &Path) -> Option<CString> {
    CString::new(path.as_os_str().as_bytes()).ok()
}

/// Whether this process may write into `path` (EROFS and permissions included).
pub fn is_writable(path: &Path) -> bool {
    let Some(path) = c_path(path) else {
        return false;
    };
    // SAFETY: `path` is a valid NUL-terminated string that outlives the call.
    unsafe { access(path.as_ptr(), W_OK) == 0 }
}

/// Size and space available to unprivileged users of the filesystem holding `path`.
pub struct DiskSpace {
    pub total_bytes: u64,
    pub free_bytes: u64,
    pub available_bytes: u64,
}

pub fn disk_space(path: &Path) -> io::Result<DiskSpace> {
    let path = c_path(path).ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: an all-zero statvfs is a valid value of this plain C struct.
    let mut buf: Statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `path` is NUL-terminated and `buf` is a writable statvfs; both outlive the call.
    if unsafe { statvfs(path.as_ptr(), &mut buf) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let block = buf.f_frsize.max(1);
    Ok(DiskSpace {
        total_bytes: buf.f_blocks.saturating_mul(block),
        free_bytes: buf.f_bfree.saturating_mul(block),
        available_bytes: buf.f_bavail.saturating_mul(block),
    })
}
