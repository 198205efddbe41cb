//! The state directory's files (DESIGN.md §9, issue 11): one Phoenix owns the directory
//! (`flock`), a second one warns and keeps its state in memory without touching the
//! first one's files; a corrupt `state.json`, `events.jsonl` or `incidents.jsonl` (or a
//! state file of a future version) is moved aside with its bytes intact, reported in an
//! error line and an event, and Phoenix carries on with fresh files.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_json::Value;

use crate::control::ctl::{phoenixctl, start, wait_for_state};
use crate::harness::{DEADLINE, Phoenix, TestResult, scratch};
use crate::recovery::wait_for_incident;
use crate::services::setup::ServicesDir;

/// A daemon that logs its pid to `NAME.pids` and exits 3 when `NAME.crash` appears.
fn crashable(name: &str) -> String {
    format!(
        "command = \"echo $$ >> {name}.pids; while [ ! -e {name}.crash ]; do sleep 0.05; done; \
         rm -f {name}.crash; exit 3\"\n[restart]\nmin-uptime = \"1h\"\ndelay = \"100ms\"\n"
    )
}

type Snapshot = BTreeMap<PathBuf, (Vec<u8>, SystemTime)>;

/// Every file below `dir` with its contents and modification time.
fn snapshot(dir: &Path) -> TestResult<Snapshot> {
    let mut files = BTreeMap::new();
    add_files(dir, &mut files)?;
    Ok(files)
}

fn add_files(dir: &Path, files: &mut Snapshot) -> TestResult {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            add_files(&entry.path(), files)?;
        } else {
            let contents = fs::read(entry.path())?;
            files.insert(entry.path(), (contents, entry.metadata()?.modified()?));
        }
    }
    Ok(())
}

#[test]
fn issue_11_a_second_phoenix_on_the_same_state_dir_does_not_touch_the_first_ones_files()
-> TestResult {
    let state = scratch()?;
    let first = ServicesDir::with_state_dir(state.path())?;
    // A short `verify`, so that the crash's incident is closed (and the first Phoenix is
    // quiet) before the second one runs.
    let web = crashable("web") + "[recovery]\nverify = \"200ms\"\n";
    first.unit("web", &web)?;
    let first = start(first)?;
    first.wait_for_lines("web.pids", 1)?;
    first.touch("web.crash")?;
    first.wait_for_lines("web.pids", 2)?;
    wait_for_state(&first, "web", "running")?;
    wait_for_incident(&first, "web", "recovered")?;
    first.eventually("state.json and events.jsonl are written", || {
        state.path().join("state.json").exists() && state.path().join("events.jsonl").exists()
    })?;
    let before = snapshot(state.path())?;
    assert_eq!(
        before
            .get(&state.path().join("lock"))
            .map(|(text, _)| text.as_slice()),
        Some(&b"1\n"[..]),
        "the lock file names its holder (PID 1 of its namespace): {:?}",
        before.keys()
    );

    // The second one changes state all the time: a crash loop.
    let second = ServicesDir::with_state_dir(state.path())?;
    second.unit(
        "loop",
        "command = \"exit 1\"\n[restart]\ndelay = \"50ms\"\nmultiplier = 1.0\nmax-failures = 1000\n",
    )?;
    let second = start(second)?;
    second.eventually("loop failed five times", || {
        let stderr = second.stderr();
        let failures = stderr
            .lines()
            .filter(|line| line.contains("loop: ") && line.contains("→ backoff"));
        failures.count() >= 5
    })?;
    second.wait_for_log(&format!(
        "{} is in use by another Phoenix (pid 1); running without persistence",
        state.path().display()
    ))?;
    let status = phoenixctl(&second, &["status", "loop"])?.ok()?;
    assert!(status.stdout.contains("loop"), "{status:?}");
    assert_eq!(snapshot(state.path())?, before, "{}", second.context());
    drop(second);

    // The first one still owns its directory and goes on saving there.
    first.touch("web.crash")?;
    first.wait_for_lines("web.pids", 3)?;
    let state_file = state.path().join("state.json");
    first.eventually("the first one saved again", || {
        snapshot(state.path()).is_ok_and(|after| after.get(&state_file) != before.get(&state_file))
    })?;
    Ok(())
}

/// 4 KiB of bytes that are not a JSON file of any kind (a fixed xorshift stream).
fn random_bytes(seed: u64) -> Vec<u8> {
    let mut state = seed;
    (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

/// The files of `dir` moved aside from `name`.
fn corrupt_copies(dir: &Path, name: &str) -> TestResult<Vec<PathBuf>> {
    let prefix = format!("{name}.corrupt-");
    let mut found = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            found.push(entry.path());
        }
    }
    Ok(found)
}

#[test]
fn issue_11_corrupt_state_and_history_files_are_moved_aside_and_phoenix_carries_on() -> TestResult {
    let state = scratch()?;
    let names = ["state.json", "events.jsonl", "incidents.jsonl"];
    for (seed, name) in (1..).zip(names) {
        fs::write(state.path().join(name), random_bytes(seed))?;
    }
    let layout = ServicesDir::with_state_dir(state.path())?;
    layout.unit("web", &crashable("web"))?;
    let phoenix = start(layout)?;
    phoenix.wait_for_lines("web.pids", 1)?;
    wait_for_state(&phoenix, "web", "running")?;
    let events = phoenixctl(&phoenix, &["events"])?.ok()?.stdout;
    let events: Vec<Value> = events
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    for (seed, name) in (1..).zip(names) {
        let path = state.path().join(name);
        let copies = corrupt_copies(state.path(), name)?;
        assert_eq!(
            copies.len(),
            1,
            "{name} moved aside once{}",
            phoenix.context()
        );
        assert_eq!(
            fs::read(&copies[0])?,
            random_bytes(seed),
            "{name}: bytes kept"
        );
        let line = format!("{} is corrupt (", path.display());
        let logged = phoenix
            .stderr()
            .lines()
            .any(|l| l.contains("error: ") && l.contains(&line));
        assert!(logged, "an error line for {name}{}", phoenix.context());
        let moved = format!("moved aside as {}", copies[0].display());
        assert!(
            events.iter().any(|event| event["service"] == "phoenix"
                && event["kind"] == "state"
                && event["reason"].as_str().is_some_and(|r| r.contains(&moved))),
            "an event for {name}: {events:#?}"
        );
    }
    // Fresh files: the event log and the state file parse again.
    phoenix.touch("web.crash")?;
    phoenix.wait_for_lines("web.pids", 2)?;
    phoenix.eventually("a fresh state.json is saved", || {
        fs::read(state.path().join("state.json"))
            .is_ok_and(|text| serde_json::from_slice::<Value>(&text).is_ok())
    })?;
    for line in fs::read_to_string(state.path().join("events.jsonl"))?.lines() {
        serde_json::from_str::<Value>(line)?;
    }
    phoenixctl(&phoenix, &["incidents"])?.ok()?;
    Ok(())
}

#[test]
fn issue_11_a_state_file_of_a_future_version_is_moved_aside_and_not_applied() -> TestResult {
    let (state, units) = (scratch()?, scratch()?);
    let broken = "command = \"echo x >> broken.starts; exit 1\"\n[restart]\n\
                  delay = \"100ms\"\nmax-failures = 2\ncooldown = \"1h\"\n";
    let first = ServicesDir::with_dirs(state.path(), units.path())?;
    first.unit("broken", broken)?;
    let mut phoenix = start(first)?;
    wait_for_state(&phoenix, "broken", "cooldown")?;
    let path = state.path().join("state.json");
    phoenix.eventually("state.json records the open circuit", || {
        fs::read_to_string(&path).is_ok_and(|text| text.contains("\"open\""))
    })?;
    phoenixctl(&phoenix, &["shutdown"])?.ok()?;
    assert_eq!(phoenix.wait_exit(DEADLINE)?, 0, "{}", phoenix.context());

    // The same records, as if a newer Phoenix had written them.
    let text = fs::read_to_string(&path)?;
    let future = text.replace("\"version\": 2", "\"version\": 3");
    assert_ne!(future, text, "{text}");
    fs::write(&path, &future)?;
    let second = ServicesDir::with_dirs(state.path(), units.path())?;
    second.unit("broken", broken)?;
    let phoenix: Phoenix = start(second)?;
    phoenix.wait_for_file("broken.starts")?;
    phoenix.wait_for_log("written by a newer Phoenix: version 3, this one reads 2")?;
    let copies = corrupt_copies(state.path(), "state.json")?;
    assert_eq!(copies.len(), 1, "{}", phoenix.context());
    assert_eq!(fs::read_to_string(&copies[0])?, future);
    assert!(
        !phoenix.stderr().contains("circuit still open"),
        "{}",
        phoenix.context()
    );
    Ok(())
}
