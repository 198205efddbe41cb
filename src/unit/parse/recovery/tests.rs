//! `[recovery]` and `supervision-group` in a unit file: every key, the defaults, and each
//! error at its line and column with the expected form.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::unit::model::Command;
use crate::unit::parse::parse_unit_with_sites;
use crate::unit::recovery::{RecoveryConfig, RecoveryStep, SafeMode};
use crate::unit::{Unit, UnitError, parse_unit};

fn parse(text: &str) -> Result<Unit, UnitError> {
    parse_unit(
        "web",
        Path::new("services.d/web.toml"),
        &format!("command = \"web\"\n{text}"),
    )
}

fn argv(words: &[&str]) -> Command {
    Command::Argv(words.iter().map(|word| word.to_string()).collect())
}

#[test]
fn without_the_table_every_default() {
    let unit = parse("").unwrap();
    assert_eq!(unit.recovery, RecoveryConfig::default());
    assert!(unit.recovery.steps.is_empty());
    assert_eq!(unit.recovery.verify, Duration::from_secs(30));
    assert_eq!(unit.recovery.safe_mode, None);
    assert!(unit.recovery.rollback_files.is_empty());
    assert_eq!(unit.recovery.restore, None);
    assert_eq!(unit.recovery.restore_timeout, Duration::from_secs(600));
    assert_eq!(unit.supervision_group, None);
    assert_eq!(
        parse("[recovery]\n").unwrap().recovery,
        RecoveryConfig::default()
    );
}

#[test]
fn parses_every_key() {
    let unit = parse(
        r#"supervision-group = "payments"
[recovery]
steps = ["safe-mode", "rollback", "restart-dependencies", "restore"]
verify = "1m"
safe-mode = { command = ["/usr/bin/web", "--safe"], environment = { WEB_SAFE_MODE = "1" } }
rollback-files = ["/etc/web/web.conf", "/etc/web/extra.conf"]
restore = ["/usr/local/bin/restore-backup", "web"]
restore-timeout = "2m"
"#,
    )
    .unwrap();
    assert_eq!(unit.supervision_group.as_deref(), Some("payments"));
    assert_eq!(
        unit.recovery,
        RecoveryConfig {
            steps: RecoveryStep::ALL.to_vec(),
            verify: Duration::from_secs(60),
            safe_mode: Some(SafeMode {
                command: Some(argv(&["/usr/bin/web", "--safe"])),
                environment: BTreeMap::from([("WEB_SAFE_MODE".to_string(), "1".to_string())]),
            }),
            rollback_files: vec![
                PathBuf::from("/etc/web/web.conf"),
                PathBuf::from("/etc/web/extra.conf"),
            ],
            restore: Some(argv(&["/usr/local/bin/restore-backup", "web"])),
            restore_timeout: Duration::from_secs(120),
        }
    );
}

#[test]
fn steps_keep_their_order_and_any_subset() {
    for (steps, expected) in [
        ("[]", vec![]),
        ("[\"rollback\"]", vec![RecoveryStep::Rollback]),
        (
            "[\"restart-dependencies\", \"rollback\"]",
            vec![RecoveryStep::RestartDependencies, RecoveryStep::Rollback],
        ),
    ] {
        let unit = parse(&format!("[recovery]\nsteps = {steps}\n")).unwrap();
        assert_eq!(unit.recovery.steps, expected, "{steps}");
    }
}

#[test]
fn rollback_needs_no_files() {
    let unit = parse("[recovery]\nsteps = [\"rollback\"]\n").unwrap();
    assert!(unit.recovery.rollback_files.is_empty());
}

#[test]
fn safe_mode_and_restore_take_every_command_form() {
    let unit = parse(
        "[recovery]\nsafe-mode = { command = \"exec web --safe\" }\nrestore = \"restore-backup web\"\n",
    )
    .unwrap();
    assert_eq!(
        unit.recovery.safe_mode,
        Some(SafeMode {
            command: Some(Command::Shell("exec web --safe".to_string())),
            environment: BTreeMap::new(),
        })
    );
    assert_eq!(
        unit.recovery.restore,
        Some(Command::Shell("restore-backup web".to_string()))
    );
    let unit = parse("[recovery]\nsafe-mode = { environment = { SAFE = \"1\" } }\n").unwrap();
    assert_eq!(
        unit.recovery.safe_mode,
        Some(SafeMode {
            command: None,
            environment: BTreeMap::from([("SAFE".to_string(), "1".to_string())]),
        })
    );
    let unit = parse("[recovery.safe-mode]\ncommand = [\"web\", \"--safe\"]\n").unwrap();
    assert_eq!(
        unit.recovery
            .safe_mode
            .and_then(|safe_mode| safe_mode.command),
        Some(argv(&["web", "--safe"]))
    );
}

#[test]
fn errors_are_located_and_name_the_expected_form() {
    // Line 1 is the command every case shares.
    for (text, expected) in [
        (
            "[recovery]\nstep = []\n",
            "3:1: unknown field `step`, expected one of `steps`, `verify`, `safe-mode`, `rollback-files`, `restore`, `restore-timeout`",
        ),
        (
            "[recovery]\nsteps = [\"rollback\", \"reboot\"]\n",
            "3:22: unknown variant `reboot`, expected one of `safe-mode`, `rollback`, `restart-dependencies`, `restore`",
        ),
        (
            "[recovery]\nsteps = \"rollback\"\n",
            "3:9: invalid type: string \"rollback\", expected a sequence",
        ),
        (
            "[recovery]\nsteps = [\"rollback\", \"restart-dependencies\", \"rollback\"]\n",
            "3:46: duplicate step 'rollback': expected each step at most once",
        ),
        (
            "[recovery]\nsteps = [\"rollback\", \"safe-mode\"]\n",
            "3:9: step safe-mode needs a safe-mode table: safe-mode = { command = [...] }",
        ),
        (
            "[recovery]\nsteps = [\"restore\"]\n",
            "3:9: step restore needs a restore command: restore = [\"/usr/local/bin/restore-backup\"]",
        ),
        (
            "[recovery]\nverify = \"0s\"\n",
            "3:10: invalid verify 0s: expected a duration longer than 0s",
        ),
        (
            "[recovery]\nverify = 30\n",
            "3:10: invalid duration 30: a bare number is ambiguous, expected a string with a unit like \"30s\" or \"30ms\"",
        ),
        (
            "[recovery]\nrestore-timeout = \"0ms\"\n",
            "3:19: invalid restore-timeout 0s: expected a duration longer than 0s",
        ),
        (
            "[recovery]\nrestore-timeout = \"ten minutes\"\n",
            "3:19: invalid duration 'ten minutes': expected a number with a unit, like \"250ms\", \"5s\", \"2m\", \"1h\" or \"1m30s\"",
        ),
        (
            "[recovery]\nsafe-mode = {}\n",
            "3:13: safe-mode changes nothing: expected command = [...] and/or environment = { NAME = \"value\" }",
        ),
        (
            "[recovery]\nsafe-mode = { environment = {} }\n",
            "3:13: safe-mode changes nothing: expected command = [...] and/or environment = { NAME = \"value\" }",
        ),
        (
            "[recovery]\nsafe-mode = { command = [\"web\"], env = {} }\n",
            "3:34: unknown field `env`, expected `command` or `environment`",
        ),
        (
            "[recovery]\nsafe-mode = { command = [] }\n",
            "3:25: empty command: expected an argv array whose first element names the program, like [\"/usr/bin/web\", \"--port\", \"8080\"]",
        ),
        (
            "[recovery]\nsafe-mode = { environment = { \"A=B\" = \"1\" } }\n",
            "3:31: invalid environment variable name 'A=B': expected a non-empty name without '=' or NUL",
        ),
        (
            "[recovery]\nsafe-mode = [\"web\", \"--safe\"]\n",
            "3:13: invalid type: sequence, expected a table",
        ),
        (
            "[recovery]\nrollback-files = [\"/etc/web.conf\", \"web.conf\"]\n",
            "3:36: invalid rollback-files entry 'web.conf': expected an absolute path",
        ),
        (
            "[recovery]\nrestore = \"\"\n",
            "3:11: empty command: expected a shell command line like \"exec web --port 8080\"",
        ),
        (
            "[recovery]\nrestore = 7\n",
            "3:11: invalid type: integer `7`, expected an array of strings (argv) or a string (run by /bin/sh -c)",
        ),
        (
            "supervision-group = \"pay ments\"\n",
            "2:21: invalid supervision group name 'pay ments': expected letters, digits and _ . @ - only",
        ),
        (
            "supervision-group = [\"payments\"]\n",
            "2:21: invalid type: sequence, expected a string",
        ),
    ] {
        let error = parse(text).expect_err(text);
        assert_eq!(
            error.to_string(),
            format!("services.d/web.toml:{expected}"),
            "{text}"
        );
    }
}

#[test]
fn the_group_site_points_at_the_name() {
    let parsed = parse_unit_with_sites(
        "web",
        Path::new("web.toml"),
        "command = \"x\"\nsupervision-group = \"payments\"\n",
    )
    .unwrap();
    let site = parsed.group_site.unwrap();
    assert_eq!(
        (site.dependency.as_str(), site.line, site.column),
        ("payments", Some(2), Some(21))
    );
    let parsed = parse_unit_with_sites("web", Path::new("web.toml"), "command = \"x\"\n").unwrap();
    assert_eq!(parsed.group_site, None);
}
