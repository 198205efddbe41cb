//! `[limits]` as a PID-1 Phoenix applies them (DESIGN.md §4.7), read back from the
//! service's own `/proc/PID/limits`, `/proc/PID/status` and `/proc/PID/oom_score_adj`:
//! resource limits, no-new-privileges and the OOM score; Phoenix itself at -1000 while a
//! service without `[limits]` is back at the score Phoenix started with; a limit the kernel
//! refuses fails the start with the reason and the other services run on.

use std::path::Path;

use crate::control::ctl::wait_for_state;
use crate::harness::TestResult;
use crate::services::setup::ServicesDir;

/// A service that copies its own /proc files (`$$` is the shell the service execs into,
/// the service's process itself) and then sleeps.
fn reporting(extra: &str) -> String {
    format!(
        r#"command = '''exec sh -c 'cat /proc/$$/limits > limits.txt; cat /proc/$$/status > status.txt; cat /proc/$$/oom_score_adj > oom.txt.tmp; mv oom.txt.tmp oom.txt; exec sleep 1000' '''
{extra}"#
    )
}

/// The soft and hard columns of the `/proc/PID/limits` row that starts with `title`.
fn limit_row(limits: &str, title: &str) -> Option<(String, String)> {
    let row = limits.lines().find(|line| line.starts_with(title))?;
    let mut columns = row.get(title.len()..)?.split_whitespace();
    Some((columns.next()?.to_string(), columns.next()?.to_string()))
}

fn oom_score(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

#[test]
fn limits_privileges_and_the_oom_score_reach_the_service() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit(
        "limited",
        &reporting(
            "[limits]\nnofile = \"1024:2048\"\ncore = \"unlimited\"\nstack = \"4194304:unlimited\"\nno-new-privileges = true\noom-score-adjust = 700\n",
        ),
    )?;
    let phoenix = layout.start(&[])?;
    phoenix.wait_for_file("oom.txt")?;
    let limits = phoenix.read("limits.txt");
    let context = phoenix.context();
    assert_eq!(
        limit_row(&limits, "Max open files"),
        Some(("1024".into(), "2048".into())),
        "{limits}{context}"
    );
    assert_eq!(
        limit_row(&limits, "Max core file size"),
        Some(("unlimited".into(), "unlimited".into())),
        "{limits}"
    );
    assert_eq!(
        limit_row(&limits, "Max stack size"),
        Some(("4194304".into(), "unlimited".into())),
        "{limits}"
    );
    let status = phoenix.read("status.txt");
    assert!(
        status.lines().any(|line| line == "NoNewPrivs:\t1"),
        "{status}"
    );
    assert_eq!(oom_score(&phoenix.path("oom.txt")), Some(700));
    Ok(())
}

/// Whether the process's effective capabilities include `CAP_SYS_RESOURCE` (24), which
/// lowering an OOM score needs (container runtimes often drop it).
fn has_sys_resource(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            let hex = status
                .lines()
                .find_map(|l| l.strip_prefix("CapEff:\t"))?
                .to_string();
            u64::from_str_radix(hex.trim(), 16).ok()
        })
        .is_some_and(|caps| caps & (1 << 24) != 0)
}

#[test]
fn phoenix_is_never_the_oom_killers_pick_and_its_services_are_not_shielded() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit("plain", &reporting(""))?;
    let phoenix = layout.start(&[])?;
    phoenix.wait_for_file("oom.txt")?;
    let pid = phoenix.pid()?;
    let own = oom_score(
        &Path::new("/proc")
            .join(pid.to_string())
            .join("oom_score_adj"),
    );
    let before = oom_score(Path::new("/proc/self/oom_score_adj"));
    let context = phoenix.context();
    if has_sys_resource(pid) {
        assert_eq!(own, Some(-1000), "Phoenix's own score{context}");
    } else {
        // Without the privilege the score cannot go down: Phoenix leaves it alone.
        assert_eq!(own, before, "Phoenix's own score, unprivileged{context}");
    }
    assert_eq!(
        oom_score(&phoenix.path("oom.txt")),
        before,
        "a service gets the score Phoenix started with (the test's own){context}"
    );
    let status = phoenix.read("status.txt");
    assert!(
        status.lines().any(|line| line == "NoNewPrivs:\t0"),
        "no-new-privileges is off by default{status}"
    );
    Ok(())
}

#[test]
fn a_limit_the_kernel_refuses_fails_the_start_with_the_reason() -> TestResult {
    let layout = ServicesDir::new()?;
    // Above the kernel's fs.nr_open (1048576 by default): even root is refused.
    layout.unit(
        "greedy",
        "command = \"exec sleep 1000\"\n[limits]\nnofile = 1073741824\n[restart]\ndelay = \"50ms\"\nmax-failures = 1\non-exhausted = \"stop\"\n",
    )?;
    layout.unit(
        "other",
        "command = \"touch other.started; exec sleep 1000\"\n",
    )?;
    let phoenix = layout.start(&[])?;
    wait_for_state(&phoenix, "greedy", "failed")?;
    phoenix.wait_for_file("other.started")?;
    phoenix.wait_for_log("setrlimit ([limits] nofile = 1073741824:1073741824): ")?;
    Ok(())
}
