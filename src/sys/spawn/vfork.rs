//! The spawn itself: `clone(CLONE_VM | CLONE_VFORK)`, as glibc's `posix_spawn` does it.
//! The child runs on a stack of its own inside Phoenix's memory and Phoenix is suspended
//! until the child has exec'd or exited, so nothing is copied: no page tables, and no
//! copy-on-write faults in Phoenix afterwards, which a `fork` of the whole supervisor costs
//! on every restart.
//!
//! What the child may touch, since it shares Phoenix's memory: its own stack, the
//! `Prepared` command (it fills in `WATCHDOG_PID`) and the [`Report`] it writes when a step
//! fails. Everything else it changes is its own, because the clone shares nothing but
//! memory: descriptors, signal dispositions, working directory, umask, limits, OOM score
//! and credentials are copies (no `CLONE_FILES`, `CLONE_SIGHAND`, `CLONE_FS`; the kernel
//! gives a vfork child its own `oom_score_adj`). Credentials are changed by raw system
//! calls, which change only the calling process, never through glibc's wrappers, which
//! signal every thread glibc knows of — threads of Phoenix's memory, not of the child.
//! Every signal stays blocked in the child until the mask is set just before exec, and
//! Phoenix installs no handlers (its signals come through a signalfd), so no code of
//! Phoenix's runs in the child's signal context; the only handlers are std's for SIGSEGV
//! and SIGBUS, which read and reset only the child's own disposition.

use std::cell::RefCell;
use std::ffi::c_void;

use super::{Prepared, exec_child};
use crate::sys::signals::ChildSignals;

/// The child's stack, in 16-byte words. Its deepest path (limits, credentials, a failure
/// report) needs a few hundred bytes; glibc's `posix_spawn` gives 32 KiB and more for long
/// argument lists. Only the pages the child touches become resident.
const STACK_WORDS: usize = 64 * 1024 / size_of::<u128>();

thread_local! {
    /// Allocated at the first spawn and kept: a fresh one each time costs a `brk` to grow
    /// the heap before the clone and one to trim it after. Per thread, for the tests, which
    /// spawn from several threads at once; Phoenix has one.
    static STACK: RefCell<Vec<u128>> = const { RefCell::new(Vec::new()) };
}

/// Filled in by the child when a step fails; read by Phoenix once the clone returned.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub(super) struct Report {
    /// 0 while nothing failed, else a [`super::failure::Step`].
    pub(super) step: i32,
    pub(super) errno: i32,
}

impl Report {
    /// What the child wrote, read as memory another process changed.
    pub(super) fn failure(&self) -> Option<(i32, i32)> {
        // SAFETY: `self` is a valid, aligned Report; the volatile read keeps the compiler
        // from assuming its value did not change across the clone.
        let report = unsafe { std::ptr::read_volatile(self) };
        (report.step != 0).then_some((report.step, report.errno))
    }
}

struct Child<'a> {
    prepared: &'a mut Prepared,
    signals: &'a ChildSignals,
    report: *mut Report,
}

/// Starts the child and returns its pid once it has exec'd or exited, with the failed
/// step in `report`; -1 (and errno) when the clone itself failed.
///
/// # Safety
/// The child only makes async-signal-safe calls on memory prepared before the call.
pub(super) unsafe fn spawn_child(
    prepared: &mut Prepared,
    signals: &ChildSignals,
    report: &mut Report,
) -> libc::pid_t {
    let mut child = Child {
        prepared,
        signals,
        report,
    };
    STACK.with_borrow_mut(|stack| {
        if stack.capacity() < STACK_WORDS {
            *stack = Vec::with_capacity(STACK_WORDS);
        }
        // The stack grows down from one past the end, which is 16-byte aligned like u128.
        let top = stack
            .as_mut_ptr()
            .wrapping_add(stack.capacity())
            .cast::<c_void>();
        // SAFETY: `top` ends memory that lives until the clone returns, which with
        // CLONE_VFORK is after the child's exec or exit; `child` lives as long.
        unsafe {
            libc::clone(
                child_main,
                top,
                libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
                (&mut child as *mut Child).cast(),
            )
        }
    })
}

extern "C" fn child_main(argument: *mut c_void) -> libc::c_int {
    // SAFETY: `argument` is the `Child` spawn_child passed, alive while Phoenix waits.
    let child = unsafe { &mut *argument.cast::<Child>() };
    // SAFETY: in the clone's child; exec_child never returns.
    unsafe { exec_child(child.prepared, child.signals, child.report) }
}
