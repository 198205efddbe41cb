//! An invalid `phoenix.toml` at start (DESIGN.md §9, issue 11): the last valid copy Phoenix
//! kept in its state directory is used, with an error line; without one, the defaults.
//! The copy is found in the state directory the broken file still names, when it is TOML
//! at all, else in the default state directory (for an unprivileged Phoenix,
//! `$XDG_STATE_HOME/phoenix`, which lets a test own it). The runtime directory is the
//! setting these tests observe: where the control socket appears.

use std::fs;
use std::os::unix::fs::{PermissionsExt, chown};
use std::path::Path;
use std::process::Command;

use crate::control::ctl::{Outcome, run};
use crate::harness::{DEADLINE, Phoenix, Pid1, TestResult, scratch};
use crate::services::setup::ServicesDir;

/// `phoenixctl --socket SOCKET ARGS...`.
#[track_caller]
fn phoenixctl_at(socket: &Path, args: &[&str]) -> TestResult<Outcome> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_phoenixctl"));
    command
        .env_remove("PHOENIX_SOCKET")
        .arg("--socket")
        .arg(socket)
        .args(args);
    run(command, DEADLINE)
}

#[track_caller]
fn wait_for_socket(phoenix: &Phoenix, socket: &Path) -> TestResult {
    phoenix.eventually(&format!("{} answers", socket.display()), || {
        phoenixctl_at(socket, &["status"]).is_ok_and(|outcome| outcome.code == 0)
    })
}

#[test]
fn issue_11_an_invalid_config_uses_the_last_valid_copy_in_the_state_dir_it_names() -> TestResult {
    let base = scratch()?;
    let (state, units) = (base.path().join("state"), base.path().join("services.d"));
    let (good_run, bad_run) = (base.path().join("run-good"), base.path().join("run-bad"));
    let good = format!("state-dir = {state:?}\nruntime-dir = {good_run:?}\n");
    let first = ServicesDir::with_dirs(&state, &units)?;
    first.unit("web", "command = \"touch web.ran; exec sleep 1000\"")?;
    first.file("phoenix.toml", &good, 0o644)?;
    let mut phoenix = first.start(&[])?;
    let socket = good_run.join("control.sock");
    wait_for_socket(&phoenix, &socket)?;
    let copy = state.join("phoenix.toml.last-good");
    assert_eq!(fs::read_to_string(&copy)?, good, "{}", phoenix.context());
    phoenixctl_at(&socket, &["shutdown"])?.ok()?;
    assert_eq!(phoenix.wait_exit(DEADLINE)?, 0, "{}", phoenix.context());

    // Still TOML, still naming the state directory, but with a value that is not valid.
    let second = ServicesDir::with_dirs(&state, &units)?;
    let bad = format!("state-dir = {state:?}\nruntime-dir = {bad_run:?}\ngrace = \"soon\"\n");
    second.file("phoenix.toml", &bad, 0o644)?;
    let config = second.path("phoenix.toml");
    let phoenix = second.start(&[])?;
    phoenix.wait_for_file("web.ran")?;
    wait_for_socket(&phoenix, &socket)?;
    let expected = format!("; using the last valid copy from {}", copy.display());
    let line = phoenix
        .stderr()
        .lines()
        .find(|line| line.contains(&expected))
        .map(str::to_string)
        .ok_or_else(|| format!("no line with {expected:?}{}", phoenix.context()))?;
    assert!(
        line.contains("error: ") && line.contains(&format!("{}:3:", config.display())),
        "the error names the broken file and where: {line}"
    );
    assert!(!bad_run.exists(), "the broken file's runtime-dir was used");
    assert_eq!(
        fs::read_to_string(&copy)?,
        good,
        "the copy is kept as it was"
    );
    Ok(())
}

const NOBODY: &[&str] = &[
    "setpriv",
    "--reuid",
    "65534",
    "--regid",
    "65534",
    "--clear-groups",
];

/// A directory `nobody` owns.
fn owned_by_nobody(path: &Path) -> TestResult {
    fs::create_dir_all(path)?;
    chown(path, Some(65534), Some(65534))?;
    Ok(())
}

/// Phoenix as `nobody` on `base`'s units and broken config, in a scratch dir of its own,
/// with its default directories in `base`.
fn start_as_nobody(base: &Path) -> TestResult<Phoenix> {
    let dir = scratch()?;
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777))?;
    let (xdg_state, xdg_run) = (base.join("xdg-state"), base.join("xdg-run"));
    let env = [
        ("HOME", "/nonexistent"),
        ("XDG_STATE_HOME", xdg_state.to_str().ok_or("path")?),
        ("XDG_RUNTIME_DIR", xdg_run.to_str().ok_or("path")?),
    ];
    let args = [
        "-c".to_string(),
        base.join("phoenix.toml").display().to_string(),
        "-d".to_string(),
        base.join("services.d").display().to_string(),
    ];
    Pid1::start_wrapped(dir, &env, NOBODY, args)
}

#[test]
fn issue_11_a_config_that_is_not_toml_uses_the_copy_in_the_default_state_dir_or_defaults()
-> TestResult {
    let _turn = crate::harness::nobody_shared_memory();
    let base = scratch()?;
    fs::set_permissions(base.path(), fs::Permissions::from_mode(0o755))?;
    let (xdg_state, xdg_run) = (base.path().join("xdg-state"), base.path().join("xdg-run"));
    let copy_run = base.path().join("run-copy");
    for dir in [&xdg_state, &xdg_run, &copy_run] {
        owned_by_nobody(dir)?;
    }
    fs::create_dir(base.path().join("services.d"))?;
    fs::write(
        base.path().join("services.d/web.toml"),
        "command = \"exec sleep 1000\"",
    )?;
    fs::write(
        base.path().join("phoenix.toml"),
        "grace = [[[ this is not toml",
    )?;

    // No copy yet: every default, as before (and nothing kept from a broken file).
    let phoenix = start_as_nobody(base.path())?;
    wait_for_socket(&phoenix, &xdg_run.join("phoenix/control.sock"))?;
    phoenix.wait_for_log("; using default settings")?;
    let copy = xdg_state.join("phoenix/phoenix.toml.last-good");
    assert!(!copy.exists(), "{}", phoenix.context());
    drop(phoenix);

    fs::write(&copy, format!("runtime-dir = {copy_run:?}\n"))?;
    let phoenix = start_as_nobody(base.path())?;
    wait_for_socket(&phoenix, &copy_run.join("control.sock"))?;
    phoenix.wait_for_log(&format!(
        "; using the last valid copy from {}",
        copy.display()
    ))?;
    Ok(())
}
