//! `[limits]` between fork and exec: resource limits (`setrlimit`), `oom_score_adj` and
//! `PR_SET_NO_NEW_PRIVS`, each prepared before the fork so the child only makes system
//! calls on memory it already has. Applied before the credentials change: raising a hard
//! limit or lowering the OOM score needs privileges the service's user may not have.
//!
//! PID 1 makes itself the last thing the OOM killer picks (`protect_phoenix`): `-1000`.
//! That value is inherited across fork, so every child sets its own: the unit's
//! `oom-score-adjust`, or else the value Phoenix had before it changed its own (usually 0;
//! 0 also when that was -1000 already, as after a re-exec of Phoenix), so a service is
//! never shielded from the OOM killer by accident.

use std::sync::atomic::{AtomicI32, Ordering};

use crate::unit::{Limits, Resource};

/// The kernel's file for a process's OOM score adjustment.
const OOM_FILE: &[u8] = b"/proc/self/oom_score_adj\0";
/// Phoenix's own adjustment as PID 1: never chosen by the OOM killer.
const PHOENIX_OOM_SCORE: i32 = -1000;
/// What Phoenix's `oom_score_adj` was before `protect_phoenix`; `i32::MIN`: unchanged.
static ORIGINAL_OOM_SCORE: AtomicI32 = AtomicI32::new(i32::MIN);

/// As PID 1, sets Phoenix's own `oom_score_adj` to -1000, remembering the value before
/// for its children. Unprivileged, or without `/proc`: a debug line, nothing else.
pub fn protect_phoenix() {
    let path = "/proc/self/oom_score_adj";
    let Some(before) = std::fs::read_to_string(path)
        .ok()
        .and_then(|text| text.trim().parse::<i32>().ok())
    else {
        log::debug!("no {path}: the OOM score is left alone");
        return;
    };
    match std::fs::write(path, PHOENIX_OOM_SCORE.to_string()) {
        Ok(()) => {
            let before = if before == PHOENIX_OOM_SCORE {
                0
            } else {
                before
            };
            ORIGINAL_OOM_SCORE.store(before, Ordering::Relaxed);
            log::debug!("oom_score_adj {PHOENIX_OOM_SCORE} (was {before})");
        }
        Err(error) => log::debug!(
            "unable to set oom_score_adj to {PHOENIX_OOM_SCORE}: {}",
            crate::sys::io_error_text(&error)
        ),
    }
}

/// A unit's limits, ready for the child.
pub(super) struct PreparedLimits {
    resources: Vec<(libc::__rlimit_resource_t, libc::rlimit)>,
    /// The decimal text to write, and whether a failure to write it fails the start (the
    /// unit asked for it) or is ignored (Phoenix's own value undone).
    oom_score: Option<(Vec<u8>, bool)>,
    no_new_privileges: bool,
}

/// What a failed step was, for the error the parent reports.
pub(super) enum LimitFailure {
    Resource,
    OomScore,
    NoNewPrivileges,
}

fn resource_code(resource: Resource) -> libc::__rlimit_resource_t {
    match resource {
        Resource::Nofile => libc::RLIMIT_NOFILE,
        Resource::Nproc => libc::RLIMIT_NPROC,
        Resource::Core => libc::RLIMIT_CORE,
        Resource::Memlock => libc::RLIMIT_MEMLOCK,
        Resource::Stack => libc::RLIMIT_STACK,
        Resource::As => libc::RLIMIT_AS,
        Resource::Cpu => libc::RLIMIT_CPU,
        Resource::Fsize => libc::RLIMIT_FSIZE,
    }
}

pub(super) fn prepare(limits: &Limits) -> PreparedLimits {
    let value = |limit: Option<u64>| limit.unwrap_or(libc::RLIM_INFINITY);
    let resources = limits
        .resources
        .iter()
        .map(|(resource, limit)| {
            let rlimit = libc::rlimit {
                rlim_cur: value(limit.soft),
                rlim_max: value(limit.hard),
            };
            (resource_code(*resource), rlimit)
        })
        .collect();
    let original = ORIGINAL_OOM_SCORE.load(Ordering::Relaxed);
    let oom_score = match limits.oom_score_adjust {
        Some(score) => Some((score.to_string().into_bytes(), true)),
        None if original != i32::MIN => Some((original.to_string().into_bytes(), false)),
        None => None,
    };
    PreparedLimits {
        resources,
        oom_score,
        no_new_privileges: limits.no_new_privileges,
    }
}

/// Applies the limits in the child; the first failure is returned, errno still set.
///
/// # Safety
/// Child side of a fork only.
pub(super) unsafe fn apply(prepared: &PreparedLimits) -> Result<(), LimitFailure> {
    // SAFETY: setrlimit, open, write, close and prctl are async-signal-safe system calls
    // on memory prepared before the fork.
    unsafe {
        for (resource, rlimit) in &prepared.resources {
            if libc::setrlimit(*resource, rlimit) != 0 {
                return Err(LimitFailure::Resource);
            }
        }
        if let Some((text, required)) = &prepared.oom_score {
            let fd = libc::open(OOM_FILE.as_ptr().cast(), libc::O_WRONLY | libc::O_CLOEXEC);
            let written = fd >= 0 && libc::write(fd, text.as_ptr().cast(), text.len()) >= 0;
            if fd >= 0 {
                libc::close(fd);
            }
            if !written && *required {
                return Err(LimitFailure::OomScore);
            }
        }
        if prepared.no_new_privileges && libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            return Err(LimitFailure::NoNewPrivileges);
        }
    }
    Ok(())
}
