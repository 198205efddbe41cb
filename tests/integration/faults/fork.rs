//! `fork` failing with EAGAIN: Phoenix and its services in a pids cgroup (v1 at
//! /sys/fs/cgroup/pids, or v2 at /sys/fs/cgroup) whose `pids.max` is lowered to what is
//! running, so the crasher's restart cannot fork. Phoenix logs the failure once, keeps
//! retrying with its backoff, and restarts the crasher once the limit is lifted.

use std::path::PathBuf;

use super::{count_lines, layout_with_crasher, starts, wait_for_restarts};
use crate::control::ctl::phoenixctl;
use crate::harness::{Phoenix, Pid1, TestResult};

/// A pids cgroup for one test, removed when dropped.
struct PidsCgroup(PathBuf);

impl PidsCgroup {
    fn create(name: &str) -> TestResult<PidsCgroup> {
        let v1 = PathBuf::from("/sys/fs/cgroup/pids");
        let root = if v1.join("cgroup.procs").exists() {
            v1
        } else {
            PathBuf::from("/sys/fs/cgroup")
        };
        let path = root.join(format!("{name}-{}", std::process::id()));
        std::fs::create_dir_all(&path)?;
        if !path.join("pids.max").exists() {
            return Err(format!("{} has no pids.max: no pids controller", path.display()).into());
        }
        Ok(PidsCgroup(path))
    }

    fn set_max(&self, max: &str) -> TestResult {
        std::fs::write(self.0.join("pids.max"), max)?;
        Ok(())
    }
}

impl Drop for PidsCgroup {
    fn drop(&mut self) {
        let _ = std::fs::write(self.0.join("pids.max"), "max");
        // Emptied by the test's end (Phoenix and its services gone); retried briefly.
        crate::wait::wait_until(crate::wait::DEADLINE, || {
            std::fs::remove_dir(&self.0).is_ok()
        });
    }
}

#[test]
fn fork_failing_with_eagain_is_logged_once_retried_and_recovered() -> TestResult {
    let cgroup = PidsCgroup::create("phoenix-fault-fork")?;
    let layout = layout_with_crasher()?;
    layout.unit("idle", "command = \"exec sleep 1000\"\n")?;
    let args = layout.args();
    let procs = cgroup.0.join("cgroup.procs").display().to_string();
    // The wrapper moves itself into the cgroup, then execs Phoenix: PID 1 and every
    // process it forks from then on are counted against pids.max.
    let wrapper = [
        "sh",
        "-c",
        &format!("echo $$ > {procs} && exec \"$@\""),
        "sh",
    ];
    let phoenix = Pid1::start_wrapped(layout.into_dir(), &[], &wrapper, args)?;
    wait_for_restarts(&phoenix, 0, 2)?;
    // Phoenix and idle's sleep: the crasher, once dead, cannot fork again.
    cgroup.set_max("2")?;
    let failing = "unable to spawn 'crasher': fork: Try again";
    phoenix.eventually("a fork failing with EAGAIN is logged", || {
        count_lines(&phoenix, failing) >= 1
    })?;
    let limited = starts(&phoenix);
    let logged = count_lines(&phoenix, failing);
    // The control socket still answers (it needs no fork), and the crasher is retried.
    phoenix.eventually("phoenixctl answers under the limit", || {
        phoenixctl(&phoenix, &["status", "idle"]).is_ok_and(|outcome| outcome.code == 0)
    })?;
    assert_retrying(&phoenix, limited)?;
    cgroup.set_max("max")?;
    wait_for_restarts(&phoenix, starts(&phoenix), 3)?;
    phoenix.wait_for_log("crasher: spawned again")?;
    let after = count_lines(&phoenix, failing);
    assert_eq!(
        (logged, after),
        (1, 1),
        "EAGAIN logged once per condition, not per retry{}",
        phoenix.context()
    );
    Ok(())
}

/// The crasher keeps being tried while fork fails: its restart count climbs.
fn assert_retrying(phoenix: &Phoenix, starts_at_limit: usize) -> TestResult {
    let restarts = || {
        crate::control::ctl::service_json(phoenix, "crasher")
            .ok()
            .and_then(|service| service["restarts"].as_u64())
    };
    let before = restarts().ok_or("no restart count")?;
    phoenix.eventually("the crasher is retried while fork fails", || {
        restarts().is_some_and(|now| now >= before + 2)
    })?;
    assert_eq!(
        starts(phoenix),
        starts_at_limit,
        "nothing started under the limit"
    );
    Ok(())
}
