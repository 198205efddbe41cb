//! ENOSPC on the state directory (a tiny tmpfs, filled): restarts go on, each file that
//! cannot be written is warned about once, not once per restart, and once space is back
//! the history and restart records are written again.

use super::{count_lines, layout_with_crasher, starts, wait_for_restarts};
use crate::control::ctl::start;
use crate::disk::Tmpfs;
use crate::harness::TestResult;

#[test]
fn a_full_state_disk_warns_once_per_file_and_writes_again_when_space_is_back() -> TestResult {
    let layout = layout_with_crasher()?;
    let state = layout.path("state");
    let _mounted = Tmpfs::mount(&state, "256k")?;
    // A fresh tmpfs is mode 1777, which Phoenix refuses as a state directory.
    std::fs::set_permissions(&state, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    let phoenix = start(layout)?;
    wait_for_restarts(&phoenix, 0, 2)?;
    let filler = state.join("filler");
    // dd stops at ENOSPC with an error; what matters is that the disk is full.
    let _ = std::process::Command::new("dd")
        .args(["if=/dev/zero", "bs=4k"])
        .arg(format!("of={}", filler.display()))
        .stderr(std::process::Stdio::null())
        .status()?;
    let full = starts(&phoenix);
    wait_for_restarts(&phoenix, full, 10)?;
    let warnings = count_lines(&phoenix, "No space left on device");
    assert!(
        (1..=4).contains(&warnings),
        "{warnings} ENOSPC lines over 10 restarts{}",
        phoenix.context()
    );
    std::fs::remove_file(&filler)?;
    let events = state.join("events.jsonl");
    let size = std::fs::metadata(&events).map_or(0, |m| m.len());
    let freed = starts(&phoenix);
    wait_for_restarts(&phoenix, freed, 3)?;
    phoenix.eventually("events.jsonl grows again", || {
        std::fs::metadata(&events).is_ok_and(|m| m.len() > size)
    })?;
    phoenix.eventually("state.json holds the crasher's record", || {
        std::fs::read_to_string(state.join("state.json")).is_ok_and(|t| t.contains("crasher"))
    })?;
    assert_eq!(
        count_lines(&phoenix, "No space left on device"),
        warnings,
        "no new ENOSPC line once space is back{}",
        phoenix.context()
    );
    Ok(())
}
