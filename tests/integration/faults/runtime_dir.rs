//! An unwritable runtime directory (immutable, `chattr +i`, which stops root too and, unlike
//! a read-only mount, is undone from outside Phoenix's mount namespace):
//! Phoenix says once that it has no control socket, and supervises all the same; once the
//! directory is writable again, a reload (SIGHUP) makes the socket and phoenixctl
//! reaches it.

use std::process::Command;

use nix::sys::signal::Signal;

use super::{count_lines, layout_with_crasher, starts, wait_for_restarts};
use crate::control::ctl::phoenixctl;
use crate::harness::TestResult;

#[test]
fn an_unwritable_runtime_dir_is_logged_once_and_a_reload_recovers_the_socket() -> TestResult {
    let layout = layout_with_crasher()?;
    let run = layout.path("run");
    std::fs::create_dir_all(&run)?;
    let immutable = Immutable::set(&run)?;
    let phoenix = layout.start(&[])?;
    wait_for_restarts(&phoenix, 0, 3)?;
    let missing = "no control socket";
    phoenix.wait_for_log(missing)?;
    assert!(phoenixctl(&phoenix, &["status"]).is_ok_and(|outcome| outcome.code == 3));
    wait_for_restarts(&phoenix, starts(&phoenix), 5)?;
    assert_eq!(count_lines(&phoenix, missing), 1, "{}", phoenix.context());
    drop(immutable);
    phoenix.signal(Signal::SIGHUP)?;
    phoenix.eventually(
        "phoenixctl reaches the socket made after the reload",
        || phoenixctl(&phoenix, &["status", "crasher"]).is_ok_and(|outcome| outcome.code == 0),
    )?;
    wait_for_restarts(&phoenix, starts(&phoenix), 2)?;
    Ok(())
}

/// `chattr +i` on a directory for the test, undone when dropped (a failing test included).
struct Immutable(std::path::PathBuf);

impl Immutable {
    fn set(path: &std::path::Path) -> TestResult<Immutable> {
        chattr("+i", path)?;
        Ok(Immutable(path.to_path_buf()))
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = chattr("-i", &self.0);
    }
}

fn chattr(flag: &str, path: &std::path::Path) -> TestResult {
    let status = Command::new("chattr").arg(flag).arg(path).status()?;
    if !status.success() {
        return Err(format!("chattr {flag} {}: {status}", path.display()).into());
    }
    Ok(())
}
