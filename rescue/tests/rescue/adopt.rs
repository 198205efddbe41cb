//! `--adopt NAME=PID`: a process that already runs a unit (Phoenix's child, which the
//! exec into phoenix-rescue keeps) is supervised without a second start, and restarted
//! when it dies. Here rescue is a plain process and its own child subreaper.

use crate::harness::{Rescue, SIGKILL, Scratch, TestResult, send_signal};

#[test]
fn an_adopted_process_is_not_started_again_but_restarted_when_it_dies() -> TestResult {
    let dir = Scratch::new()?;
    let out = dir.file("web.out");
    dir.unit(
        "web.toml",
        &format!("command = \"echo started >> {out}; exec sleep 1000\"\n"),
    )?;
    dir.unit("db.toml", "command = [\"sleep\", \"1000\"]\n")?;
    let rescue =
        Rescue::exec_from_shell(dir, "sleep 1000 & exec \"$RESCUE\" --adopt web=$! $DIRS")?;
    rescue.wait_for_log("db: started")?;
    let log = rescue.stderr();
    let adopted: i32 = log
        .lines()
        .find_map(|line| line.strip_prefix("[phoenix-rescue] web: adopted pid "))
        .ok_or_else(|| format!("no adoption logged{}", rescue.context()))?
        .parse()?;
    assert!(
        log.contains("registered as child subreaper"),
        "{}",
        rescue.context()
    );
    assert!(
        !log.contains("web: started"),
        "adopted, so not started{}",
        rescue.context()
    );
    assert!(!rescue.dir.exists("web.out"));

    send_signal(adopted, SIGKILL)?;
    rescue.wait_for_log("web: killed by signal 9, restarting in 1s")?;
    assert_eq!(rescue.wait_for_lines("web.out", 1)?, ["started"]);
    Ok(())
}
