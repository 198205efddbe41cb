//! `phoenixctl logs --follow`: the recent lines, then new ones as the service writes them.

use crate::control::ctl::start;
use crate::harness::TestResult;
use crate::logs::LogFollower;
use crate::services::setup::ServicesDir;

#[test]
fn logs_follow_sees_new_lines() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit(
        "web",
        "command = \"echo before; while [ ! -e go ]; do sleep 0.05; done; echo after go >&2; exec sleep 1000\"\n[log]\nring = \"4KiB\"\n",
    )?;
    let phoenix = start(layout)?;
    let follower = LogFollower::start(&phoenix, "web", &[])?;
    let history = follower.wait_for("before")?;
    assert!(
        history.iter().all(|line| !line.contains("after")),
        "{history:?}"
    );
    phoenix.touch("go")?;
    let seen = follower.wait_for("after go")?;
    let line = seen.last().cloned().unwrap_or_default();
    assert!(line.contains("stderr"), "{line}");
    Ok(())
}

/// A follower that never reads is disconnected like any slow control client, and Phoenix
/// goes on answering.
#[test]
fn a_follower_that_never_reads_is_disconnected() -> TestResult {
    use std::io::Write;
    let layout = ServicesDir::new()?;
    layout.unit(
        "chatty",
        "command = \"while [ ! -e go ]; do sleep 0.05; done; exec yes 'a chatty line for a follower that never reads'\"\n[log]\nring = \"4KiB\"\n",
    )?;
    let phoenix = start(layout)?;
    let mut stream =
        std::os::unix::net::UnixStream::connect(crate::control::ctl::socket(&phoenix))?;
    stream.write_all(
        b"{\"v\":1,\"request\":{\"command\":\"logs\",\"name\":\"chatty\",\"lines\":1,\"follow\":true}}\n",
    )?;
    phoenix.touch("go")?;
    phoenix.wait_for_log("bytes of replies unread")?;
    crate::control::ctl::phoenixctl(&phoenix, &["status", "chatty"])?.ok()?;
    drop(stream);
    Ok(())
}
