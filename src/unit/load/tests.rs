//! Tests of `load.rs`.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use super::*;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, text).unwrap();
    path
}

fn names(report: &LoadReport) -> Vec<&str> {
    report.units.iter().map(|u| u.name.as_str()).collect()
}

fn invalid_names(report: &LoadReport) -> Vec<&str> {
    report.invalid.iter().map(|(n, _)| n.as_str()).collect()
}

#[test]
fn loads_toml_units_and_s6_directories_sorted_by_name() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "web.toml",
        "command = \"x\"\nafter = [\"db\"]\n",
    );
    write(dir.path(), "db.toml", "command = [\"/usr/bin/db\"]\n");
    let run = write(dir.path(), "cron/run", "#!/bin/sh\n");
    fs::set_permissions(&run, fs::Permissions::from_mode(0o755)).unwrap();
    let log = write(dir.path(), "cron/log/run", "#!/bin/sh\n");
    fs::set_permissions(&log, fs::Permissions::from_mode(0o755)).unwrap();
    write(dir.path(), ".hidden.toml", "garbage");
    write(dir.path(), ".git/config", "garbage");
    write(dir.path(), "README.md", "not a unit");
    write(dir.path(), "web.toml~", "editor backup");
    let report = load_dir(dir.path(), &BTreeSet::new());
    assert!(report.is_valid(), "{:?}", report.errors);
    assert_eq!(names(&report), ["cron", "cron.log", "db", "web"]);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
}

#[test]
fn an_invalid_unit_does_not_prevent_others_loading() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.toml", "command = \"x\"\n");
    let bad = write(dir.path(), "bad.toml", "command = \"x\"\n\ncomand = 1\n");
    let report = load_dir(dir.path(), &BTreeSet::new());
    assert_eq!(names(&report), ["good"]);
    assert_eq!(invalid_names(&report), ["bad"]);
    let error = &report.invalid[0].1;
    assert_eq!(error.path, bad);
    assert_eq!((error.line, error.column), (Some(3), Some(1)));
    assert_eq!(report.errors, std::slice::from_ref(error));
}

#[test]
fn unknown_dependency_is_an_error_at_the_dependency_string() {
    let dir = tempfile::tempdir().unwrap();
    let web = write(
        dir.path(),
        "web.toml",
        "command = \"x\"\nrequires = [\"db\"]\n",
    );
    write(
        dir.path(),
        "other.toml",
        "command = \"x\"\nwants = [\"web\"]\n",
    );
    let report = load_dir(dir.path(), &BTreeSet::new());
    assert_eq!(invalid_names(&report), ["web"]);
    assert_eq!(names(&report), ["other"]);
    let error = &report.errors[0];
    assert_eq!(
        error.to_string(),
        format!(
            "{}:2:13: unknown dependency 'db': expected the name of a unit in this directory",
            web.display()
        )
    );
}

#[test]
fn depending_on_an_invalid_unit_is_not_unknown() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "db.toml", "kind = \"daemon\"\n");
    write(
        dir.path(),
        "web.toml",
        "command = \"x\"\nrequires = [\"db\"]\n",
    );
    let report = load_dir(dir.path(), &BTreeSet::new());
    assert_eq!(names(&report), ["web"]);
    assert_eq!(invalid_names(&report), ["db"]);
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
}

#[test]
fn unknown_supervision_group_is_an_error_at_the_name() {
    let dir = tempfile::tempdir().unwrap();
    let web = write(
        dir.path(),
        "web.toml",
        "command = \"x\"\nsupervision-group = \"payment\"\n",
    );
    write(
        dir.path(),
        "db.toml",
        "command = \"x\"\nsupervision-group = \"payments\"\n",
    );
    write(
        dir.path(),
        "cache.toml",
        "command = \"x\"\nrequires = [\"web\"]\n",
    );
    let groups = BTreeSet::from(["payments".to_string(), "web".to_string()]);
    let report = load_dir(dir.path(), &groups);
    assert_eq!(names(&report), ["cache", "db"]);
    assert_eq!(invalid_names(&report), ["web"]);
    assert_eq!(
        report.errors[0].to_string(),
        format!(
            "{}:2:21: unknown supervision group 'payment': phoenix.toml defines payments, web",
            web.display()
        )
    );
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert_eq!(
        report.units[1].supervision_group.as_deref(),
        Some("payments")
    );
}

#[test]
fn a_supervision_group_without_groups_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let web = write(
        dir.path(),
        "web.toml",
        "command = \"x\"\nsupervision-group = \"payments\"\n",
    );
    let report = load_dir(dir.path(), &BTreeSet::new());
    assert!(report.units.is_empty());
    assert_eq!(
        report.errors[0].to_string(),
        format!(
            "{}:2:21: unknown supervision group 'payments': phoenix.toml defines no [groups]",
            web.display()
        )
    );
}

#[test]
fn an_s6_directory_joins_a_group_from_its_unit_toml() {
    let dir = tempfile::tempdir().unwrap();
    let run = write(dir.path(), "web/run", "#!/bin/sh\n");
    fs::set_permissions(&run, fs::Permissions::from_mode(0o755)).unwrap();
    let toml = write(
        dir.path(),
        "web/unit.toml",
        "\nsupervision-group = \"nope\"\n",
    );
    let report = load_dir(dir.path(), &BTreeSet::from(["web".to_string()]));
    assert_eq!(invalid_names(&report), ["web"]);
    assert_eq!(
        report.errors[0].to_string(),
        format!(
            "{}:2:21: unknown supervision group 'nope': phoenix.toml defines web",
            toml.display()
        )
    );
    write(dir.path(), "web/unit.toml", "supervision-group = \"web\"\n");
    let report = load_dir(dir.path(), &BTreeSet::from(["web".to_string()]));
    assert!(report.is_valid(), "{:?}", report.errors);
    assert_eq!(report.units[0].supervision_group.as_deref(), Some("web"));
}

#[test]
fn cycle_members_are_invalid_and_named_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.toml", "command = \"x\"\nafter = [\"b\"]\n");
    write(
        dir.path(),
        "b.toml",
        "command = \"x\"\nrequires = [\"c\"]\n",
    );
    write(dir.path(), "c.toml", "command = \"x\"\nafter = [\"a\"]\n");
    write(dir.path(), "d.toml", "command = \"x\"\nafter = [\"a\"]\n");
    let report = load_dir(dir.path(), &BTreeSet::new());
    assert_eq!(names(&report), ["d"]);
    assert_eq!(invalid_names(&report), ["a", "b", "c"]);
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert_eq!(
        report.errors[0].to_string(),
        format!("{}:2:10: dependency cycle: a -> b -> c -> a", a.display())
    );
    for (_, error) in &report.invalid {
        assert_eq!(error.message, "dependency cycle: a -> b -> c -> a");
    }
}

#[test]
fn bad_file_names_are_errors_and_other_files_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "my web.toml", "command = \"x\"\n");
    write(dir.path(), "notes.txt", "ignored");
    let report = load_dir(dir.path(), &BTreeSet::new());
    assert!(report.units.is_empty());
    assert_eq!(report.errors.len(), 1);
    assert_eq!(report.errors[0].path, bad);
    assert!(
        report.errors[0]
            .message
            .contains("invalid unit name 'my web'")
    );
}

#[test]
fn duplicate_names_are_both_rejected() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "web.toml", "command = \"x\"\n");
    let run = write(dir.path(), "web/run", "#!/bin/sh\n");
    fs::set_permissions(&run, fs::Permissions::from_mode(0o755)).unwrap();
    let report = load_dir(dir.path(), &BTreeSet::new());
    assert!(report.units.is_empty());
    assert_eq!(invalid_names(&report), ["web"]);
    assert_eq!(report.errors.len(), 2);
    assert!(
        report.errors[0]
            .message
            .starts_with("duplicate unit 'web': also defined by")
    );
}

#[test]
fn unreadable_directory_is_one_error() {
    let report = load_dir(
        Path::new("/nonexistent/phoenix/services.d"),
        &BTreeSet::new(),
    );
    assert_eq!(report.errors.len(), 1);
    assert!(
        report.errors[0]
            .message
            .starts_with("unable to read the services directory")
    );
}

#[test]
fn warns_when_the_restart_budget_can_never_be_exhausted() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "slow.toml",
        "command = \"x\"\n[restart]\ndelay = \"1m\"\nmax-delay = \"1h\"\nwindow = \"5m\"\n",
    );
    write(
        dir.path(),
        "never.toml",
        "command = \"x\"\n[restart]\npolicy = \"never\"\nwindow = \"1s\"\n",
    );
    write(dir.path(), "fine.toml", "command = \"x\"\n");
    let report = load_dir(dir.path(), &BTreeSet::new());
    assert!(report.is_valid());
    assert_eq!(
        report.warnings,
        [
            "slow: restart budget can never be exhausted: 5 failures take at least 15m of restart delays, longer than window 5m; raise window or lower max-failures"
        ]
    );
}
