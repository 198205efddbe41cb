//! Phoenix survives itself (DESIGN.md §9), as PID 1: a panic injected into the loop (a
//! debug-build-only hook, `PHOENIX_FAULT_PANIC_ON`) re-executes Phoenix with its state,
//! and the services never notice — same pids, same restart counts, circuits and open
//! incidents; `phoenixctl reexec` runs a replaced binary the same way; a second panic
//! within a minute hands over to `phoenix-rescue`. Each test prints how long Phoenix took
//! from the signal that broke it to answering `phoenixctl status` again.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::time::Instant;

use nix::sys::signal::Signal;
use serde_json::Value;

use crate::control::ctl::{daemon, phoenixctl};
use crate::harness::{DEADLINE, Phoenix, Pid1, TestResult};
use crate::services::setup::ServicesDir;

const PANIC_ON: (&str, &str) = ("PHOENIX_FAULT_PANIC_ON", "SIGWINCH");

/// `status --json` of every service.
fn statuses(phoenix: &Phoenix) -> TestResult<BTreeMap<String, Value>> {
    let outcome = phoenixctl(phoenix, &["--json", "status"])?.ok()?;
    let all: Value = serde_json::from_str(&outcome.stdout)?;
    Ok(all
        .as_array()
        .ok_or("not an array")?
        .iter()
        .map(|service| {
            (
                service["name"].as_str().unwrap_or_default().to_string(),
                service.clone(),
            )
        })
        .collect())
}

/// What must not change across a re-exec, per service.
fn carried(statuses: &BTreeMap<String, Value>) -> BTreeMap<String, [Value; 5]> {
    statuses
        .iter()
        .map(|(name, s)| {
            let kept = [
                s["pid"].clone(),
                s["state"].clone(),
                s["restarts"].clone(),
                s["circuit"].clone(),
                s["incident"].clone(),
            ];
            (name.clone(), kept)
        })
        .collect()
}

/// Waits until Phoenix logged its resumption for the `count`-th time and answers again;
/// how long that took from `since`.
#[track_caller]
fn wait_resumed(phoenix: &Phoenix, count: usize, since: Instant) -> TestResult<u128> {
    phoenix.eventually("Phoenix resumed and answers", || {
        phoenix.stderr().matches("resumed after a re-exec").count() >= count
            && phoenixctl(phoenix, &["status"]).is_ok_and(|o| o.code == 0)
    })?;
    Ok(since.elapsed().as_millis())
}

/// Units: `web` (a daemon), `broken` (its circuit open for an hour) and `sick` (an
/// incident that stays open: crashed once, and `verify` is an hour).
fn layout() -> TestResult<ServicesDir> {
    let layout = ServicesDir::new()?;
    layout.unit(
        "web",
        &daemon("web", "[restart]\nmin-uptime = \"100ms\"\ndelay = \"50ms\""),
    )?;
    layout.unit(
        "broken",
        "command = \"exit 1\"\n[restart]\nmax-failures = 1\non-exhausted = \"cooldown\"\ncooldown = \"1h\"\n",
    )?;
    layout.unit(
        "sick",
        &daemon(
            "sick",
            "[recovery]\nverify = \"1h\"\n[restart]\nmin-uptime = \"100ms\"\ndelay = \"50ms\"",
        ),
    )?;
    Ok(layout)
}

#[test]
fn a_panic_reexecutes_phoenix_and_every_service_carries_on() -> TestResult {
    let phoenix = layout()?.start_with_env(&[PANIC_ON], &[])?;
    phoenix.wait_for_lines("web.pids", 1)?;
    phoenix.wait_for_lines("sick.pids", 1)?;
    phoenix.touch("sick.crash")?;
    phoenix.wait_for_lines("sick.pids", 2)?;
    phoenix.eventually("broken's circuit is open and sick has an incident", || {
        statuses(&phoenix)
            .is_ok_and(|all| all["broken"]["circuit"] == "open" && all["sick"]["incident"].is_u64())
    })?;
    let before = carried(&statuses(&phoenix)?);
    let pid1 = phoenix.pid()?;

    let since = Instant::now();
    phoenix.signal(Signal::SIGWINCH)?;
    let took = wait_resumed(&phoenix, 1, since)?;
    eprintln!("re-exec after a panic, 3 services: answering again after {took} ms");
    assert!(
        phoenix.stderr().contains("fault injected on SIGWINCH"),
        "{}",
        phoenix.context()
    );
    assert_eq!(phoenix.pid()?, pid1, "still the same PID 1");
    assert_eq!(carried(&statuses(&phoenix)?), before);

    // Still supervising: the next crash is restarted.
    phoenix.touch("web.crash")?;
    phoenix.wait_for_lines("web.pids", 2)?;
    Ok(())
}

#[test]
fn reexec_runs_the_replaced_binary_with_the_same_services() -> TestResult {
    let layout = layout()?;
    let program = layout.path("bin/phoenix");
    std::fs::create_dir_all(layout.path("bin"))?;
    std::fs::copy(crate::harness::binary(), &program)?;
    let args = layout.args();
    let phoenix = Pid1::start_binary(layout.into_dir(), &[], &program, args)?;
    phoenix.wait_for_lines("web.pids", 1)?;
    phoenix.eventually("phoenixctl answers", || {
        phoenixctl(&phoenix, &["status"]).is_ok_and(|o| o.code == 0)
    })?;
    let before = carried(&statuses(&phoenix)?);
    // A new binary replaces the old one, as a package upgrade does (write, rename).
    let staged = phoenix.path("bin/phoenix.new");
    std::fs::copy(crate::harness::binary(), &staged)?;
    std::fs::rename(&staged, &program)?;
    let new_inode = std::fs::metadata(&program)?.ino();
    let exe = format!("/proc/{}/exe", phoenix.pid()?);
    assert_ne!(
        std::fs::metadata(&exe)?.ino(),
        new_inode,
        "the old image runs"
    );

    let since = Instant::now();
    let reply = phoenixctl(&phoenix, &["reexec"])?.ok()?;
    assert!(reply.stdout.contains("re-executing"), "{reply:?}");
    let took = wait_resumed(&phoenix, 1, since)?;
    eprintln!("phoenixctl reexec, 3 services: answering again after {took} ms");
    assert_eq!(
        std::fs::metadata(&exe)?.ino(),
        new_inode,
        "the new binary runs"
    );
    assert_eq!(carried(&statuses(&phoenix)?), before);
    Ok(())
}

#[test]
fn a_reexec_with_many_services_keeps_every_pid() -> TestResult {
    for count in [10, 100] {
        let layout = ServicesDir::new()?;
        for index in 0..count {
            layout.unit(&format!("s{index}"), "command = \"exec sleep 1000\"")?;
        }
        let phoenix = layout.start(&[])?;
        phoenix.eventually(&format!("{count} services run"), || {
            statuses(&phoenix).is_ok_and(|all| {
                all.len() == count && all.values().all(|s| s["state"] == "running")
            })
        })?;
        let before = carried(&statuses(&phoenix)?);
        let since = Instant::now();
        phoenixctl(&phoenix, &["reexec"])?.ok()?;
        let took = wait_resumed(&phoenix, 1, since)?;
        eprintln!("phoenixctl reexec, {count} services: answering again after {took} ms");
        assert_eq!(carried(&statuses(&phoenix)?), before);
    }
    Ok(())
}

#[test]
fn a_second_panic_within_a_minute_hands_over_to_phoenix_rescue() -> TestResult {
    let layout = layout()?;
    // Leaves an orphan (a subshell whose parent exits) each time `orphan.go` appears.
    layout.unit(
        "orphaner",
        "command = \"while :; do if [ -e orphan.go ]; then rm orphan.go; sh -c '(sleep 0.3; touch orphan.done) &'; fi; sleep 0.05; done\"",
    )?;
    let mut phoenix = layout.start_with_env(&[PANIC_ON], &[])?;
    phoenix.wait_for_lines("web.pids", 1)?;
    let since = Instant::now();
    phoenix.signal(Signal::SIGWINCH)?;
    wait_resumed(&phoenix, 1, since)?;
    let web_pid = phoenix
        .lines("web.pids")
        .last()
        .cloned()
        .ok_or("no web pid")?;
    phoenix.signal(Signal::SIGWINCH)?;
    phoenix.wait_for_log("[phoenix-rescue]")?;
    assert!(
        phoenix.stderr().contains("again within a minute"),
        "{}",
        phoenix.context()
    );
    // The rescue path keeps web (adopted, not started again) and still restarts it.
    phoenix.eventually("phoenix-rescue adopted web", || {
        phoenix
            .stderr()
            .lines()
            .any(|line| line.starts_with("[phoenix-rescue]") && line.contains(&web_pid))
    })?;
    assert_eq!(phoenix.lines("web.pids").len(), 1, "{}", phoenix.context());
    phoenix.touch("web.crash")?;
    phoenix.wait_for_lines("web.pids", 2)?;
    // An orphan left under the rescue path is reaped.
    phoenix.touch("orphan.go")?;
    phoenix.wait_for_file("orphan.done")?;
    let pid1 = phoenix.pid()?;
    phoenix.eventually("the orphan was reaped, no zombie left", || {
        crate::procfs::zombie_children(pid1).is_empty()
    })?;
    phoenix.signal(Signal::SIGTERM)?;
    let code = phoenix.wait_exit(DEADLINE)?;
    assert_eq!(code, 0, "{}", phoenix.context());
    assert!(
        phoenix.exists("web.stops"),
        "web was stopped in order: {}",
        phoenix.context()
    );
    Ok(())
}

#[test]
fn a_refused_handoff_means_a_cold_start() -> TestResult {
    // A descriptor that holds no handoff: Phoenix says so and starts from scratch.
    let layout = ServicesDir::new()?;
    layout.unit("web", &daemon("web", ""))?;
    let phoenix = layout.start(&["--resume=0"])?;
    phoenix.wait_for_lines("web.pids", 1)?;
    phoenix.wait_for_log("refusing the handoff on descriptor 0")?;
    Ok(())
}

#[test]
fn an_s6_logger_pipe_survives_a_reexec() -> TestResult {
    let layout = ServicesDir::new()?;
    let out = layout.path("").display().to_string();
    let out = out.trim_end_matches('/').to_string();
    layout.file(
        "services.d/talker/run",
        &format!("#!/bin/sh\necho $$ >> {out}/talker.pids\nwhile :; do echo \"line $$\"; sleep 0.05; done\n"),
        0o755,
    )?;
    layout.file(
        "services.d/talker/log/run",
        &format!("#!/bin/sh\necho $$ >> {out}/logger.pids\nexec cat >> {out}/talker.log\n"),
        0o755,
    )?;
    let phoenix = layout.start(&[])?;
    phoenix.wait_for_lines("talker.pids", 1)?;
    phoenix.wait_for_lines("talker.log", 1)?;
    phoenix.eventually("phoenixctl answers", || {
        phoenixctl(&phoenix, &["status"]).is_ok_and(|o| o.code == 0)
    })?;
    let since = Instant::now();
    phoenixctl(&phoenix, &["reexec"])?.ok()?;
    wait_resumed(&phoenix, 1, since)?;
    // The talker restarts after the re-exec: its new output reaches the same logger.
    phoenixctl(&phoenix, &["restart", "talker"])?.ok()?;
    let pids = phoenix.wait_for_lines("talker.pids", 2)?;
    let new_pid = pids.last().cloned().ok_or("no pid")?;
    phoenix.eventually("the restarted talker's lines reach the logger", || {
        phoenix
            .read("talker.log")
            .contains(&format!("line {new_pid}"))
    })?;
    assert_eq!(
        phoenix.lines("logger.pids").len(),
        1,
        "{}",
        phoenix.context()
    );
    assert!(
        phoenix.stderr().contains("resumed after a re-exec"),
        "{}",
        phoenix.context()
    );
    Ok(())
}
