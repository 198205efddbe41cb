//! A read-only root (`docker run --read-only`, `readOnlyRootFilesystem`): the services
//! still run, the control socket falls back to a writable directory where `phoenixctl`
//! also looks (`/run/phoenix`, else `/dev/shm/phoenix`), and the unwritable state
//! directory costs one warning, not one per state change.

use super::runtime::{Bundle, Container};
use crate::harness::TestResult;

/// Writes to `/out`, the one host directory bound into the container, once it runs.
const ALIVE: &str = r#"command = ["sh", "-c", "touch /out/alive.ready; while :; do sleep 0.05; done"]

[restart]
delay = "100ms"
"#;

/// Fails at once, forever, every 100 ms: each failure is a state change to save.
const CRASHING: &str = r#"command = ["sh", "-c", "exit 1"]

[restart]
delay = "100ms"
multiplier = 1.0
max-failures = 1000
"#;

/// How many restarts of `crashing` make "one warning per state change" unmistakable.
const RESTARTS: u64 = 5;

fn read_only_container() -> TestResult<Container> {
    let mut bundle = Bundle::new()?;
    bundle.unit("alive", ALIVE)?;
    bundle.unit("crashing", CRASHING)?;
    bundle.bind_dir("out", "/out")?;
    bundle.read_only(true);
    bundle.start(&[])
}

fn restarts_of(container: &Container, name: &str) -> Option<u64> {
    let outcome = container.phoenixctl(&["--json", "status", name]).ok()?;
    let service: serde_json::Value = serde_json::from_str(&outcome.stdout).ok()?;
    service["restarts"].as_u64()
}

#[test]
fn services_run_and_phoenixctl_answers_on_a_read_only_root() -> TestResult {
    let container = read_only_container()?;
    container.eventually("alive wrote /out/alive.ready", || {
        container.host_path("out/alive.ready").exists()
    })?;
    let status = container.exec_until_ok(&["/sbin/phoenixctl", "status"])?;
    assert!(
        status
            .stdout
            .lines()
            .any(|line| line.starts_with("alive ") && line.contains("running")),
        "{status:?}{}",
        container.context()
    );
    Ok(())
}

#[test]
fn unwritable_state_directory_warns_once_not_per_state_change() -> TestResult {
    let container = read_only_container()?;
    container.exec_until_ok(&["/sbin/phoenixctl", "status"])?;
    container.eventually(&format!("crashing restarted {RESTARTS} times"), || {
        restarts_of(&container, "crashing").is_some_and(|count| count >= RESTARTS)
    })?;
    let stderr = container.stderr();
    let warnings = stderr
        .lines()
        .filter(|line| line.contains("unable to save state"))
        .count();
    assert!(
        warnings <= 1,
        "{warnings} 'unable to save state' lines after {RESTARTS} restarts{}",
        container.context()
    );
    Ok(())
}
