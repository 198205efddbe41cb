//! The claims of `docs/security.md` that no other module tests: what a service can do to
//! PID 1 with signals, and what someone who can write in the state directory can do to
//! Phoenix's files. (Socket access, forged notify datagrams and HTTP's read-only surface
//! are tested beside their features: `control::access`, `watch::readiness`, `http`.)

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::harness::{TestResult, scratch};
use crate::procfs;
use crate::services::setup::ServicesDir;

/// A service that fails once (its first start), then runs: the state and event files are
/// written at once.
const FAILS_ONCE: &str = "command = \"[ -e failed ] && exec sleep 1000; touch failed; exit 1\"\n[restart]\ndelay = \"50ms\"\n";

#[test]
fn a_service_cannot_kill_or_stop_pid_1() -> TestResult {
    let layout = ServicesDir::new()?;
    // SIGKILL and SIGSTOP to a namespace's init from inside it are dropped by the kernel
    // (Phoenix handles neither); SIGQUIT, SIGUSR2 and SIGALRM have no meaning to Phoenix
    // in services mode and must not end it either.
    layout.unit(
        "hostile",
        "command = \"kill -KILL 1; kill -STOP 1; kill -QUIT 1; kill -USR2 1; kill -ALRM 1; touch sent; exec sleep 1000\"\n",
    )?;
    layout.unit(
        "crasher",
        "command = \"while [ ! -e sent ]; do sleep 0.02; done; echo x >> starts; exit 1\"\n[restart]\ndelay = \"50ms\"\nmultiplier = 1.0\nmax-failures = 100\nwindow = \"1h\"\n",
    )?;
    let phoenix = layout.start(&[])?;
    phoenix.wait_for_file("sent")?;
    // Still supervising: the crasher, which crashes only after the signals, is restarted.
    phoenix.wait_for_lines("starts", 3)?;
    let pid = phoenix.pid()?;
    let context = phoenix.context();
    let state = procfs::state(pid);
    // Running, sleeping, or in a disk wait (a state file's fsync): anything but stopped
    // or gone.
    assert!(
        state.is_some_and(|s| !matches!(s, 'T' | 't' | 'Z' | 'X')),
        "Phoenix is {state:?}{context}"
    );
    Ok(())
}

fn is_link(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

#[test]
fn links_planted_in_the_state_directory_are_moved_aside_never_followed() -> TestResult {
    let state = scratch()?;
    let outside = scratch()?;
    let victims = ["state.json", "events.jsonl", "alerts.json"];
    for name in victims {
        let victim = outside.path().join(name);
        fs::write(&victim, "precious\n")?;
        std::os::unix::fs::symlink(&victim, state.path().join(name))?;
    }
    let units = scratch()?;
    let layout = ServicesDir::with_dirs(state.path(), units.path())?;
    layout.settings("[alerts]\nexec = [\"/bin/true\"]\n")?;
    layout.unit("flaky", FAILS_ONCE)?;
    let phoenix = layout.start(&[])?;
    phoenix.eventually("state.json and events.jsonl written afresh", || {
        ["state.json", "events.jsonl"]
            .iter()
            .all(|name| fs::symlink_metadata(state.path().join(name)).is_ok_and(|m| m.is_file()))
    })?;
    let context = phoenix.context();
    for name in victims {
        let victim = outside.path().join(name);
        assert_eq!(
            fs::read_to_string(&victim)?,
            "precious\n",
            "{name} was written through{context}"
        );
        assert!(
            !is_link(&state.path().join(name)),
            "{name} is still the link{context}"
        );
        let moved = fs::read_dir(state.path())?
            .filter_map(Result::ok)
            .any(|entry| {
                entry
                    .file_name()
                    .to_string_lossy()
                    .starts_with(&format!("{name}.corrupt-"))
                    && is_link(&entry.path())
            });
        assert!(moved, "{name}: the link was not moved aside{context}");
    }
    assert!(
        phoenix
            .stderr()
            .contains("a symbolic link, not a file Phoenix wrote"),
        "{context}"
    );
    Ok(())
}

#[test]
fn a_state_directory_others_can_write_in_is_not_used() -> TestResult {
    let state = scratch()?;
    fs::set_permissions(state.path(), fs::Permissions::from_mode(0o777))?;
    let units = scratch()?;
    let layout = ServicesDir::with_dirs(state.path(), units.path())?;
    layout.unit("flaky", FAILS_ONCE)?;
    let runtime_state = layout.path("run/state");
    let phoenix = layout.start(&[])?;
    phoenix.wait_for_log("lets others write in it")?;
    phoenix.eventually("the events go to the runtime directory instead", || {
        runtime_state.join("events.jsonl").exists()
    })?;
    let context = phoenix.context();
    assert!(
        !state.path().join("events.jsonl").exists() && !state.path().join("lock").exists(),
        "the open directory was used{context}"
    );
    Ok(())
}

/// Every test `docs/security.md` names as the check of a claim exists.
#[test]
fn every_test_the_security_page_names_exists() -> TestResult {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let page = fs::read_to_string(root.join("docs/security.md"))?;
    let mut sources = String::new();
    let mut pending = vec![root.join("src"), root.join("tests")];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir)?.filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                sources.push_str(&fs::read_to_string(&path)?);
            }
        }
    }
    let named: Vec<&str> = page
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|code| code.contains("::") && !code.ends_with('*'))
        .filter_map(|path| path.rsplit("::").next())
        .filter(|name| name.contains('_'))
        .collect();
    assert!(named.len() >= 10, "too few tests named: {named:?}");
    for name in named {
        assert!(
            sources.contains(&format!("fn {name}(")),
            "docs/security.md names a test `{name}` that does not exist"
        );
    }
    Ok(())
}
