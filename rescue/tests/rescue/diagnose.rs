//! `phoenix-rescue diagnose`, run as an ordinary process: the report on stdout, exit 1
//! when it found problems and 0 when it found none.

use crate::harness::{Scratch, TestResult, diagnose};
use crate::units::{UNREADABLE, mixed_services};

#[test]
fn diagnose_reports_every_unreadable_unit_and_exits_1() -> TestResult {
    let dir = Scratch::new()?;
    mixed_services(&dir)?;
    let (code, report) = diagnose(&dir)?;
    assert_eq!(code, 1, "{report}");
    for line in UNREADABLE {
        assert!(
            report.contains(&format!("  {line}\n")),
            "missing {line:?} in\n{report}"
        );
    }
    assert!(report.contains("\n4 problem(s) found\n"), "{report}");
    for fact in [
        "pid: ",
        "mounts: ",
        "runtime dir ",
        "state dir ",
        "processes: ",
    ] {
        assert!(report.contains(fact), "missing {fact:?} in\n{report}");
    }
    Ok(())
}

#[test]
fn diagnose_of_a_clean_directory_exits_0() -> TestResult {
    let dir = Scratch::new()?;
    dir.unit(
        "web.toml",
        "command = [\"sleep\", \"1\"]\n[restart]\ndelay = \"1s\"\n",
    )?;
    dir.run_script("worker", "#!/bin/sh\nexec sleep 1\n", 0o755)?;
    std::fs::create_dir(dir.path().join("run"))?;
    std::fs::create_dir(dir.path().join("state"))?;
    let (code, report) = diagnose(&dir)?;
    assert_eq!(code, 0, "{report}");
    assert!(
        report.contains("2 readable unit(s), 0 unreadable"),
        "{report}"
    );
    assert!(
        report.contains("  web: web.toml, [\"sleep\", \"1\"]; skipped: [restart]\n"),
        "{report}"
    );
    assert!(
        report.contains("state dir ") && report.contains(": writable; "),
        "{report}"
    );
    assert!(report.ends_with("no problems found\n"), "{report}");
    Ok(())
}

#[test]
fn diagnose_leaves_missing_directories_alone() -> TestResult {
    let dir = Scratch::new()?;
    let (code, report) = diagnose(&dir)?;
    assert_eq!(code, 0, "{report}");
    assert!(report.contains("missing (rescue recreates it)"), "{report}");
    assert!(!dir.exists("run") && !dir.exists("state"));
    Ok(())
}
