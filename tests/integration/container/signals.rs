//! `runc kill ID SIGNAL` signals the container's PID 1 only; Phoenix forwards it to its
//! child (tini mode), so the child's traps run and its death by a signal is the status.

use super::runtime::{Bundle, Container, DEADLINE};
use crate::harness::TestResult;

/// Appends a line to `/got` per USR1, and on TERM writes `/got_term` and exits 0.
const TRAPPING_CHILD: &str = r#"
trap 'echo usr1 >> /got' USR1
trap 'echo term > /got_term; exit 0' TERM
touch /ready
while :; do sleep 0.05; done
"#;

#[test]
fn usr1_and_term_reach_the_child() -> TestResult {
    let mut container = Bundle::new()?.start(&["--", "sh", "-c", TRAPPING_CHILD])?;
    container.wait_for_file("/ready")?;
    container.kill("USR1")?;
    container.eventually("the USR1 trap wrote /got", || {
        container.read("/got").lines().any(|line| line == "usr1")
    })?;
    container.kill("TERM")?;
    let status = container.wait_exit(DEADLINE)?;
    assert_eq!(status, 0, "exit status{}", container.context());
    assert_eq!(
        container.read("/got_term"),
        "term\n",
        "the TERM trap{}",
        container.context()
    );
    Ok(())
}

/// Whether `ps` inside the container shows `sleep 1000` (then Phoenix has its signals
/// blocked for its signalfd and has started the child).
fn is_sleeping(container: &Container) -> bool {
    container
        .exec(&["ps", "-o", "args"])
        .is_ok_and(|ps| ps.stdout.lines().any(|line| line.trim() == "sleep 1000"))
}

#[test]
fn int_kills_a_plain_child_and_the_status_is_130() -> TestResult {
    let mut container = Bundle::new()?.start(&["--", "sleep", "1000"])?;
    container.eventually("ps shows sleep 1000", || is_sleeping(&container))?;
    container.kill("INT")?;
    let status = container.wait_exit(DEADLINE)?;
    assert_eq!(status, 130, "exit status{}", container.context());
    Ok(())
}
