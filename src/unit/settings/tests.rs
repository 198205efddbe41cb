//! Tests of `settings.rs`.

use super::*;

fn parse(text: &str) -> Result<Settings, UnitError> {
    parse_settings(Path::new("/etc/phoenix/phoenix.toml"), text)
}

#[test]
fn empty_file_means_defaults() {
    let settings = parse("").unwrap();
    assert_eq!(settings, Settings::default());
    assert_eq!(settings.shutdown_timeout, Duration::from_secs(9));
    assert_eq!(settings.grace, Duration::from_secs(5));
    assert_eq!(settings.on_critical_failure, CriticalAction::Exit);
    assert_eq!(settings.exit_code, ExitCodeSetting::Service);
    assert_eq!(
        (
            settings.runtime_dir,
            settings.state_dir,
            settings.control_socket
        ),
        (None, None, None)
    );
}

#[test]
fn parses_every_key() {
    let settings = parse(
        r#"
shutdown-timeout = "25s"
grace = "2s"
on-critical-failure = "reboot"
exit-code = 3
runtime-dir = "/run/x"
state-dir = "/var/lib/x"
control-socket = "/run/x/ctl.sock"
event-log-max-bytes = 65536
event-log-keep = 3
"#,
    )
    .unwrap();
    assert_eq!(
        settings,
        Settings {
            shutdown_timeout: Duration::from_secs(25),
            grace: Duration::from_secs(2),
            on_critical_failure: CriticalAction::Reboot,
            exit_code: ExitCodeSetting::Fixed(3),
            event_log_max_bytes: 65536,
            event_log_keep: 3,
            runtime_dir: Some(PathBuf::from("/run/x")),
            state_dir: Some(PathBuf::from("/var/lib/x")),
            control_socket: Some(PathBuf::from("/run/x/ctl.sock")),
            groups: BTreeMap::new(),
            http: None,
            disks: Vec::new(),
            alerts: AlertSettings::default(),
            log_default: None,
            hardware_watchdog: None,
        }
    );
}

#[test]
fn groups_take_every_key_and_default_the_rest() {
    let settings = parse(
        r#"
[groups.payments]
strategy = "one_for_all"
max-failures = 3
window = "1m"
on-exhausted = "cooldown"
cooldown = "10m"

[groups.web]
"#,
    )
    .unwrap();
    let payments = GroupConfig {
        strategy: Strategy::OneForAll,
        max_failures: 3,
        window: Duration::from_secs(60),
        on_exhausted: OnExhausted::Cooldown,
        cooldown: Duration::from_secs(600),
    };
    assert_eq!(
        settings.groups,
        BTreeMap::from([
            ("payments".to_string(), payments),
            ("web".to_string(), GroupConfig::default()),
        ])
    );
    assert_eq!(
        settings.group_names(),
        BTreeSet::from(["payments".to_string(), "web".to_string()])
    );
}

#[test]
fn group_defaults() {
    let group = GroupConfig::default();
    assert_eq!(group.strategy, Strategy::OneForOne);
    assert_eq!(group.max_failures, 5);
    assert_eq!(group.window, Duration::from_secs(60));
    assert_eq!(group.on_exhausted, OnExhausted::Escalate);
    assert_eq!(group.cooldown, Duration::from_secs(300));
}

#[test]
fn every_strategy_and_on_exhausted() {
    for (text, strategy) in [
        ("one_for_one", Strategy::OneForOne),
        ("one_for_all", Strategy::OneForAll),
        ("rest_for_one", Strategy::RestForOne),
    ] {
        let settings = parse(&format!("[groups.g]\nstrategy = \"{text}\"")).unwrap();
        assert_eq!(settings.groups["g"].strategy, strategy);
        assert_eq!(strategy.name(), text);
    }
    for (text, action) in [
        ("cooldown", OnExhausted::Cooldown),
        ("stop", OnExhausted::Stop),
        ("escalate", OnExhausted::Escalate),
    ] {
        let settings = parse(&format!("[groups.g]\non-exhausted = \"{text}\"")).unwrap();
        assert_eq!(settings.groups["g"].on_exhausted, action);
    }
}

#[test]
fn every_critical_action() {
    for (text, action) in [
        ("exit", CriticalAction::Exit),
        ("reboot", CriticalAction::Reboot),
        ("poweroff", CriticalAction::Poweroff),
        ("rescue", CriticalAction::Rescue),
        ("none", CriticalAction::None),
    ] {
        let settings = parse(&format!("on-critical-failure = \"{text}\"")).unwrap();
        assert_eq!(settings.on_critical_failure, action);
    }
}

#[test]
fn errors_are_located_and_keep_the_input() {
    for (text, line, column, needle) in [
        (
            "grace = \"5s\"\nshutdown-timout = \"1s\"\n",
            2,
            1,
            "unknown field `shutdown-timout`, expected one of",
        ),
        ("grace = 5\n", 1, 9, "bare number is ambiguous"),
        ("exit-code = 256\n", 1, 13, "invalid exit-code 256"),
        (
            "exit-code = \"child\"\n",
            1,
            13,
            "invalid exit-code 'child'",
        ),
        (
            "on-critical-failure = \"halt\"\n",
            1,
            23,
            "unknown variant `halt`",
        ),
        (
            "\nstate-dir = \"var\"\n",
            2,
            13,
            "invalid state-dir 'var': expected an absolute path",
        ),
        (
            "[groups.\"a b\"]\n",
            1,
            9,
            "invalid supervision group name 'a b': expected letters, digits and _ . @ - only",
        ),
        (
            "groups = { \"web/x\" = {} }\n",
            1,
            12,
            "invalid supervision group name 'web/x'",
        ),
        (
            "[groups.web]\nwindw = \"1s\"\n",
            2,
            1,
            "unknown field `windw`, expected one of `strategy`, `max-failures`, `window`, `on-exhausted`, `cooldown`",
        ),
        (
            "[groups.web]\nstrategy = \"one-for-one\"\n",
            2,
            12,
            "unknown variant `one-for-one`, expected one of `one_for_one`, `one_for_all`, `rest_for_one`",
        ),
        (
            "[groups.web]\nmax-failures = 0\n",
            2,
            16,
            "invalid max-failures 0: expected a whole number of at least 1",
        ),
        (
            "[groups.web]\nwindow = 60\n",
            2,
            10,
            "bare number is ambiguous",
        ),
        (
            "[groups.web]\ncooldown = \"5 parsecs\"\n",
            2,
            12,
            "invalid duration '5 parsecs'",
        ),
        (
            "[groups.web]\non-exhausted = \"restart\"\n",
            2,
            16,
            "unknown variant `restart`, expected one of `cooldown`, `stop`, `escalate`",
        ),
        (
            "[groups]\nweb = 3\n",
            2,
            7,
            "expected a [groups.NAME] table",
        ),
    ] {
        let error = parse(text).unwrap_err();
        assert_eq!(
            (error.line, error.column),
            (Some(line), Some(column)),
            "{error}"
        );
        assert!(error.message.contains(needle), "{error}");
    }
}
