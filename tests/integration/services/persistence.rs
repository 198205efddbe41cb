//! Persisted records (DESIGN.md §5, issue 11): a record in `state.json` belongs to one unit
//! definition in one services directory. A same-named unit in another directory, or a
//! changed unit, starts fresh, and the log says why; an unchanged unit gets its counts and
//! its open circuit back, each said in a line; a service that was failed is started again
//! by a cold start.

use std::fs;
use std::path::Path;

use crate::control::ctl::{phoenixctl, service_json, start, wait_for_state};
use crate::harness::{DEADLINE, Phoenix, TestResult, scratch};
use crate::services::setup::ServicesDir;

#[track_caller]
fn shut_down(phoenix: &mut Phoenix) -> TestResult {
    phoenixctl(phoenix, &["shutdown"])?.ok()?;
    assert_eq!(phoenix.wait_exit(DEADLINE)?, 0, "{}", phoenix.context());
    Ok(())
}

/// Waits until `state.json` in `state` shows `name` with `key` equal to `value`.
#[track_caller]
fn wait_for_record(
    phoenix: &Phoenix,
    state: &Path,
    name: &str,
    key: &str,
    value: serde_json::Value,
) -> TestResult {
    let path = state.join("state.json");
    phoenix.eventually(&format!("state.json has {name}.{key} = {value}"), || {
        let Ok(text) = fs::read_to_string(&path) else {
            return false;
        };
        let Ok(file) = serde_json::from_str::<serde_json::Value>(&text) else {
            return false;
        };
        file["services"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|service| service["name"] == name && service[key] == value)
    })
}

/// Fails at once and gives up on its first failure.
const FAILS_FOR_GOOD: &str = "command = \"echo x >> crash.starts; exit 1\"\n\
                              [restart]\nmax-failures = 1\non-exhausted = \"stop\"\n";

#[test]
fn issue_11_a_failed_record_of_another_directory_does_not_stop_a_same_named_unit() -> TestResult {
    let (state, dir_a, dir_b) = (scratch()?, scratch()?, scratch()?);
    let first = ServicesDir::with_dirs(state.path(), dir_a.path())?;
    first.unit("crash", FAILS_FOR_GOOD)?;
    let mut phoenix = start(first)?;
    wait_for_state(&phoenix, "crash", "failed")?;
    wait_for_record(&phoenix, state.path(), "crash", "failed", true.into())?;
    shut_down(&mut phoenix)?;

    // Another directory, written for another purpose, with a unit that happens to be
    // called `crash` too.
    let second = ServicesDir::with_dirs(state.path(), dir_b.path())?;
    second.unit("crash", "command = \"touch crash.ran; exec sleep 1000\"")?;
    let phoenix = start(second)?;
    phoenix.wait_for_file("crash.ran")?;
    wait_for_state(&phoenix, "crash", "running")?;
    let canonical_a = fs::canonicalize(dir_a.path())?;
    phoenix.wait_for_log(&format!(
        "crash: saved state is from another services directory ({}), starting fresh",
        canonical_a.display()
    ))?;
    assert!(
        !phoenix
            .stderr()
            .contains("was failed when Phoenix last stopped"),
        "{}",
        phoenix.context()
    );
    Ok(())
}

/// Runs until `web.crash` appears, then exits 3: a failure, since `min-uptime` is long.
fn crashable(description: &str) -> String {
    format!(
        "description = \"{description}\"\n\
         command = \"echo $$ >> web.pids; while [ ! -e web.crash ]; do sleep 0.05; done; \
         rm -f web.crash; exit 3\"\n\
         [restart]\nmin-uptime = \"1h\"\ndelay = \"100ms\"\n"
    )
}

/// Fails at once; its circuit opens after two failures and stays open an hour.
const BROKEN: &str = "command = \"echo x >> broken.starts; exit 1\"\n[restart]\n\
                      delay = \"100ms\"\nmax-failures = 2\ncooldown = \"1h\"\n";

#[test]
fn issue_11_a_changed_unit_starts_fresh_and_an_unchanged_one_gets_its_circuit_back() -> TestResult {
    let (state, units) = (scratch()?, scratch()?);
    let first = ServicesDir::with_dirs(state.path(), units.path())?;
    first.unit("web", &crashable("first"))?;
    first.unit("broken", BROKEN)?;
    let mut phoenix = start(first)?;
    phoenix.wait_for_lines("web.pids", 1)?;
    for crashes in 1..=2 {
        phoenix.touch("web.crash")?;
        phoenix.wait_for_lines("web.pids", crashes + 1)?;
    }
    wait_for_state(&phoenix, "broken", "cooldown")?;
    wait_for_record(&phoenix, state.path(), "web", "restarts", 2.into())?;
    shut_down(&mut phoenix)?;

    let second = ServicesDir::with_dirs(state.path(), units.path())?;
    second.unit("web", &crashable("second"))?;
    second.unit("broken", BROKEN)?;
    let phoenix = start(second)?;
    phoenix.wait_for_lines("web.pids", 1)?;
    wait_for_state(&phoenix, "web", "running")?;
    let web = service_json(&phoenix, "web")?;
    assert_eq!(web["restarts"], 0, "a changed unit starts fresh: {web}");
    phoenix.wait_for_log(
        "web: saved state is for another definition (unit changed), starting fresh",
    )?;
    let broken = service_json(&phoenix, "broken")?;
    assert_eq!(
        (&broken["state"], &broken["circuit"]),
        (&"cooldown".into(), &"open".into()),
        "{broken}"
    );
    phoenix.wait_for_log("broken: restored 1 restart, 2 failures in the window")?;
    phoenix.wait_for_log("broken: circuit still open from the last run, trial start in")?;
    assert!(
        !phoenix.exists("broken.starts"),
        "broken started despite its open circuit{}",
        phoenix.context()
    );
    Ok(())
}

/// When `name`'s circuit, open in `state.json`, closes (Unix milliseconds).
fn open_circuit_until_ms(state: &Path, name: &str) -> Option<u64> {
    let text = fs::read_to_string(state.join("state.json")).ok()?;
    let file: serde_json::Value = serde_json::from_str(&text).ok()?;
    let service = file["services"]
        .as_array()?
        .iter()
        .find(|service| service["name"] == name)?;
    (service["circuit"]["state"] == "open")
        .then(|| service["circuit"]["until_unix_ms"].as_u64())
        .flatten()
}

/// A circuit whose cooldown ran out while Phoenix was down gets its trial start at once,
/// and the line says "now", not "in 0s".
#[test]
fn issue_8_a_cooldown_that_ended_while_phoenix_was_down_is_a_trial_start_now() -> TestResult {
    let (state, units) = (scratch()?, scratch()?);
    let unit = "command = \"echo x >> broken.starts; exit 1\"\n[restart]\n\
                delay = \"100ms\"\nmax-failures = 2\ncooldown = \"2s\"\n";
    let first = ServicesDir::with_dirs(state.path(), units.path())?;
    first.unit("broken", unit)?;
    let mut phoenix = start(first)?;
    wait_for_state(&phoenix, "broken", "cooldown")?;
    phoenix.eventually("state.json has broken's circuit open", || {
        open_circuit_until_ms(state.path(), "broken").is_some()
    })?;
    shut_down(&mut phoenix)?;
    let until = open_circuit_until_ms(state.path(), "broken").ok_or("the circuit was not kept")?;
    let now_ms = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_millis() as u64)
    };
    phoenix.eventually("the saved cooldown has run out", || now_ms() > until)?;

    let second = ServicesDir::with_dirs(state.path(), units.path())?;
    second.unit("broken", unit)?;
    let phoenix = start(second)?;
    phoenix.wait_for_log("broken: circuit still open from the last run, trial start now")?;
    phoenix.wait_for_file("broken.starts")?;
    phoenix.wait_for_log("broken: cooldown → starting (cooldown over, trial start)")?;
    Ok(())
}

#[test]
fn issue_11_a_service_failed_when_phoenix_stopped_starts_again_after_a_cold_start() -> TestResult {
    let (state, units) = (scratch()?, scratch()?);
    // Fails until a `fixed` file is in its working directory (the run's scratch dir).
    let unit = "command = \"[ -e fixed ] || exit 1; touch ran; exec sleep 1000\"\n\
                [restart]\nmax-failures = 1\non-exhausted = \"stop\"\n";
    let first = ServicesDir::with_dirs(state.path(), units.path())?;
    first.unit("once", unit)?;
    let mut phoenix = start(first)?;
    wait_for_state(&phoenix, "once", "failed")?;
    wait_for_record(&phoenix, state.path(), "once", "failed", true.into())?;
    shut_down(&mut phoenix)?;

    let second = ServicesDir::with_dirs(state.path(), units.path())?;
    second.unit("once", unit)?;
    second.file("fixed", "", 0o644)?;
    let phoenix = start(second)?;
    phoenix.wait_for_file("ran")?;
    wait_for_state(&phoenix, "once", "running")?;
    phoenix.wait_for_log("once: restored 0 restarts, 1 failure in the window")?;
    phoenix.wait_for_log("once: was failed when Phoenix last stopped; starting it again")?;
    Ok(())
}
