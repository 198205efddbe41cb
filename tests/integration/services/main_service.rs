//! The main service (DESIGN.md §3, §4): a COMMAND given with `--services`, or a unit with
//! `main = true`. Its exit stops the other services in order and becomes Phoenix's exit
//! status.

use super::setup::{ServicesDir, logging_daemon};
use crate::harness::{DEADLINE, TestResult};

#[test]
fn command_exit_status_is_phoenix_status_after_services_stop() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit("helper", &logging_daemon("helper", "events", ""))?;
    // The main command waits until the helper has set its trap, so its stop is recorded.
    let main = "until grep -q '^start helper$' events 2>/dev/null; do sleep 0.01; done; echo main ends >> events; exit 5";
    let mut phoenix = layout.start(&["--", "sh", "-c", main])?;
    assert_eq!(phoenix.wait_exit(DEADLINE)?, 5, "{}", phoenix.context());
    assert_eq!(
        phoenix.lines("events"),
        ["start helper", "main ends", "stop helper"],
        "{}",
        phoenix.context()
    );
    Ok(())
}

#[test]
fn main_unit_exit_status_is_phoenix_status_after_services_stop() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit("helper", &logging_daemon("helper", "events", ""))?;
    layout.unit(
        "app",
        r#"main = true
after = ["helper"]
command = "until grep -q '^start helper$' events 2>/dev/null; do sleep 0.01; done; echo main ends >> events; exit 7"
"#,
    )?;
    let mut phoenix = layout.start(&[])?;
    assert_eq!(phoenix.wait_exit(DEADLINE)?, 7, "{}", phoenix.context());
    assert_eq!(
        phoenix.lines("events"),
        ["start helper", "main ends", "stop helper"],
        "{}",
        phoenix.context()
    );
    assert!(
        phoenix
            .stderr()
            .contains("app: main service ended (exit 7), shutting down"),
        "{}",
        phoenix.context()
    );
    Ok(())
}
