//! Captured output from a live PID-1 Phoenix (issue 13): console prefixes, files rotated
//! without splitting a line, the last line before a crash kept, a partial line ended at
//! exit, floods that neither stall supervision nor lose a line uncounted, a console
//! nobody reads, `logs --follow`, and bytes that are not UTF-8.

mod console;
mod crash;
mod file;
mod follow;
mod reexec;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use crate::control::ctl::phoenixctl_command;
use crate::harness::{DEADLINE, Phoenix, TestResult};

/// A running `phoenixctl logs NAME --follow ARGS`, its lines read with deadlines.
pub struct LogFollower {
    child: Child,
    lines: Receiver<String>,
}

impl LogFollower {
    pub fn start(phoenix: &Phoenix, name: &str, args: &[&str]) -> TestResult<LogFollower> {
        let mut child = phoenixctl_command(phoenix)
            .args(["logs", name, "--follow"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (sender, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        Ok(LogFollower { child, lines })
    }

    /// Reads lines until one contains `needle`; returns every line read.
    #[track_caller]
    pub fn wait_for(&self, needle: &str) -> TestResult<Vec<String>> {
        let deadline = Instant::now() + DEADLINE;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left.max(Duration::from_millis(1))) {
                Ok(line) => {
                    let found = line.contains(needle);
                    seen.push(line);
                    if found {
                        return Ok(seen);
                    }
                }
                Err(_) => {
                    return Err(
                        format!("logs --follow: no line with {needle:?} in {seen:?}").into(),
                    );
                }
            }
        }
    }
}

impl Drop for LogFollower {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Phoenix's resident memory in KiB (`VmRSS` of `/proc/PID/status`).
pub fn rss_kib(phoenix: &Phoenix) -> TestResult<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", phoenix.pid()?))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmRSS in /proc/PID/status".into())
}
