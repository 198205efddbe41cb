//! RLIMIT_NOFILE nearly exhausted: Phoenix under `prlimit --nofile=32`, with clients
//! holding control connections until it has no descriptor left. Accepting fails with
//! EMFILE, which is logged once, not once per wake-up (and does not spin); the crasher
//! keeps being restarted as descriptors allow; once the clients go, the control socket
//! answers again.

use std::os::unix::net::UnixStream;

use super::{count_lines, layout_with_crasher, starts, wait_for_restarts};
use crate::control::ctl::{phoenixctl, socket};
use crate::harness::{Pid1, TestResult};

#[test]
fn descriptors_exhausted_by_clients_are_logged_once_and_recovered() -> TestResult {
    let layout = layout_with_crasher()?;
    let args = layout.args();
    let phoenix =
        Pid1::start_wrapped(layout.into_dir(), &[], &["prlimit", "--nofile=32:32"], args)?;
    phoenix.eventually("phoenixctl status answers", || {
        phoenixctl(&phoenix, &["status"]).is_ok_and(|outcome| outcome.code == 0)
    })?;
    wait_for_restarts(&phoenix, 0, 2)?;
    let path = socket(&phoenix);
    let mut clients = Vec::new();
    for _ in 0..40 {
        if let Ok(client) = UnixStream::connect(&path) {
            clients.push(client);
        }
    }
    let exhausted = "Too many open files";
    phoenix.eventually("EMFILE is logged", || count_lines(&phoenix, exhausted) >= 1)?;
    let cpu_before = cpu_ticks(&phoenix)?;
    let held = starts(&phoenix);
    // Each restart needs descriptors too: the crasher is tried, whatever it costs.
    phoenix.eventually("the crasher is still tried", || {
        starts(&phoenix) > held || count_lines(&phoenix, "crasher") > 6
    })?;
    let logged = count_lines(&phoenix, exhausted);
    assert!(
        logged <= 3,
        "EMFILE logged {logged} times while the clients held their connections{}",
        phoenix.context()
    );
    drop(clients);
    phoenix.eventually("phoenixctl answers once the clients are gone", || {
        phoenixctl(&phoenix, &["status"]).is_ok_and(|outcome| outcome.code == 0)
    })?;
    wait_for_restarts(&phoenix, starts(&phoenix), 3)?;
    let cpu = cpu_ticks(&phoenix)? - cpu_before;
    // A loop spinning on EMFILE burns a core; restarting a crasher costs a few ticks.
    assert!(
        cpu < 300,
        "{cpu} ticks of CPU in Phoenix while exhausted{}",
        phoenix.context()
    );
    Ok(())
}

/// utime + stime of Phoenix, in clock ticks.
fn cpu_ticks(phoenix: &crate::harness::Phoenix) -> TestResult<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", phoenix.pid()?))?;
    let after = stat.rsplit_once(')').ok_or("no ')' in stat")?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    Ok(fields[11].parse::<u64>()? + fields[12].parse::<u64>()?)
}
