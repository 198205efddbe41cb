//! What a service's program leaves behind in its process group (`[stop] mode`, docs/units.md):
//! in group mode the rest of the group is ended — stop signal, `[stop] timeout`, SIGKILL —
//! before the service restarts, so a command that daemonizes leaves no orphan per restart;
//! in process mode it is left alone. Pids the services record are their namespace's; the
//! test finds them in `/proc` by `NSpid`.

use super::setup::{ServicesDir, log_position};
use crate::harness::{Phoenix, TestResult};
use crate::procfs::{descendants, namespace_pid, state};

/// Starts a `sleep` in the background, records its pid, and fails.
const DAEMONIZES: &str = r#"command = ["sh", "-c", "sleep 1000 & echo $! >> pids; exit 1"]
[restart]
delay = "100ms"
multiplier = 1.0
max-failures = 1000
window = "10m"
"#;

/// The pids among `recorded` (namespace pids, one a line) that are running processes
/// (not zombies) in Phoenix's namespace.
fn running(phoenix: &Phoenix, recorded: &[String]) -> TestResult<Vec<i32>> {
    let alive: Vec<i32> = descendants(phoenix.pid()?)
        .into_iter()
        .filter(|&pid| state(pid).is_some_and(|s| s != 'Z'))
        .filter_map(namespace_pid)
        .collect();
    let recorded = recorded
        .iter()
        .map(|line| line.trim().parse::<i32>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| format!("not a pid in {recorded:?}: {error}"))?;
    Ok(recorded
        .into_iter()
        .filter(|pid| alive.contains(pid))
        .collect())
}

#[test]
fn group_mode_ends_the_leftovers_of_each_run_before_restarting() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit("worker", DAEMONIZES)?;
    let phoenix = layout.start(&[])?;
    let pids = phoenix.wait_for_lines("pids", 4)?;
    // A run starts only once the group of the one before is empty: of the recorded sleeps
    // only the latest run's may still be alive.
    let alive = running(&phoenix, &pids)?;
    let context = phoenix.context();
    assert!(
        alive.len() <= 1
            && alive
                .iter()
                .all(|pid| pids.last() == Some(&pid.to_string())),
        "sleeps of earlier runs still alive: {alive:?} of {pids:?}{context}"
    );
    phoenix.wait_for_log(
        "worker: ending 1 leftover process(es) of its process group (SIGTERM, SIGKILL after 10s)",
    )?;
    Ok(())
}

#[test]
fn a_leftover_ignoring_the_stop_signal_is_killed_then_the_service_restarts() -> TestResult {
    let layout = ServicesDir::new()?;
    // The first run leaves a process that ignores SIGTERM (and waits until it does, so the
    // signal cannot arrive before the trap); later runs stay up.
    layout.unit(
        "worker",
        r#"command = '''
echo run >> starts
if [ ! -e stubborn ]; then
  sh -c 'trap "" TERM; echo $$ > stubborn.tmp; mv stubborn.tmp stubborn; exec sleep 1000' &
  while [ ! -e stubborn ]; do sleep 0.01; done
  exit 1
fi
exec sleep 1000
'''
[restart]
delay = "100ms"
[stop]
timeout = "500ms"
"#,
    )?;
    let phoenix = layout.start(&[])?;
    phoenix.wait_for_lines("starts", 2)?;
    let stubborn = phoenix.lines("stubborn");
    let context = phoenix.context();
    assert_eq!(stubborn.len(), 1, "the leftover's pid{context}");
    assert_eq!(
        running(&phoenix, &stubborn)?,
        Vec::<i32>::new(),
        "the leftover outlived the restart{context}"
    );
    let stderr = phoenix.stderr();
    let ending = log_position(&stderr, &["worker: ending 1 leftover process(es)"]);
    let killing = log_position(
        &stderr,
        &[
            "worker: leftover process(es)",
            "500ms after the stop signal, sending SIGKILL",
        ],
    );
    let restarting = log_position(&stderr, &["worker: stopping → backoff"]);
    assert!(
        ending.is_some() && ending < killing && killing < restarting,
        "order of ending {ending:?}, SIGKILL {killing:?}, restart {restarting:?}{context}"
    );
    Ok(())
}

#[test]
fn process_mode_leaves_the_rest_of_the_group_alone() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit(
        "worker",
        &format!("{DAEMONIZES}[stop]\nmode = \"process\"\n"),
    )?;
    let phoenix = layout.start(&[])?;
    let pids = phoenix.wait_for_lines("pids", 3)?;
    let alive = running(&phoenix, &pids[..3])?;
    let context = phoenix.context();
    assert_eq!(alive.len(), 3, "every run's sleep lives on{context}");
    assert!(!phoenix.stderr().contains("leftover"), "{context}");
    Ok(())
}
