//! Where Phoenix keeps its socket and state when the usual places cannot be used: a user
//! whose home does not exist and who has no `$XDG_RUNTIME_DIR` still gets a control socket
//! (`/dev/shm/phoenix-UID`) and state beside it, each fallback said once, never once per
//! state change; `phoenixctl`, as that user or as root, finds the socket by itself. (A
//! read-only root filesystem is the container tier's test.)

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::control::ctl::run;
use crate::harness::{DEADLINE, Pid1, TestResult, scratch};

const NOBODY: &[&str] = &[
    "setpriv",
    "--reuid",
    "65534",
    "--regid",
    "65534",
    "--clear-groups",
];
const RUNTIME_DIR: &str = "/dev/shm/phoenix-65534";

/// Removes the shared runtime directory before and after the test.
struct SharedRuntimeDir;

impl Drop for SharedRuntimeDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(RUNTIME_DIR);
    }
}

fn phoenixctl(wrapper: &[&str], env: &[(&str, &str)], args: &[&str]) -> Command {
    let mut command = Command::new(wrapper.first().copied().unwrap_or("env"));
    command
        .args(wrapper.iter().skip(1))
        .arg(env!("CARGO_BIN_EXE_phoenixctl"))
        .args(args)
        .env_remove("PHOENIX_SOCKET")
        .envs(env.iter().copied());
    command
}

#[test]
fn issue_8_a_user_without_a_home_gets_a_socket_and_state_in_shared_memory() -> TestResult {
    let _turn = crate::harness::nobody_shared_memory();
    let _cleanup = SharedRuntimeDir;
    let _ = fs::remove_dir_all(RUNTIME_DIR);
    let dir = scratch()?;
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755))?;
    let services = dir.path().join("services.d");
    fs::create_dir(&services)?;
    fs::write(
        services.join("crash.toml"),
        "command = \"exit 1\"\n[restart]\ndelay = \"50ms\"\nmax-delay = \"50ms\"\nmax-failures = 1000\n",
    )?;
    let env = [
        ("HOME", "/nonexistent"),
        ("XDG_RUNTIME_DIR", ""),
        ("XDG_STATE_HOME", ""),
    ];
    let args = ["-c", "/dev/null", "-d"].map(String::from);
    let mut args = args.to_vec();
    args.push(services.display().to_string());
    let phoenix = Pid1::start_wrapped(dir, &env, NOBODY, args)?;
    let state_file = format!("{RUNTIME_DIR}/state/state.json");
    phoenix.eventually("crash restarted five times", || {
        phoenix.stderr().matches("crash: running → backoff").count() >= 5
    })?;
    phoenix.eventually("the state was saved in the fallback", || {
        fs::metadata(&state_file).is_ok()
    })?;
    let stderr = phoenix.stderr();
    let context = phoenix.context();
    assert_eq!(
        stderr
            .matches("keeping state in /dev/shm/phoenix-65534/state")
            .count(),
        1,
        "one warning for the state fallback{context}"
    );
    assert!(
        !stderr.contains("unable to save state"),
        "no per-change warning{context}"
    );
    for wrapper in [NOBODY, &[][..]] {
        let outcome = run(phoenixctl(wrapper, &env, &["status"]), DEADLINE)?.ok()?;
        assert!(
            outcome.stdout.contains("crash"),
            "{wrapper:?}: {outcome:?}{context}"
        );
    }
    Ok(())
}
