//! The repository's demo (`services.d/`, the README's first command), run as it ships:
//! `web` is `starting` until it accepts connections on 127.0.0.1:8642, and `sickly`'s
//! health check starts failing after five seconds, so it is restarted as unhealthy.
//!
//! The units name fixed places, so Phoenix gets them to itself: a network namespace of its
//! own (port 8642 is nobody else's) and the test's own directory bound on
//! `/tmp/phoenix-demo` in its mount namespace. The units are copied, since Phoenix keeps
//! files of its own in an s6 directory (`greeter/event/`), and the repository's stay as
//! they are.

use std::fs;
use std::path::Path;
use std::time::Duration;

use crate::control::ctl::{phoenixctl, service_json};
use crate::harness::{Phoenix, Pid1, TestResult};
use crate::services::setup::ServicesDir;
use crate::wait::wait_until;

/// Where the demo's units keep their files.
const DEMO_DIR: &str = "/tmp/phoenix-demo";

/// Generous: sickly's probes start failing five seconds in, and the whole demo (python3
/// among it) starts at once on what may be a loaded two-core machine.
const DEMO_DEADLINE: Duration = Duration::from_secs(60);

fn copy_dir(from: &Path, to: &Path) -> TestResult {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// Waits up to [`DEMO_DEADLINE`] until Phoenix's stderr has a line holding every one of
/// `parts`, and returns it.
#[track_caller]
fn wait_for_line(phoenix: &Phoenix, parts: &[&str]) -> TestResult<String> {
    let caller = std::panic::Location::caller();
    let mut found = None;
    wait_until(DEMO_DEADLINE, || {
        found = phoenix
            .stderr()
            .lines()
            .find(|line| parts.iter().all(|part| line.contains(part)))
            .map(str::to_string);
        found.is_some()
    });
    found.ok_or_else(|| {
        format!(
            "{caller}: no line with {parts:?} within {DEMO_DEADLINE:?}{}",
            phoenix.context()
        )
        .into()
    })
}

#[test]
fn the_demo_web_is_ready_on_its_port_and_sickly_is_restarted_as_unhealthy() -> TestResult {
    let layout = ServicesDir::new()?;
    copy_dir(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/services.d")),
        &layout.services(),
    )?;
    let demo = layout.path("demo");
    fs::create_dir_all(&demo)?;
    // The mount point, in the namespace shared with the host: an empty directory if the
    // demo never ran here.
    fs::create_dir_all(DEMO_DIR)?;
    let isolate = format!(
        "ip link set lo up && mount --bind '{}' {DEMO_DIR} && exec \"$@\"",
        demo.display()
    );
    let args = layout.args();
    let wrapper = ["unshare", "--net", "sh", "-c", isolate.as_str(), "sh"];
    // python3 from the system, not a per-user shim.
    let env = [("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")];
    let phoenix = Pid1::start_wrapped(layout.into_dir(), &env, &wrapper, args)?;

    wait_for_line(
        &phoenix,
        &["info: web: starting → running (ready: tcp 127.0.0.1:8642)"],
    )?;
    let unhealthy = "unhealthy (2 probe(s) failed: exit 1)";
    wait_for_line(&phoenix, &["info: sickly: healthy → ", unhealthy])?;
    wait_for_line(
        &phoenix,
        &["info: sickly: stopping → starting (", unhealthy],
    )?;
    let sickly = service_json(&phoenix, "sickly")?;
    let death = sickly["deaths"]
        .as_array()
        .and_then(|deaths| deaths.last())
        .ok_or(format!("sickly has no death: {sickly}"))?;
    assert_eq!(
        (&death["verdict"], &death["reason"]),
        (&"failure".into(), &unhealthy.into()),
        "{sickly}"
    );
    // And web, ready, answers its http health check.
    let mut web = serde_json::Value::Null;
    let healthy = wait_until(DEMO_DEADLINE, || {
        web = service_json(&phoenix, "web").unwrap_or_default();
        web["state"] == "running" && web["health"] == "healthy"
    });
    assert!(healthy, "web: {web}{}", phoenix.context());
    let table = phoenixctl(&phoenix, &["status"])?.ok()?;
    assert!(table.stdout.contains("sickly"), "{table:?}");
    Ok(())
}
