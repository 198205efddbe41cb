//! Services start from a clean signal state, as under systemd and s6: whatever Phoenix's
//! own parent ignored (`nohup`, a shell's background job) and whatever Phoenix blocks, a
//! service starts with every disposition at its default and an empty mask.

use super::setup::ServicesDir;
use crate::harness::TestResult;

/// A signal mask from `/proc/<pid>/status`, e.g. `SigIgn`.
fn signal_mask(status: &str, field: &str) -> Option<u64> {
    let line = status
        .lines()
        .find(|line| line.starts_with(&format!("{field}:")))?;
    u64::from_str_radix(line.split_whitespace().nth(1)?, 16).ok()
}

#[test]
fn issue_8_services_start_with_default_dispositions_and_an_empty_mask() -> TestResult {
    let layout = ServicesDir::new()?;
    // Straight, not through a shell, which would clear the mask itself; a oneshot, so it
    // runs once, onto Phoenix's stdout.
    layout.unit(
        "clean",
        "kind = \"oneshot\"\ncommand = [\"cat\", \"/proc/self/status\"]\n",
    )?;
    let phoenix = layout.start_ignoring(&[libc::SIGHUP, libc::SIGINT, libc::SIGQUIT])?;
    phoenix.wait_for_log("clean: running → exited")?;
    let status = phoenix.read(".stdout");
    let launcher = std::fs::read_to_string(format!("/proc/{}/status", phoenix.launcher_pid()))?;
    let handed_over = signal_mask(&launcher, "SigIgn").ok_or("no SigIgn for the launcher")?;
    assert_ne!(
        handed_over & 0b111,
        0,
        "the launcher ignores HUP INT QUIT\n{launcher}"
    );
    assert_eq!(signal_mask(&status, "SigIgn"), Some(0), "ignored\n{status}");
    assert_eq!(signal_mask(&status, "SigBlk"), Some(0), "blocked\n{status}");
    Ok(())
}
