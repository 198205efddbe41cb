//! Only root and Phoenix's own uid may control it. The socket's permissions keep others
//! out, and when they do not (a loosened mode) the peer-credential check still does; either
//! way the refusal is exit 1 with "permission denied", and nothing else is disturbed.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use super::ctl::{daemon, phoenixctl, run, service_json, socket, start, wait_for_state};
use crate::harness::{DEADLINE, Phoenix, TestResult};
use crate::services::setup::ServicesDir;

/// `phoenixctl ARGS...` as the unprivileged `nobody` (uid and gid 65534, no groups).
fn phoenixctl_as_nobody(phoenix: &Phoenix, args: &[&str]) -> TestResult<super::ctl::Outcome> {
    let mut command = Command::new("setpriv");
    command
        .args(["--reuid", "65534", "--regid", "65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_phoenixctl"))
        .arg("--socket")
        .arg(socket(phoenix))
        .args(args)
        .env_remove("PHOENIX_SOCKET");
    run(command, DEADLINE)
}

#[track_caller]
fn assert_refused(phoenix: &Phoenix) -> TestResult {
    for args in [&["status"][..], &["stop", "web"], &["shutdown"]] {
        let outcome = phoenixctl_as_nobody(phoenix, args)?;
        assert_eq!(outcome.code, 1, "{args:?}: {outcome:?}");
        assert!(
            outcome.stderr.contains("permission denied"),
            "{args:?}: {outcome:?}"
        );
    }
    Ok(())
}

fn layout() -> TestResult<ServicesDir> {
    let layout = ServicesDir::new()?;
    layout.unit("web", &daemon("web", ""))?;
    Ok(layout)
}

#[test]
fn a_user_without_rights_is_refused() -> TestResult {
    let mut phoenix = start(layout()?)?;
    wait_for_state(&phoenix, "web", "running")?;
    let pid = service_json(&phoenix, "web")?["pid"].clone();
    assert_refused(&phoenix)?;
    assert_eq!(phoenix.try_exit()?, None, "phoenix keeps running");
    let web = service_json(&phoenix, "web")?;
    assert_eq!(
        (&web["state"], &web["pid"]),
        (&"running".into(), &pid),
        "{web}"
    );
    assert_eq!(phoenix.lines("web.pids").len(), 1);
    Ok(())
}

#[test]
fn a_user_who_can_reach_the_socket_is_refused_by_its_credentials() -> TestResult {
    let mut phoenix = start(layout()?)?;
    wait_for_state(&phoenix, "web", "running")?;
    let pid = service_json(&phoenix, "web")?["pid"].clone();
    // Loosen every permission on the way, so only Phoenix's SO_PEERCRED check stands.
    for (path, mode) in [
        (phoenix.dir().to_path_buf(), 0o755),
        (phoenix.path("run"), 0o755),
        (socket(&phoenix), 0o777),
    ] {
        fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
    }
    assert_refused(&phoenix)?;
    let outcome = phoenixctl_as_nobody(&phoenix, &["status"])?;
    assert!(outcome.stderr.contains("uid 65534"), "{outcome:?}");
    assert!(
        phoenix.stderr().contains("refused uid 65534"),
        "the refusal is logged{}",
        phoenix.context()
    );
    assert_eq!(phoenix.try_exit()?, None, "phoenix keeps running");
    let web = service_json(&phoenix, "web")?;
    assert_eq!(
        (&web["state"], &web["pid"]),
        (&"running".into(), &pid),
        "{web}"
    );
    phoenixctl(&phoenix, &["status"])?.ok()?;
    Ok(())
}

/// Root without CAP_DAC_OVERRIDE (a container's dropped capabilities) cannot open another
/// user's socket; phoenixctl says what stood in the way instead of "reserved for root".
#[test]
fn issue_8_root_without_dac_override_is_told_what_failed() -> TestResult {
    use std::os::unix::fs::chown;
    let mut phoenix = start(layout()?)?;
    wait_for_state(&phoenix, "web", "running")?;
    for path in [phoenix.path("run"), socket(&phoenix)] {
        chown(&path, Some(65534), Some(65534))?;
    }
    let mut command = Command::new("setpriv");
    command
        .args(["--bounding-set=-dac_override,-dac_read_search"])
        .arg(env!("CARGO_BIN_EXE_phoenixctl"))
        .arg("--socket")
        .arg(socket(&phoenix))
        .arg("status")
        .env_remove("PHOENIX_SOCKET");
    let outcome = run(command, DEADLINE)?;
    assert_eq!(outcome.code, 1, "{outcome:?}");
    for words in [
        "permission denied",
        "owned by uid 65534",
        "runs as uid 0 without CAP_DAC_OVERRIDE",
    ] {
        assert!(outcome.stderr.contains(words), "{words:?}: {outcome:?}");
    }
    assert!(!outcome.stderr.contains("reserved for root"), "{outcome:?}");
    assert_eq!(phoenix.try_exit()?, None, "phoenix keeps running");
    Ok(())
}
