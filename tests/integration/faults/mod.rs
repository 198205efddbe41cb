//! Fault injection (issue 15): a real PID-1 Phoenix under a fault of its environment —
//! descriptors nearly exhausted, `fork` failing, a full state disk, an unwritable runtime
//! directory, a console pipe nobody reads, the wall clock jumping. In each, supervision
//! carries on (a crashing service keeps being restarted), the error is logged once per
//! condition, not once per attempt, and everything recovers when the fault goes away.

mod clock;
mod console;
mod disk_full;
mod fork;
mod nofile;
mod runtime_dir;

use crate::harness::{Phoenix, TestResult};
use crate::services::setup::ServicesDir;

/// A service that appends a line to `starts.log` at every start and dies 200ms later.
pub const CRASHER: &str = r#"command = "echo start >> starts.log; sleep 0.2; exit 1"
[restart]
delay = "100ms"
max-delay = "200ms"
max-failures = 100000
window = "1m"
"#;

/// How many times the crasher has started so far.
pub fn starts(phoenix: &Phoenix) -> usize {
    phoenix.lines("starts.log").len()
}

/// Waits until the crasher has started `more` more times than `since`: supervision goes on.
#[track_caller]
pub fn wait_for_restarts(phoenix: &Phoenix, since: usize, more: usize) -> TestResult {
    phoenix.eventually(
        &format!("{more} more starts of the crasher after {since}"),
        || starts(phoenix) >= since + more,
    )
}

/// Lines of Phoenix's stderr containing `needle`.
pub fn count_lines(phoenix: &Phoenix, needle: &str) -> usize {
    phoenix
        .stderr()
        .lines()
        .filter(|line| line.contains(needle))
        .count()
}

/// A services layout with the crasher.
pub fn layout_with_crasher() -> TestResult<ServicesDir> {
    let layout = ServicesDir::new()?;
    layout.unit("crasher", CRASHER)?;
    Ok(layout)
}
