//! An idle Phoenix makes no system calls: it blocks until an event, with no timer ticks.

use std::time::Duration;

use crate::harness::{Pid1, TestResult};
use crate::procfs::{children, is_blocked_in_epoll, status_field};

fn context_switches(pid: i32) -> Option<u64> {
    let voluntary: u64 = status_field(pid, "voluntary_ctxt_switches")?.parse().ok()?;
    let involuntary: u64 = status_field(pid, "nonvoluntary_ctxt_switches")?
        .parse()
        .ok()?;
    Some(voluntary + involuntary)
}

#[test]
fn idle_phoenix_does_not_wake_up() -> TestResult {
    let phoenix = Pid1::start(["sleep", "1000"])?;
    let pid = phoenix.pid()?;
    let is_child_running = || {
        children(pid).iter().any(|&child| {
            std::fs::read_to_string(format!("/proc/{child}/comm"))
                .is_ok_and(|comm| comm.trim() == "sleep")
        })
    };
    phoenix.eventually("the child runs `sleep`", is_child_running)?;
    phoenix.eventually("phoenix is blocked in epoll_wait", || {
        is_blocked_in_epoll(pid)
    })?;
    let before = context_switches(pid).ok_or("no context switch counts")?;
    // A measurement window, not a wait for a condition: the one fixed sleep in the tests.
    std::thread::sleep(Duration::from_secs(1));
    let after = context_switches(pid).ok_or("no context switch counts")?;
    assert_eq!(
        before,
        after,
        "phoenix woke up {} times while idle",
        after - before
    );
    Ok(())
}
