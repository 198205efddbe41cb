//! `phoenixctl check`, the Docker `HEALTHCHECK` verb: exit 1 with one line per wanted
//! service that is not ready (or is unhealthy), 0 once every one is, 3 when no Phoenix
//! answers.

use std::process::Command;

use super::ctl::{phoenixctl, run, start};
use crate::harness::{DEADLINE, TestResult, scratch};
use crate::services::setup::ServicesDir;

#[test]
fn check_fails_while_a_service_starts_and_passes_once_it_is_ready() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit(
        "web",
        "command = \"touch web.started; exec sleep 1000\"\n[ready]\ncheck = \"exec\"\ncommand = [\"test\", \"-e\", \"go\"]\ninterval = \"50ms\"\n",
    )?;
    layout.unit("spare", "command = \"exec sleep 1000\"\nenabled = false\n")?;
    let phoenix = start(layout)?;
    phoenix.wait_for_file("web.started")?;
    let outcome = phoenixctl(&phoenix, &["check"])?.expect(1)?;
    assert_eq!(outcome.stdout, "web: starting\n", "{outcome:?}");
    assert!(outcome.stderr.contains("not ready: 1 of 1"), "{outcome:?}");
    phoenix.touch("go")?;
    phoenix.eventually("phoenixctl check passes", || {
        phoenixctl(&phoenix, &["check"]).is_ok_and(|outcome| outcome.code == 0)
    })?;
    let outcome = phoenixctl(&phoenix, &["check"])?.ok()?;
    assert_eq!(outcome.stdout, "ok: 1 wanted service(s) ready\n");
    Ok(())
}

#[test]
fn check_is_exit_3_when_phoenix_is_unreachable() -> TestResult {
    let dir = scratch()?;
    let mut command = Command::new(env!("CARGO_BIN_EXE_phoenixctl"));
    command
        .env_remove("PHOENIX_SOCKET")
        .arg("--socket")
        .arg(dir.path().join("control.sock"))
        .arg("check");
    let outcome = run(command, DEADLINE)?.expect(3)?;
    assert!(
        outcome.stderr.contains("cannot reach Phoenix"),
        "{outcome:?}"
    );
    Ok(())
}
