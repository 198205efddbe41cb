//! An image whose entry point is `/sbin/phoenix` with no arguments supervises the units in
//! `/etc/phoenix/services.d`, and `phoenixctl` run with `runc exec` inside the container
//! finds its control socket where Phoenix put it: status, restart and stop work. Where
//! there is no socket (tini mode), it says every place it looked.

use super::runtime::{Bundle, Container};
use crate::harness::TestResult;

/// A daemon that appends its pid to `/NAME.pids` at each start and exits 0 on TERM.
fn daemon(name: &str) -> String {
    format!(
        r#"command = ["sh", "-c", "trap 'exit 0' TERM; echo $$ >> /{name}.pids; while :; do sleep 0.05; done"]

[restart]
delay = "100ms"
"#
    )
}

/// The state column of `NAME`'s row in `phoenixctl status`, if it has one.
fn state_in_table(table: &str, name: &str) -> Option<String> {
    table.lines().find_map(|line| {
        let mut columns = line.split_whitespace();
        (columns.next() == Some(name)).then(|| columns.next().unwrap_or_default().to_string())
    })
}

/// Waits until `phoenixctl status` shows every one of `names` as `running`.
#[track_caller]
fn wait_until_running(container: &Container, names: &[&str]) -> TestResult {
    let mut table = String::new();
    container
        .eventually(
            &format!("phoenixctl status shows {names:?} running"),
            || {
                table = container
                    .phoenixctl(&["status"])
                    .map(|outcome| outcome.stdout)
                    .unwrap_or_default();
                names
                    .iter()
                    .all(|name| state_in_table(&table, name).as_deref() == Some("running"))
            },
        )
        .map_err(|error| format!("{error}\n--- last status:\n{table}").into())
}

/// The pids a daemon recorded, oldest first.
fn pids(container: &Container, name: &str) -> Vec<String> {
    container
        .read(&format!("/{name}.pids"))
        .lines()
        .map(str::to_string)
        .collect()
}

fn services_container() -> TestResult<Container> {
    let bundle = Bundle::new()?;
    bundle.unit("web", &daemon("web"))?;
    bundle.unit("worker", &daemon("worker"))?;
    bundle.start(&[])
}

#[test]
fn status_lists_the_default_directory_services_as_running() -> TestResult {
    let container = services_container()?;
    wait_until_running(&container, &["web", "worker"])
}

#[test]
fn restart_wait_starts_the_service_again() -> TestResult {
    let container = services_container()?;
    wait_until_running(&container, &["web", "worker"])?;
    let before = pids(&container, "web");
    container.phoenixctl(&["restart", "web", "--wait"])?.ok()?;
    // Running means exec'd: the new shell may not have written its pid yet.
    crate::wait::eventually("the restarted web wrote its pid", || {
        pids(&container, "web").len() > before.len()
    })?;
    let after = pids(&container, "web");
    assert_eq!(
        after.len(),
        before.len() + 1,
        "{after:?}{}",
        container.context()
    );
    assert_ne!(after.last(), before.last(), "{}", container.context());
    wait_until_running(&container, &["web", "worker"])
}

#[test]
fn stop_wait_leaves_the_service_down() -> TestResult {
    let container = services_container()?;
    wait_until_running(&container, &["web", "worker"])?;
    let pid = pids(&container, "worker")
        .pop()
        .ok_or("worker recorded no pid")?;
    container.phoenixctl(&["stop", "worker", "--wait"])?.ok()?;
    let table = container.phoenixctl(&["status"])?.ok()?.stdout;
    assert_eq!(
        state_in_table(&table, "worker").as_deref(),
        Some("down"),
        "{table}"
    );
    assert_eq!(
        state_in_table(&table, "web").as_deref(),
        Some("running"),
        "{table}"
    );
    let gone = container.exec(&["test", "-e", &format!("/proc/{pid}")])?;
    assert_eq!(
        gone.code,
        1,
        "worker's pid {pid} still exists{}",
        container.context()
    );
    Ok(())
}

/// A container running Phoenix in tini mode has no control socket: `phoenixctl` exits 3
/// and names every path it tried, in the order it tried them, and how to name another.
#[test]
fn issue_8_without_a_socket_phoenixctl_says_where_it_looked() -> TestResult {
    let bundle = Bundle::new()?;
    let script = "touch /started; while [ ! -e /done ]; do sleep 0.05; done";
    let mut container = bundle.start(&["--", "sh", "-c", script])?;
    container.wait_for_file("/started")?;
    let outcome = container.phoenixctl(&["status"])?;
    assert_eq!(outcome.code, 3, "{outcome:?}{}", container.context());
    assert_eq!(
        outcome.stderr,
        "phoenixctl: cannot reach Phoenix: no control socket at /run/phoenix/control.sock, \
         /dev/shm/phoenix/control.sock, /tmp/phoenix/control.sock \
         (--socket PATH or $PHOENIX_SOCKET names another)\n",
        "{outcome:?}"
    );
    std::fs::write(container.path("/done"), "")?;
    assert_eq!(
        container.wait_exit(super::runtime::DEADLINE)?,
        0,
        "{}",
        container.context()
    );
    Ok(())
}
