//! The mode rule inside an image (DESIGN.md §3): a COMMAND with an empty default
//! `/etc/phoenix/services.d` stays tini mode and creates no control socket and no state
//! directory; a COMMAND with units there is services mode with the COMMAND as the main
//! service; no COMMAND with no units there is a usage error naming the directory.

use super::runtime::{Bundle, DEADLINE, SERVICES_DIR};
use crate::harness::TestResult;

/// Where a services-mode Phoenix would put its socket and its state; the child looks
/// while Phoenix runs, the test looks again after the container is gone.
const SERVICES_MODE_TRACES: &[&str] = &[
    "/run/phoenix/control.sock",
    "/dev/shm/phoenix/control.sock",
    "/var/lib/phoenix",
];

#[test]
fn command_with_an_empty_default_directory_stays_tini_mode() -> TestResult {
    let mut bundle = Bundle::new()?;
    bundle.mkdir(SERVICES_DIR)?;
    // /dev/shm from the host instead of the spec's tmpfs, to look into it afterwards.
    let shm = bundle.bind_dir("shm", "/dev/shm")?;
    let script = format!(
        "for p in {}; do if [ -e $p ]; then echo $p; fi; done > /found; exit 3",
        SERVICES_MODE_TRACES.join(" ")
    );
    let mut container = bundle.start(&["--", "sh", "-c", &script])?;
    let status = container.wait_exit(DEADLINE)?;
    let context = container.context();
    assert_eq!(status, 3, "exit status{context}");
    assert!(container.exists("/found"), "the child did not run{context}");
    assert_eq!(container.read("/found"), "", "seen while running{context}");
    for left in ["/run/phoenix", "/var/lib/phoenix"] {
        assert!(!container.exists(left), "{left} was created{context}");
    }
    assert!(
        !shm.join("phoenix").exists(),
        "/dev/shm/phoenix was created{context}"
    );
    Ok(())
}

/// Units in the default directory turn `phoenix -- COMMAND` into services mode: the units
/// run, `phoenixctl` finds the control socket, and the COMMAND is the main service, whose
/// exit stops the units and becomes the container's status.
#[test]
fn issue_8_command_with_units_in_the_default_directory_is_services_mode() -> TestResult {
    let bundle = Bundle::new()?;
    bundle.unit(
        "web",
        "command = \"trap 'touch /web.stopped; exit 0' TERM; touch /web.started; \
         while :; do sleep 0.05; done\"\n",
    )?;
    let main = "touch /main.started; while [ ! -e /done ]; do sleep 0.05; done; exit 5";
    let mut container = bundle.start(&["--", "sh", "-c", main])?;
    container.wait_for_file("/web.started")?;
    container.wait_for_file("/main.started")?;
    let status = container.exec_until_ok(&["/sbin/phoenixctl", "status", "web"])?;
    assert!(
        status.stdout.contains("running"),
        "{status:?}{}",
        container.context()
    );
    std::fs::write(container.path("/done"), "")?;
    let code = container.wait_exit(DEADLINE)?;
    let context = container.context();
    assert_eq!(code, 5, "the main service's status{context}");
    assert!(
        container.exists("/web.stopped"),
        "web was not stopped{context}"
    );
    assert!(
        container.stderr().contains("main service ended (exit 5)"),
        "{context}"
    );
    Ok(())
}

#[track_caller]
fn assert_usage_error_naming_the_directory(bundle: Bundle) -> TestResult {
    let mut container = bundle.start(&[])?;
    let status = container.wait_exit(DEADLINE)?;
    let context = container.context();
    assert_eq!(status, 1, "exit status{context}");
    assert!(
        container
            .stderr()
            .lines()
            .any(|line| line.contains(SERVICES_DIR)),
        "no error line names {SERVICES_DIR}{context}"
    );
    Ok(())
}

#[test]
fn no_command_and_an_empty_default_directory_is_a_usage_error() -> TestResult {
    let bundle = Bundle::new()?;
    bundle.mkdir(SERVICES_DIR)?;
    assert_usage_error_naming_the_directory(bundle)
}

#[test]
fn no_command_and_no_default_directory_is_a_usage_error() -> TestResult {
    assert_usage_error_naming_the_directory(Bundle::new()?)
}
