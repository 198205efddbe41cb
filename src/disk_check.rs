//! The decisions of a `[[disk]]` check (DESIGN.md §7): which level a usage is at, and
//! whether the cleanup hook may run again (at most once per interval). Pure.

use std::fmt;
use std::time::{Duration, Instant};

/// How full a disk is, against its thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    Warning,
    Critical,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Ok => "ok",
            Level::Warning => "warning",
            Level::Critical => "critical",
        })
    }
}

/// The level of `used` percent: at or above a threshold is at it.
pub fn level(used: f64, warning: f64, critical: f64) -> Level {
    if used >= critical {
        Level::Critical
    } else if used >= warning {
        Level::Warning
    } else {
        Level::Ok
    }
}

/// Whether the cleanup hook may start now: the disk is critical, no hook is running, and
/// the last one started at least `interval` ago.
pub fn may_clean(
    level: Level,
    running: bool,
    last_cleanup: Option<Instant>,
    interval: Duration,
    now: Instant,
) -> bool {
    level == Level::Critical
        && !running
        && last_cleanup.is_none_or(|at| now.saturating_duration_since(at) >= interval)
}

#[cfg(test)]
mod tests;
