//! Orderly shutdown's bounds (DESIGN.md §6): a service that outlives its stop signal is
//! SIGKILLed after its `[stop] timeout`, and `shutdown-timeout` caps the whole sequence even
//! when a service's own stop timeout is longer.

use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::setup::ServicesDir;
use crate::harness::{DEADLINE, TestResult};

/// A service that notes SIGTERM, keeps running, and says so on its next round.
const STUBBORN: &str = r#"command = '''
trap 'touch got.term' TERM
touch ready
while :; do [ -e got.term ] && touch survived.term; sleep 0.05; done
'''
"#;

#[test]
fn service_ignoring_sigterm_is_killed_after_its_stop_timeout() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit("stubborn", &format!("{STUBBORN}[stop]\ntimeout = \"1s\"\n"))?;
    let mut phoenix = layout.start(&[])?;
    phoenix.wait_for_file("ready")?;
    let asked = Instant::now();
    phoenix.signal(Signal::SIGTERM)?;
    phoenix.wait_for_file("survived.term")?;
    assert_eq!(phoenix.wait_exit(DEADLINE)?, 0, "{}", phoenix.context());
    let elapsed = asked.elapsed();
    let context = phoenix.context();
    assert!(
        elapsed >= Duration::from_secs(1),
        "phoenix ended {elapsed:?} after SIGTERM, before the 1s stop timeout{context}"
    );
    assert!(
        phoenix
            .stderr()
            .contains("stubborn: still running 1s after the stop signal, sending SIGKILL"),
        "no SIGKILL line{context}"
    );
    Ok(())
}

#[test]
fn shutdown_timeout_caps_a_longer_stop_timeout() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.settings("shutdown-timeout = \"1s\"\n")?;
    layout.unit(
        "stubborn",
        &format!("{STUBBORN}[stop]\ntimeout = \"60s\"\n"),
    )?;
    let mut phoenix = layout.start(&[])?;
    phoenix.wait_for_file("ready")?;
    let asked = Instant::now();
    phoenix.signal(Signal::SIGTERM)?;
    phoenix.wait_for_file("survived.term")?;
    // The deadline is far below the service's 60s stop timeout: only the cap can pass.
    assert_eq!(phoenix.wait_exit(DEADLINE)?, 0, "{}", phoenix.context());
    let elapsed = asked.elapsed();
    let context = phoenix.context();
    assert!(
        elapsed >= Duration::from_secs(1),
        "phoenix ended {elapsed:?} after SIGTERM, before the 1s cap{context}"
    );
    assert!(
        phoenix.stderr().contains("shutdown-timeout reached"),
        "no cap line{context}"
    );
    Ok(())
}
