//! Tests of the unit parser.
use std::time::Duration;

use super::*;
use crate::unit::model::{Command, EnvironmentFile};
use crate::unit::signal::Signal;

fn parse(text: &str) -> Result<Unit, UnitError> {
    parse_unit("web", Path::new("services.d/web.toml"), text)
}

#[track_caller]
fn parse_error(text: &str) -> UnitError {
    parse(text).expect_err("the unit should be rejected")
}

#[track_caller]
fn assert_error_at(text: &str, line: usize, column: usize, needle: &str) {
    let error = parse_error(text);
    assert_eq!(
        (error.line, error.column),
        (Some(line), Some(column)),
        "{error}"
    );
    assert!(error.message.contains(needle), "{error}");
    assert_eq!(error.path, Path::new("services.d/web.toml"));
}

const FULL: &str = r#"
description = "demo web server"
command = ["/usr/bin/web", "--port", "8080"]
kind = "oneshot"
enabled = false
main = true
critical = true
after = ["db"]
requires = ["db", "cache"]
wants = ["metrics"]
working-directory = "/srv"
user = "www-data"
group = "www"
umask = "0027"
environment = { PORT = "8080", MODE = "prod" }
environment-files = ["-/etc/default/web", "/etc/web.env"]

[restart]
policy = "on-failure"
success-exit-codes = [0, 3]
min-uptime = "2s"
delay = "250ms"
multiplier = 1.5
max-delay = "30s"
jitter = 0.1
reset-after = "1m"
max-failures = 7
window = "20m"
on-exhausted = "stop"
cooldown = "10m"
max-cooldown = "2h"

[stop]
signal = "SIGINT"
timeout = "3s"
mode = "process"

[limits]
nofile = "1024:65536"
core = "unlimited"
cpu = 60
no-new-privileges = true
oom-score-adjust = 500
"#;

#[test]
fn parses_every_key() {
    let unit = parse(FULL).unwrap();
    let expected = Unit {
        name: "web".to_string(),
        source: PathBuf::from("services.d/web.toml"),
        description: Some("demo web server".to_string()),
        command: Command::Argv(vec![
            "/usr/bin/web".to_string(),
            "--port".to_string(),
            "8080".to_string(),
        ]),
        kind: Kind::Oneshot,
        enabled: false,
        main: true,
        critical: true,
        after: vec!["db".to_string()],
        requires: vec!["db".to_string(), "cache".to_string()],
        wants: vec!["metrics".to_string()],
        working_directory: Some(PathBuf::from("/srv")),
        user: Some("www-data".to_string()),
        group: Some("www".to_string()),
        umask: Some(0o027),
        environment: [("MODE", "prod"), ("PORT", "8080")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        environment_files: vec![
            EnvironmentFile {
                path: PathBuf::from("/etc/default/web"),
                optional: true,
            },
            EnvironmentFile {
                path: PathBuf::from("/etc/web.env"),
                optional: false,
            },
        ],
        restart: RestartConfig {
            policy: RestartPolicy::OnFailure,
            success_exit_codes: vec![0, 3],
            min_uptime: Duration::from_secs(2),
            delay: Duration::from_millis(250),
            multiplier: 1.5,
            max_delay: Duration::from_secs(30),
            jitter: 0.1,
            reset_after: Duration::from_secs(60),
            max_failures: 7,
            window: Duration::from_secs(20 * 60),
            on_exhausted: OnExhausted::Stop,
            cooldown: Duration::from_secs(10 * 60),
            max_cooldown: Duration::from_secs(2 * 3600),
        },
        stop: StopConfig {
            signal: Signal::INT,
            timeout: Duration::from_secs(3),
            mode: StopMode::Process,
        },
        ready: crate::unit::ReadyConfig::default(),
        health: None,
        watchdog: None,
        stale_files: Vec::new(),
        recovery: crate::unit::RecoveryConfig::default(),
        supervision_group: None,
        limits: crate::unit::Limits {
            resources: vec![
                (
                    crate::unit::Resource::Nofile,
                    crate::unit::Rlimit {
                        soft: Some(1024),
                        hard: Some(65536),
                    },
                ),
                (
                    crate::unit::Resource::Core,
                    crate::unit::Rlimit {
                        soft: None,
                        hard: None,
                    },
                ),
                (
                    crate::unit::Resource::Cpu,
                    crate::unit::Rlimit {
                        soft: Some(60),
                        hard: Some(60),
                    },
                ),
            ],
            no_new_privileges: true,
            oom_score_adjust: Some(500),
        },
        log: None,
        s6: None,
    };
    assert_eq!(unit, expected);
}

#[test]
fn applies_every_default() {
    let unit = parse(r#"command = "exec web""#).unwrap();
    assert_eq!(unit.command, Command::Shell("exec web".to_string()));
    assert_eq!(unit.description, None);
    assert_eq!(unit.kind, Kind::Daemon);
    assert!(unit.enabled);
    assert!(!unit.main);
    assert!(!unit.critical);
    assert!(unit.after.is_empty() && unit.requires.is_empty() && unit.wants.is_empty());
    assert_eq!(unit.working_directory, None);
    assert_eq!((unit.user, unit.group, unit.umask), (None, None, None));
    assert!(unit.environment.is_empty() && unit.environment_files.is_empty());
    assert_eq!(
        unit.restart,
        RestartConfig {
            policy: RestartPolicy::Always,
            success_exit_codes: vec![0],
            min_uptime: Duration::from_secs(1),
            delay: Duration::from_secs(1),
            multiplier: 2.0,
            max_delay: Duration::from_secs(60),
            jitter: 0.0,
            reset_after: Duration::from_secs(300),
            max_failures: 5,
            window: Duration::from_secs(600),
            on_exhausted: OnExhausted::Cooldown,
            cooldown: Duration::from_secs(300),
            max_cooldown: Duration::from_secs(3600),
        }
    );
    assert_eq!(
        unit.stop,
        StopConfig {
            signal: Signal::TERM,
            timeout: Duration::from_secs(10),
            mode: StopMode::Group,
        }
    );
    assert_eq!(unit.s6, None);
}

#[test]
fn oneshot_defaults_to_never_restarting() {
    let unit = parse("command = [\"/bin/true\"]\nkind = \"oneshot\"").unwrap();
    assert_eq!(unit.restart.policy, RestartPolicy::Never);
}

#[test]
fn main_and_critical_default_to_escalate_unless_told() {
    for key in ["main", "critical"] {
        let unit = parse(&format!("command = \"x\"\n{key} = true")).unwrap();
        assert_eq!(unit.restart.on_exhausted, OnExhausted::Escalate, "{key}");
    }
    let unit =
        parse("command = \"x\"\nmain = true\n[restart]\non-exhausted = \"cooldown\"").unwrap();
    assert_eq!(unit.restart.on_exhausted, OnExhausted::Cooldown);
}

#[test]
fn signals_accept_numbers() {
    let unit = parse("command = \"x\"\n[stop]\nsignal = 2").unwrap();
    assert_eq!(unit.stop.signal, Signal::INT);
    let unit = parse("command = \"x\"\n[stop]\nsignal = \"hup\"").unwrap();
    assert_eq!(unit.stop.signal, Signal::HUP);
}

#[test]
fn top_level_typo_names_line_column_and_known_keys() {
    let error = parse_error("command = \"x\"\nkind = \"daemon\"\ncomand = \"y\"\n");
    assert_eq!((error.line, error.column), (Some(3), Some(1)));
    assert!(error.message.contains("unknown field `comand`"), "{error}");
    assert!(error.message.contains("`command`"), "{error}");
    assert!(
        error.to_string().starts_with("services.d/web.toml:3:1: "),
        "{error}"
    );
}

#[test]
fn unknown_key_in_restart() {
    assert_error_at(
        "command = \"x\"\n[restart]\n  retries = 3\n",
        3,
        3,
        "unknown field `retries`, expected one of `policy`",
    );
}

#[test]
fn unknown_key_in_stop() {
    assert_error_at(
        "command = \"x\"\n[stop]\nsignl = \"TERM\"\n",
        3,
        1,
        "unknown field `signl`",
    );
}

#[test]
fn bare_number_duration_is_an_error_at_the_value() {
    assert_error_at(
        "command = \"x\"\n[restart]\ndelay = 10\n",
        3,
        9,
        "bare number is ambiguous",
    );
}

#[test]
fn bad_duration_keeps_the_input() {
    assert_error_at(
        "command = \"x\"\n[stop]\ntimeout = \"10 parsecs\"\n",
        3,
        11,
        "invalid duration '10 parsecs'",
    );
}

#[test]
fn bad_signal_keeps_the_input() {
    assert_error_at(
        "command = \"x\"\n[stop]\nsignal = \"SIGFOO\"\n",
        3,
        10,
        "invalid signal 'SIGFOO'",
    );
}

#[test]
fn bad_enum_value_lists_the_choices() {
    assert_error_at(
        "command = \"x\"\nkind = \"forking\"\n",
        2,
        8,
        "unknown variant `forking`, expected `daemon` or `oneshot`",
    );
}

#[test]
fn ranges_are_checked_at_the_value() {
    for (table_line, needle) in [
        ("multiplier = 0.5", "invalid multiplier 0.5"),
        ("jitter = 1.0", "invalid jitter 1"),
        ("jitter = -0.1", "invalid jitter -0.1"),
        ("max-failures = 0", "invalid max-failures 0"),
        ("success-exit-codes = [0, 256]", "256"),
    ] {
        let text = format!("command = \"x\"\n[restart]\n{table_line}\n");
        let column = table_line.rfind([' ', '[']).unwrap() + 2;
        assert_error_at(&text, 3, column, needle);
    }
}

#[test]
fn umask_must_be_octal_and_at_most_0777() {
    for bad in ["\"0999\"", "\"01000\"", "\"\"", "\"+22\"", "18"] {
        let error = parse_error(&format!("command = \"x\"\numask = {bad}\n"));
        assert_eq!((error.line, error.column), (Some(2), Some(9)), "{error}");
    }
    assert_eq!(
        parse("command = \"x\"\numask = \"777\"").unwrap().umask,
        Some(0o777)
    );
}

#[test]
fn command_must_not_be_empty() {
    assert_error_at("command = []\n", 1, 11, "empty command");
    assert_error_at("command = [\"\"]\n", 1, 11, "empty command");
    assert_error_at("command = \"  \"\n", 1, 11, "empty command");
    assert_error_at("command = 5\n", 1, 11, "an array of strings");
}

#[test]
fn command_is_required() {
    let error = parse_error("description = \"no command\"\n");
    assert!(error.message.contains("missing key 'command'"), "{error}");
    assert_eq!(error.line, None);
}

#[test]
fn paths_and_names_are_checked() {
    assert_error_at(
        "command = \"x\"\nworking-directory = \"srv\"\n",
        2,
        21,
        "expected an absolute path",
    );
    assert_error_at(
        "command = \"x\"\nenvironment-files = [\"etc/env\"]\n",
        2,
        22,
        "invalid environment file 'etc/env'",
    );
    assert_error_at(
        "command = \"x\"\nafter = [\"db\", \"a b\"]\n",
        2,
        16,
        "invalid unit name 'a b'",
    );
    let error = parse_error("command = \"x\"\nenvironment = { \"A=B\" = \"1\" }\n");
    assert!(error.message.contains("'A=B'"), "{error}");
    assert_eq!(error.line, Some(2), "{error}");
}

#[test]
fn dependency_sites_point_at_each_string() {
    let parsed = parse_unit_with_sites(
        "web",
        Path::new("web.toml"),
        "command = \"x\"\nafter = [\"db\"]\nwants = [\"a\", \"b\"]\n",
    )
    .unwrap();
    let sites: Vec<_> = parsed
        .sites
        .iter()
        .map(|s| (s.dependency.as_str(), s.line, s.column))
        .collect();
    assert_eq!(
        sites,
        [
            ("db", Some(2), Some(10)),
            ("a", Some(3), Some(10)),
            ("b", Some(3), Some(15))
        ]
    );
}

#[test]
fn syntax_errors_are_located() {
    let error = parse_error("command = \"x\"\nenabled = yes\n");
    assert_eq!(error.line, Some(2), "{error}");
    assert!(!error.message.contains('\n'), "{error:?}");
    let error = parse_error("command = \"x\n");
    assert!(!error.message.contains('\n'), "{error:?}");
}

#[test]
fn bad_limits_are_errors_at_their_value() {
    assert_error_at(
        "command = \"x\"\n[limits]\nnofile = \"lots\"\n",
        3,
        10,
        "expected a number, \"unlimited\", or \"SOFT:HARD\"",
    );
    assert_error_at(
        "command = \"x\"\n[limits]\nstack = \"unlimited:1024\"\n",
        3,
        9,
        "the soft limit is above the hard one",
    );
    assert_error_at(
        "command = \"x\"\n[limits]\noom-score-adjust = 1001\n",
        3,
        20,
        "expected an integer from -1000 to 1000",
    );
    assert_error_at(
        "command = \"x\"\n[limits]\nfiles = 10\n",
        3,
        1,
        "unknown field `files`",
    );
}
