//! Waiting on conditions: poll until true or a deadline passes. No fixed sleeps.

use std::panic::Location;
use std::time::{Duration, Instant};

use crate::harness::TestResult;

/// How long a test waits for a condition that should hold almost at once.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// How often a condition is polled.
const POLL_INTERVAL: Duration = Duration::from_millis(5);

/// Polls `condition` until it holds (true) or `timeout` passes (false).
pub fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

/// Like `wait_until` with the default deadline, as an error naming the caller's line.
#[track_caller]
pub fn eventually(what: &str, condition: impl FnMut() -> bool) -> TestResult {
    let caller = Location::caller();
    if wait_until(DEADLINE, condition) {
        Ok(())
    } else {
        Err(format!("{caller}: timed out after {DEADLINE:?} waiting until {what}").into())
    }
}
