//! Idle stays idle: a Phoenix whose only periodic work is a health probe wakes up for the
//! probes and nothing else (its context switches over a window stay within a small bound
//! of the number of probes); without probes it does not wake up at all (the tini-mode
//! idle test, and `services_without_probes_do_not_wake_up` here).

use std::net::TcpListener;
use std::time::Duration;

use crate::control::ctl::{start, wait_for_state};
use crate::harness::{Phoenix, TestResult};
use crate::procfs::{is_blocked_in_epoll, status_field};
use crate::services::setup::ServicesDir;

fn context_switches(pid: i32) -> Option<u64> {
    let voluntary: u64 = status_field(pid, "voluntary_ctxt_switches")?.parse().ok()?;
    let involuntary: u64 = status_field(pid, "nonvoluntary_ctxt_switches")?
        .parse()
        .ok()?;
    Some(voluntary + involuntary)
}

/// Context switches of Phoenix over `window`, once it is blocked.
fn switches_over(phoenix: &Phoenix, window: Duration) -> TestResult<u64> {
    let pid = phoenix.pid()?;
    phoenix.eventually("phoenix is blocked in epoll_wait", || {
        is_blocked_in_epoll(pid)
    })?;
    let before = context_switches(pid).ok_or("no context switch counts")?;
    // A measurement window, not a wait for a condition.
    std::thread::sleep(window);
    let after = context_switches(pid).ok_or("no context switch counts")?;
    Ok(after - before)
}

#[test]
fn services_without_probes_do_not_wake_up() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit("db", "command = \"exec sleep 1000\"")?;
    let phoenix = start(layout)?;
    wait_for_state(&phoenix, "db", "running")?;
    assert_eq!(
        switches_over(&phoenix, Duration::from_secs(1))?,
        0,
        "{}",
        phoenix.context()
    );
    Ok(())
}

#[test]
fn probe_timers_are_the_only_wake_ups() -> TestResult {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let layout = ServicesDir::new()?;
    layout.unit(
        "db",
        &format!(
            "command = \"exec sleep 1000\"\n[health]\ncheck = \"tcp\"\naddress = \"127.0.0.1:{port}\"\ninterval = \"250ms\"\n"
        ),
    )?;
    let phoenix = start(layout)?;
    wait_for_state(&phoenix, "db", "running")?;
    let window = Duration::from_secs(2);
    let switches = switches_over(&phoenix, window)?;
    // About 8 probes in the window; each costs its timer's wake-up and its connect's.
    let probes = 8;
    assert!(
        (1..=probes * 3 + 4).contains(&switches),
        "{switches} context switches for about {probes} probes{}",
        phoenix.context()
    );
    drop(listener);
    Ok(())
}
