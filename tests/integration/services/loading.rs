//! Unit loading (DESIGN.md §3, §4): an invalid unit is reported with its file, line and
//! column while every valid unit runs; `--check` prints every problem as
//! `path:line:col: message` and exits 1, or exits 0 when all is valid. A services directory
//! that does not exist or cannot be read is a usage error (exit 1), `--check` included.

use std::fs;
use std::path::Path;

use super::setup::ServicesDir;
use crate::harness::{DEADLINE, Pid1, Plain, TestResult, scratch};

#[test]
fn invalid_unit_is_reported_while_valid_ones_run() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit("good", r#"command = "touch good.started; exec sleep 1000""#)?;
    layout.unit(
        "bad",
        "description = \"typo below\"\ncomand = [\"touch\", \"bad.started\"]\n",
    )?;
    let bad = layout.services().join("bad.toml").display().to_string();
    let phoenix = layout.start(&[])?;
    phoenix.wait_for_file("good.started")?;
    phoenix.wait_for_log(&format!("bad: not started, invalid unit: {bad}:2:1: "))?;
    assert!(!phoenix.exists("bad.started"), "{}", phoenix.context());
    Ok(())
}

/// Three units, each with one problem at a known place.
fn write_broken_units(dir: &Path) -> TestResult<Vec<String>> {
    let unit = |name: &str, text: &str| -> TestResult<String> {
        let path = dir.join(format!("{name}.toml"));
        fs::write(&path, text)?;
        Ok(path.display().to_string())
    };
    let typo = unit("typo", "command = \"true\"\n\nrestrat = 1\n")?;
    let duration = unit("duration", "command = \"true\"\n[restart]\ndelay = 10\n")?;
    let dependency = unit("dependency", "command = \"true\"\nafter = [\"ghost\"]\n")?;
    unit("fine", "command = \"true\"\n")?;
    Ok(vec![
        format!("{typo}:3:1: "),
        format!("{duration}:3:9: "),
        format!("{dependency}:2:10: "),
    ])
}

#[test]
fn check_prints_every_problem_with_its_location_and_exits_1() -> TestResult {
    let units = scratch()?;
    let expected = write_broken_units(units.path())?;
    let dir = units.path().display().to_string();
    let mut phoenix = Plain::start(["--check", "--services", dir.as_str()])?;
    assert_eq!(phoenix.wait_exit(DEADLINE)?, 1, "{}", phoenix.context());
    let stderr = phoenix.stderr();
    for location in &expected {
        assert!(
            stderr
                .lines()
                .any(|line| line.starts_with(location.as_str())),
            "no line starting with {location}{}",
            phoenix.context()
        );
    }
    Ok(())
}

#[test]
fn check_of_a_valid_directory_exits_0() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit("web", "command = [\"sleep\", \"1000\"]\nafter = [\"db\"]\n")?;
    layout.unit(
        "db",
        "command = \"exec sleep 1000\"\n[stop]\ntimeout = \"2s\"\n",
    )?;
    let mut args = vec!["--check".to_string()];
    args.extend(layout.args());
    let mut phoenix = Plain::start(&args)?;
    assert_eq!(phoenix.wait_exit(DEADLINE)?, 0, "{}", phoenix.context());
    assert!(
        phoenix.read(".stdout").contains("2 unit(s), all valid"),
        "{}",
        phoenix.context()
    );
    Ok(())
}

#[test]
fn the_demo_units_are_valid() -> TestResult {
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/services.d");
    let mut phoenix = Plain::start(["--check", "--services", demo])?;
    assert_eq!(phoenix.wait_exit(DEADLINE)?, 0, "{}", phoenix.context());
    assert!(
        phoenix.read(".stdout").contains("all valid"),
        "{}",
        phoenix.context()
    );
    Ok(())
}

#[test]
fn a_unit_naming_an_unknown_supervision_group_is_reported_at_the_name() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.settings("[groups.pay]\nstrategy = \"one_for_all\"\n")?;
    layout.unit("web", "command = \"x\"\nsupervision-group = \"payment\"\n")?;
    layout.unit("db", "command = \"x\"\nsupervision-group = \"pay\"\n")?;
    let mut args = vec!["--check".to_string()];
    args.extend(layout.args());
    let mut phoenix = Plain::start(&args)?;
    assert_eq!(phoenix.wait_exit(DEADLINE)?, 1, "{}", phoenix.context());
    let expected = "web.toml:2:21: unknown supervision group 'payment': phoenix.toml defines pay";
    assert!(phoenix.stderr().contains(expected), "{}", phoenix.context());
    assert!(
        !phoenix.stderr().contains("db.toml"),
        "{}",
        phoenix.context()
    );
    Ok(())
}

/// `phoenix ARGS` as PID 1 of a container-like namespace (`/proc` mounted: not a machine's
/// init, for which an exit would panic the kernel).
#[track_caller]
fn assert_services_dir_is_a_usage_error(services: &str, message: &str) -> TestResult {
    let line = format!("phoenix: services directory {services}: {message}");
    let mut phoenix = Pid1::start(["--services", services, "--", "touch", "ran"])?;
    assert_eq!(phoenix.wait_exit(DEADLINE)?, 1, "{}", phoenix.context());
    assert_eq!(
        phoenix.stderr(),
        format!("{line}\n"),
        "{}",
        phoenix.context()
    );
    assert!(
        !phoenix.exists("ran"),
        "the command ran{}",
        phoenix.context()
    );

    let mut check = Plain::start(["--check", "--services", services])?;
    assert_eq!(check.wait_exit(DEADLINE)?, 1, "{}", check.context());
    assert!(
        check
            .stderr()
            .lines()
            .any(|l| l == &line["phoenix: ".len()..]),
        "{}",
        check.context()
    );
    Ok(())
}

#[test]
fn issue_11_a_services_directory_that_does_not_exist_is_a_usage_error() -> TestResult {
    let dir = scratch()?;
    let missing = dir.path().join("nonexistent");
    assert_services_dir_is_a_usage_error(
        missing.to_str().ok_or("path")?,
        "No such file or directory",
    )
}

#[test]
fn issue_11_a_services_directory_that_is_a_file_is_a_usage_error() -> TestResult {
    let dir = scratch()?;
    let file = dir.path().join("units.toml");
    fs::write(&file, "command = \"true\"\n")?;
    assert_services_dir_is_a_usage_error(file.to_str().ok_or("path")?, "Not a directory")
}

#[test]
fn check_reports_a_disk_path_that_does_not_exist_at_its_line() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.settings("grace = \"1s\"\n[[disk]]\npath = \"/nonexistent/phoenix-disk\"\nwarning = \"50%\"\ncritical = \"80%\"\n")?;
    layout.unit("web", "command = \"x\"\n")?;
    let mut args = vec!["--check".to_string()];
    args.extend(layout.args());
    let mut phoenix = Plain::start(&args)?;
    assert_eq!(phoenix.wait_exit(DEADLINE)?, 1, "{}", phoenix.context());
    // The harness writes a few lines of its own above the text given: the line is the
    // path's, counted in the file as written.
    let expected = ":8: invalid path '/nonexistent/phoenix-disk': no such file or directory";
    let located = phoenix.stderr().lines().any(|line| {
        line.split_once("phoenix.toml:")
            .and_then(|(_, rest)| rest.split_once(expected))
            .is_some_and(|(number, _)| number.parse::<u32>().is_ok_and(|n| n >= 3))
    });
    assert!(located, "{}", phoenix.context());
    Ok(())
}
