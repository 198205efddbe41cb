//! Dependencies (DESIGN.md §4–§6): start in dependency order, stop in reverse; `requires`
//! takes the dependent down and back up with what it requires; a oneshot gates its
//! dependents on its success.

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::setup::{ServicesDir, log_position, logging_daemon};
use crate::harness::{DEADLINE, TestResult};
use crate::procfs::outer_pid;

#[test]
fn services_start_in_dependency_order_and_stop_in_reverse() -> TestResult {
    let layout = ServicesDir::new()?;
    // Names that sort against the dependency order, so alphabetical order cannot pass.
    layout.unit("c-base", &logging_daemon("c-base", "events", ""))?;
    layout.unit(
        "b-middle",
        &logging_daemon("b-middle", "events", r#"after = ["c-base"]"#),
    )?;
    layout.unit(
        "a-top",
        &logging_daemon("a-top", "events", r#"requires = ["b-middle"]"#),
    )?;
    let mut phoenix = layout.start(&[])?;
    phoenix.wait_for_lines("events", 3)?;
    phoenix.signal(Signal::SIGTERM)?;
    assert_eq!(phoenix.wait_exit(DEADLINE)?, 0, "{}", phoenix.context());
    let context = phoenix.context();
    // A daemon is started (ready) once exec'd, so its first line may land after its
    // dependent's: the start order is Phoenix's, read from its transitions.
    let stderr = phoenix.stderr();
    let position = |name: &str, transition: &str| {
        log_position(&stderr, &[&format!("{name}: {transition}")])
            .ok_or(format!("no '{name}: {transition}' line{context}"))
    };
    assert!(
        position("c-base", "starting → running")? < position("b-middle", "down → starting")?
            && position("b-middle", "starting → running")? < position("a-top", "down → starting")?,
        "start order{context}"
    );
    let events = phoenix.lines("events");
    let mut starts = events[..3].to_vec();
    starts.sort();
    assert_eq!(
        starts,
        ["start a-top", "start b-middle", "start c-base"],
        "{context}"
    );
    // Each stop waits until its dependents have exited, so the file's order is exact.
    assert_eq!(
        events[3..],
        ["stop a-top", "stop b-middle", "stop c-base"],
        "stop order{context}"
    );
    Ok(())
}

#[test]
fn requires_stops_and_restarts_the_dependent_with_its_requirement() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit(
        "db",
        r#"command = "echo $$ >> db.pids; exec sleep 1000"
[restart]
delay = "100ms"
"#,
    )?;
    layout.unit(
        "web",
        &logging_daemon("web", "web.events", r#"requires = ["db"]"#),
    )?;
    let phoenix = layout.start(&[])?;
    let db = phoenix.wait_for_lines("db.pids", 1)?;
    phoenix.wait_for_lines("web.events", 1)?;
    let inner: i32 = db[0].trim().parse()?;
    let mut outer = None;
    phoenix.eventually("db's pid is visible from outside", || {
        outer = phoenix.pid().ok().and_then(|pid1| outer_pid(pid1, inner));
        outer.is_some()
    })?;
    let outer = outer.ok_or("db's pid vanished")?;
    kill(Pid::from_raw(outer), Signal::SIGKILL)?;
    let events = phoenix.wait_for_lines("web.events", 3)?;
    let context = phoenix.context();
    assert_eq!(
        events[..3],
        ["start web", "stop web", "start web"],
        "{context}"
    );
    // db's record of its restart may land after web's: wait for it, then count.
    phoenix.wait_for_lines("db.pids", 2)?;
    assert_eq!(
        phoenix.lines("db.pids").len(),
        2,
        "db restarted once{context}"
    );
    let stderr = phoenix.stderr();
    assert!(
        stderr.contains("requires db, which went down"),
        "no propagation line{context}"
    );
    // web came back only after db had: the second "web: … → starting" follows db's restart.
    let lines: Vec<&str> = stderr.lines().collect();
    let db_restart = lines
        .iter()
        .rposition(|line| line.starts_with("[phoenix] info: db:") && line.contains("→ running"));
    let web_restart = lines
        .iter()
        .rposition(|line| line.contains("web: down → starting"));
    assert!(
        db_restart.is_some() && db_restart < web_restart,
        "web restarted at line {web_restart:?}, db at {db_restart:?}{context}"
    );
    Ok(())
}

#[test]
fn failing_oneshot_keeps_its_dependent_from_starting() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit(
        "setup",
        r#"kind = "oneshot"
command = "echo ran >> setup.runs; exit 3"
"#,
    )?;
    layout.unit(
        "app",
        r#"command = "touch app.started; exec sleep 1000"
after = ["setup"]
"#,
    )?;
    layout.unit(
        "witness",
        r#"command = "touch witness.started; exec sleep 1000""#,
    )?;
    let phoenix = layout.start(&[])?;
    phoenix.wait_for_log("setup: running → failed")?;
    phoenix.wait_for_log("app: not starting: waiting for setup, which is failed")?;
    phoenix.wait_for_file("witness.started")?;
    let context = phoenix.context();
    assert!(!phoenix.exists("app.started"), "app started{context}");
    assert_eq!(phoenix.lines("setup.runs").len(), 1, "{context}");
    Ok(())
}

#[test]
fn succeeding_oneshot_starts_its_dependent_after_it() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit(
        "setup",
        r#"kind = "oneshot"
command = "echo setup begins >> events; sleep 0.3; echo setup ends >> events"
"#,
    )?;
    layout.unit(
        "app",
        r#"command = "echo app starts >> events; exec sleep 1000"
after = ["setup"]
"#,
    )?;
    let phoenix = layout.start(&[])?;
    let events = phoenix.wait_for_lines("events", 3)?;
    assert_eq!(
        events,
        ["setup begins", "setup ends", "app starts"],
        "{}",
        phoenix.context()
    );
    Ok(())
}
