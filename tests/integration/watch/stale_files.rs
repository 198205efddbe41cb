//! `stale-files`: before a start, a pid file naming a dead process is removed and one
//! naming a live process kept; an unheld lock file is removed. Each removal is logged and
//! recorded as an event of the service.

use crate::control::ctl::{phoenixctl, start};
use crate::harness::TestResult;
use crate::services::setup::ServicesDir;

#[test]
fn dead_pid_files_go_live_ones_stay() -> TestResult {
    let layout = ServicesDir::new()?;
    let mut gone = std::process::Command::new("true").spawn()?;
    let dead = gone.id();
    gone.wait()?;
    // Pids are looked up in Phoenix's namespace, where 1 is Phoenix itself.
    let live = 1;
    layout.file("dead.pid", &format!("{dead}\n"), 0o644)?;
    layout.file("live.pid", &format!("{live}\n"), 0o644)?;
    layout.file("LOCK", "", 0o644)?;
    let paths =
        ["dead.pid", "live.pid", "LOCK"].map(|name| layout.path(name).display().to_string());
    layout.unit(
        "db",
        &format!(
            r#"command = "for f in dead.pid live.pid LOCK; do [ -e $f ] && echo $f; done > seen.tmp; mv seen.tmp seen; exec sleep 1000"
stale-files = {paths:?}
"#
        ),
    )?;
    let phoenix = start(layout)?;
    phoenix.wait_for_file("seen")?;
    assert_eq!(phoenix.lines("seen"), ["live.pid"], "{}", phoenix.context());
    phoenix.wait_for_log(&format!("(pid {dead} is gone)"))?;
    let events = phoenixctl(&phoenix, &["events"])?.ok()?;
    assert!(
        events.stdout.contains("removed stale file")
            && events.stdout.contains("removed stale lock"),
        "{events:?}"
    );
    Ok(())
}
