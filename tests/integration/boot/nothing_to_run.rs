//! A machine's PID 1 with no command and no units (issue 8): in a container that is an
//! error and an exit, but the kernel panics when init exits, so Phoenix logs the error
//! and stays, reaping. A watcher that `/init` starts before it execs Phoenix waits for a
//! line typed on the console (the test types it once the error is shown), then makes an
//! orphan, sees it reaped by PID 1, and powers the machine off itself.

use super::machine::Image;
use crate::harness::TestResult;

const INIT: &str = r#"#!/bin/busybox sh
exec 3<&0
(
  read -r line <&3
  orphan=$(/bin/busybox sh -c '/bin/busybox sleep 0.2 >/dev/null 2>&1 & echo $!')
  tries=0
  while [ -e /proc/$orphan ] && [ $tries -lt 200 ]; do
    /bin/busybox sleep 0.05; tries=$((tries + 1))
  done
  if [ -e /proc/$orphan ]; then
    echo "watcher: orphan $orphan not reaped"
  else
    echo "watcher: orphan $orphan reaped by $(/bin/busybox cat /proc/1/comm)"
  fi
  /bin/busybox poweroff -f
) &
exec /sbin/phoenix 3<&-
"#;

#[test]
fn issue_8_with_nothing_to_run_a_machines_init_logs_it_and_keeps_reaping() -> TestResult {
    let mut image = Image::new()?;
    image.script("/init", INIT)?;
    let mut machine = image.boot("", &[])?;
    machine.wait_for("no command given and /etc/phoenix/services.d holds no units")?;
    machine.type_line("go")?;
    machine.wait_for("watcher: orphan ")?;
    machine.wait_exit()?;
    let console = machine.console();
    let context = machine.context();
    assert!(
        console.contains("error: no command given and /etc/phoenix/services.d holds no units"),
        "{context}"
    );
    assert!(
        console
            .lines()
            .any(|line| line.starts_with("watcher: orphan ") && line.ends_with("reaped by phoenix")),
        "{context}"
    );
    assert!(!console.contains("Attempted to kill init"), "{context}");
    assert_eq!(
        machine.shutdown_reason().as_deref(),
        Some("guest-shutdown"),
        "{context}"
    );
    Ok(())
}
