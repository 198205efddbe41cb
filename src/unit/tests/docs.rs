//! Tests that keep the unit module honest: `docs/units.md` documents exactly the keys the
//! parsers accept, and no file here reaches for the operating system. Test-only.

use std::collections::BTreeSet;
use std::path::Path;

use super::parse::parse_unit;
use super::s6dir::S6_FILES;
use super::settings::parse_settings;

const DOCS: &str = include_str!("../../../docs/units.md");

/// The title of a `##` or `###` heading line.
fn heading_title(line: &str) -> Option<&str> {
    line.strip_prefix("## ")
        .or_else(|| line.strip_prefix("### "))
}

/// The first-column keys of the tables in the docs section under `heading`, up to the
/// next `##` or `###` heading.
fn documented_keys(heading: &str) -> BTreeSet<String> {
    let mut lines = DOCS
        .lines()
        .skip_while(|line| heading_title(line) != Some(heading));
    if lines.next().is_none() {
        panic!("docs/units.md has no section '## {heading}' or '### {heading}'");
    }
    lines
        .take_while(|line| heading_title(line).is_none())
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split('`').next())
        .map(str::to_string)
        .collect()
}

/// The keys serde accepts, read from its "unknown field, expected one of" message (or
/// "expected `a` or `b`" for two), so the list comes from the parser itself.
fn accepted_keys(message: &str) -> BTreeSet<String> {
    let (_, list) = message
        .split_once("expected ")
        .unwrap_or_else(|| panic!("no key list in: {message}"));
    let list = list.strip_prefix("one of ").unwrap_or(list);
    list.split(", ")
        .flat_map(|keys| keys.split(" or "))
        .map(|key| key.trim().trim_matches('`').to_string())
        .collect()
}

fn unit_table_keys(text: &str) -> BTreeSet<String> {
    let error = parse_unit("probe", Path::new("probe.toml"), text).unwrap_err();
    accepted_keys(&error.message)
}

#[test]
fn docs_list_exactly_the_top_level_keys() {
    assert_eq!(
        documented_keys("Top-level keys"),
        unit_table_keys("not-a-key = 1\n")
    );
}

#[test]
fn docs_list_exactly_the_restart_keys() {
    assert_eq!(
        documented_keys("`[restart]`"),
        unit_table_keys("command = \"x\"\n[restart]\nnot-a-key = 1\n")
    );
}

#[test]
fn docs_list_exactly_the_limits_keys() {
    assert_eq!(
        documented_keys("`[limits]`"),
        unit_table_keys("command = \"x\"\n[limits]\nnot-a-key = 1\n")
    );
}

#[test]
fn docs_list_exactly_the_stop_keys() {
    assert_eq!(
        documented_keys("`[stop]`"),
        unit_table_keys("command = \"x\"\n[stop]\nnot-a-key = 1\n")
    );
}

#[test]
fn docs_list_exactly_the_ready_health_and_watchdog_keys() {
    for (heading, table) in [
        ("`[ready]`", "[ready]\nnot-a-key = 1\n"),
        ("`[health]`", "[health]\ncheck = \"tcp\"\nnot-a-key = 1\n"),
        (
            "`[watchdog]`",
            "[watchdog]\ntimeout = \"1s\"\nnot-a-key = 1\n",
        ),
    ] {
        assert_eq!(
            documented_keys(heading),
            unit_table_keys(&format!("command = \"x\"\n{table}")),
            "{heading}"
        );
    }
}

#[test]
fn docs_list_exactly_the_recovery_keys() {
    for (heading, table) in [
        ("`[recovery]`", "[recovery]\nnot-a-key = 1\n"),
        ("`safe-mode`", "[recovery.safe-mode]\nnot-a-key = 1\n"),
    ] {
        assert_eq!(
            documented_keys(heading),
            unit_table_keys(&format!("command = \"x\"\n{table}")),
            "{heading}"
        );
    }
}

#[test]
fn docs_list_exactly_the_log_keys() {
    assert_eq!(
        documented_keys("`[log]`"),
        unit_table_keys("command = \"x\"\n[log]\nnot-a-key = 1\n")
    );
    let error = parse_settings(Path::new("phoenix.toml"), "[log]\nnot-a-key = 1\n").unwrap_err();
    assert_eq!(
        documented_keys("`[log]` of `phoenix.toml`"),
        accepted_keys(&error.message)
    );
}

#[test]
fn docs_list_exactly_the_s6_files() {
    let honoured: BTreeSet<String> = S6_FILES.iter().map(|f| f.to_string()).collect();
    assert_eq!(documented_keys("s6 service directory files"), honoured);
}

#[test]
fn docs_list_exactly_the_settings() {
    let error = parse_settings(Path::new("phoenix.toml"), "not-a-key = 1\n").unwrap_err();
    assert_eq!(
        documented_keys("`phoenix.toml`"),
        accepted_keys(&error.message)
    );
    let error =
        parse_settings(Path::new("phoenix.toml"), "[groups.g]\nnot-a-key = 1\n").unwrap_err();
    assert_eq!(
        documented_keys("`[groups.NAME]`"),
        accepted_keys(&error.message)
    );
    let error = parse_settings(Path::new("phoenix.toml"), "[http]\nnot-a-key = 1\n").unwrap_err();
    assert_eq!(documented_keys("`[http]`"), accepted_keys(&error.message));
    let error = parse_settings(Path::new("phoenix.toml"), "[[disk]]\nnot-a-key = 1\n").unwrap_err();
    assert_eq!(documented_keys("`[[disk]]`"), accepted_keys(&error.message));
    let error = parse_settings(Path::new("phoenix.toml"), "[alerts]\nnot-a-key = 1\n").unwrap_err();
    assert_eq!(documented_keys("`[alerts]`"), accepted_keys(&error.message));
    let error = parse_settings(
        Path::new("phoenix.toml"),
        "[hardware-watchdog]\nnot-a-key = 1\n",
    )
    .unwrap_err();
    assert_eq!(
        documented_keys("`[hardware-watchdog]`"),
        accepted_keys(&error.message)
    );
    let error = parse_settings(
        Path::new("phoenix.toml"),
        "[alerts.critical]\nnot-a-key = 1\n",
    )
    .unwrap_err();
    assert_eq!(
        documented_keys("`[alerts.LEVEL]`"),
        accepted_keys(&error.message)
    );
}
