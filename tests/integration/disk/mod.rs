//! `[[disk]]` checks of a live PID-1 Phoenix (issue 12): a small tmpfs filled past its
//! critical threshold is logged and recorded as critical, its cleanup hook runs (with the
//! path and usage in its environment) and frees it, and the disk is back to ok.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::control::ctl::{phoenixctl, start};
use crate::harness::TestResult;
use crate::services::setup::ServicesDir;

/// A tmpfs mounted for the test, unmounted when dropped (a failing test included).
pub struct Tmpfs(PathBuf);

impl Tmpfs {
    pub fn mount(dir: &Path, size: &str) -> TestResult<Tmpfs> {
        std::fs::create_dir_all(dir)?;
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()?;
        if !status.success() {
            return Err(format!("mount tmpfs on {}: {status}", dir.display()).into());
        }
        Ok(Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_full_tmpfs_is_critical_runs_its_cleanup_and_comes_back_to_ok() -> TestResult {
    let layout = ServicesDir::new()?;
    let disk = layout.path("tmpfs");
    let _mounted = Tmpfs::mount(&disk, "1m")?;
    let big = disk.join("big");
    let marker = layout.path("cleaned");
    let hook = format!(
        "rm -f {big:?} && echo \"$PHOENIX_DISK_PATH $PHOENIX_DISK_USED\" > {marker:?}",
        big = big.display().to_string(),
        marker = marker.display().to_string()
    );
    layout.settings(&format!(
        "[[disk]]\npath = {:?}\nwarning = \"50%\"\ncritical = \"80%\"\ncleanup = [\"/bin/sh\", \"-c\", {hook:?}]\ninterval = \"200ms\"\ncleanup-timeout = \"5s\"\n",
        disk.display().to_string()
    ))?;
    layout.unit("idle", "command = \"exec sleep 1000\"\n")?;
    let phoenix = start(layout)?;
    std::fs::write(&big, vec![0u8; 900 * 1024])?;
    let path = disk.display().to_string();
    phoenix.wait_for_log(&format!("disk {path}: critical, "))?;
    phoenix.eventually("the cleanup hook wrote its marker", || marker.exists())?;
    let seen = std::fs::read_to_string(&marker)?;
    assert!(seen.starts_with(&format!("{path} 8")), "{seen}");
    assert!(!big.exists(), "the hook removed the big file");
    phoenix.wait_for_log(&format!("disk {path}: ok, "))?;
    phoenix.wait_for_log(&format!("disk {path}: cleanup ended (exit 0)"))?;
    let events = phoenixctl(&phoenix, &["events"])?.ok()?;
    let service = format!("disk:{path}");
    let lines: Vec<&str> = events
        .stdout
        .lines()
        .filter(|line| line.contains(&service))
        .collect();
    assert!(
        lines
            .iter()
            .any(|line| line.contains("\"from\":\"ok\",\"to\":\"critical\"")),
        "{events:?}"
    );
    assert!(
        lines.iter().any(|line| line.contains("cleanup ended")),
        "{events:?}"
    );
    assert!(
        lines
            .iter()
            .any(|line| line.contains("\"from\":\"critical\",\"to\":\"ok\"")),
        "back to ok: {events:?}"
    );
    Ok(())
}
