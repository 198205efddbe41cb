//! `docker stop` sends SIGTERM to PID 1 and SIGKILLs the container 10 s later: Phoenix's
//! orderly shutdown lets every service run its TERM handler and exits 0 before that.

use std::time::Duration;

use super::runtime::{Bundle, SERVICES_DIR};
use crate::harness::TestResult;

/// Docker's default grace between `docker stop`'s SIGTERM and its SIGKILL.
const DOCKER_STOP_GRACE: Duration = Duration::from_secs(10);

/// A service that writes `/NAME.stopped` and exits 0 on TERM.
fn stoppable(name: &str) -> String {
    format!(
        r#"command = ["sh", "-c", "trap 'echo stopped > /{name}.stopped; exit 0' TERM; touch /{name}.ready; while :; do sleep 0.05; done"]

[restart]
delay = "100ms"
"#
    )
}

#[test]
fn term_stops_every_service_and_exits_0_within_docker_grace() -> TestResult {
    let bundle = Bundle::new()?;
    bundle.unit("api", &stoppable("api"))?;
    bundle.unit("queue", &stoppable("queue"))?;
    // Named explicitly: this test is about stopping, not about finding the directory.
    let mut container = bundle.start(&["--services", SERVICES_DIR])?;
    container.wait_for_file("/api.ready")?;
    container.wait_for_file("/queue.ready")?;
    container.kill("TERM")?;
    let status = container.wait_exit(DOCKER_STOP_GRACE)?;
    assert_eq!(status, 0, "exit status{}", container.context());
    for name in ["api", "queue"] {
        assert_eq!(
            container.read(&format!("/{name}.stopped")),
            "stopped\n",
            "{name}'s TERM handler{}",
            container.context()
        );
    }
    Ok(())
}
