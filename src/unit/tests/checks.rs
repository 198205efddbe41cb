//! `[ready]`, `[health]`, `[watchdog]` and `stale-files`: defaults, every check with the
//! keys it needs, and errors at the offending value naming what was expected.

use std::path::Path;
use std::time::Duration;

use crate::unit::parse_unit;

use super::*;

fn unit(text: &str) -> crate::unit::Unit {
    parse_unit(
        "web",
        Path::new("web.toml"),
        &format!("command = \"web\"\n{text}"),
    )
    .unwrap()
}

fn error(text: &str) -> String {
    parse_unit(
        "web",
        Path::new("web.toml"),
        &format!("command = \"web\"\n{text}"),
    )
    .unwrap_err()
    .to_string()
}

#[test]
fn defaults_without_tables() {
    let web = unit("");
    assert_eq!(web.ready, ReadyConfig::default());
    assert_eq!(web.ready.check, ReadyCheck::None);
    assert_eq!(web.ready.timeout, Duration::from_secs(90));
    assert_eq!(web.health, None);
    assert_eq!(web.watchdog, None);
    assert!(web.stale_files.is_empty());
}

#[test]
fn every_ready_check() {
    assert_eq!(
        unit("[ready]\ncheck = \"notify\"").ready.check,
        ReadyCheck::Notify
    );
    assert_eq!(
        unit("[ready]\ncheck = \"fd\"").ready.check,
        ReadyCheck::Fd(3)
    );
    assert_eq!(
        unit("[ready]\ncheck = \"fd\"\nfd = 5").ready.check,
        ReadyCheck::Fd(5)
    );
    let exec =
        unit("[ready]\ncheck = \"exec\"\ncommand = [\"pg_isready\", \"-q\"]\ninterval = \"1s\"");
    assert_eq!(
        exec.ready.check,
        ReadyCheck::Probe(Probe::Exec(crate::unit::Command::Argv(vec![
            "pg_isready".into(),
            "-q".into()
        ])))
    );
    assert_eq!(exec.ready.interval, Duration::from_secs(1));
    let tcp = unit("[ready]\ncheck = \"tcp\"\naddress = \"127.0.0.1:5432\"\ntimeout = \"5s\"");
    assert!(matches!(
        tcp.ready.check,
        ReadyCheck::Probe(Probe::Target(_))
    ));
    assert_eq!(tcp.ready.timeout, Duration::from_secs(5));
    let http = unit("[ready]\ncheck = \"http\"\nurl = \"http://127.0.0.1:8080/ready\"");
    assert_eq!(
        match http.ready.check {
            ReadyCheck::Probe(probe) => probe.describe(),
            other => format!("{other:?}"),
        },
        "http://127.0.0.1:8080/ready"
    );
}

#[test]
fn health_with_its_defaults() {
    let web = unit("[health]\ncheck = \"tcp\"\naddress = \"127.0.0.1:80\"");
    let health = web.health.unwrap();
    assert_eq!(health.interval, Duration::from_secs(10));
    assert_eq!(health.timeout, Duration::from_secs(2));
    assert_eq!(health.start_period, Duration::ZERO);
    assert_eq!((health.failure_threshold, health.success_threshold), (3, 1));
    assert_eq!(health.degraded_after, Duration::from_secs(1));
    assert_eq!(health.on_unhealthy, OnUnhealthy::Restart);
    let web = unit(
        "[health]\ncheck = \"exec\"\ncommand = \"true\"\nfailure-threshold = 2\non-unhealthy = \"none\"\nstart-period = \"30s\"",
    );
    let health = web.health.unwrap();
    assert_eq!(health.failure_threshold, 2);
    assert_eq!(health.on_unhealthy, OnUnhealthy::None);
    assert_eq!(health.start_period, Duration::from_secs(30));
}

#[test]
fn watchdog_and_stale_files() {
    let web = unit(
        "stale-files = [\"/run/web.pid\"]\n[watchdog]\ntimeout = \"30s\"\nheartbeat-file = \"/run/web/beat\"",
    );
    let watchdog = web.watchdog.unwrap();
    assert_eq!(watchdog.timeout, Duration::from_secs(30));
    assert_eq!(watchdog.signal, Signal::ABRT);
    assert_eq!(
        watchdog.heartbeat_file,
        Some(PathBuf::from("/run/web/beat"))
    );
    assert_eq!(web.stale_files, vec![PathBuf::from("/run/web.pid")]);
    assert_eq!(
        unit("[watchdog]\ntimeout = \"1s\"\nsignal = \"SIGQUIT\"")
            .watchdog
            .unwrap()
            .signal,
        Signal::QUIT
    );
}

#[test]
fn errors_point_at_the_value_and_say_what_was_expected() {
    for (text, expected) in [
        (
            "[ready]\ncheck = \"tcp\"",
            "web.toml:3:9: check = \"tcp\" needs address = \"127.0.0.1:5432\"",
        ),
        (
            "[ready]\ncheck = \"http\"\nurl = \"https://x/\"",
            "web.toml:4:7: ",
        ),
        (
            "[ready]\ncheck = \"http\"\nurl = \"https://x/\"",
            "only http://",
        ),
        (
            "[ready]\ncheck = \"tcp\"\naddress = \"nowhere\"",
            "web.toml:4:11: ",
        ),
        (
            "[ready]\ncheck = \"tcp\"\naddress = \"1.2.3.4:1\"\nurl = \"http://1.2.3.4/\"",
            "web.toml:5:7: 'url' does not apply to check = \"tcp\"",
        ),
        (
            "[ready]\ncheck = \"notify\"\ncommand = \"x\"",
            "'command' does not apply to check = \"notify\"",
        ),
        (
            "[ready]\nfd = 4",
            "'fd' does not apply unless check = \"fd\"",
        ),
        (
            "[ready]\ncheck = \"fd\"\nfd = 1",
            "invalid fd 1: expected a descriptor number from 3 to 1023",
        ),
        ("[ready]\ncheck = \"sometimes\"", "web.toml:3:9: "),
        ("[ready]\ntimeout = 5", "a bare number is ambiguous"),
        ("[health]\ninterval = \"1s\"", "missing field `check`"),
        (
            "[health]\ncheck = \"exec\"\ncommand = \"x\"\nfailure-threshold = 0",
            "invalid threshold 0: expected a whole number of at least 1",
        ),
        (
            "[health]\ncheck = \"exec\"\ncommand = \"x\"\non-unhealthy = \"panic\"",
            "web.toml:5:16: unknown variant `panic`, expected `restart` or `none`",
        ),
        (
            "[health]\ncheck = \"exec\"\ncommand = \"x\"\nretries = 3",
            "unknown field `retries`",
        ),
        (
            "[watchdog]\nheartbeat-file = \"/x\"",
            "missing field `timeout`",
        ),
        (
            "[watchdog]\ntimeout = \"0s\"",
            "[watchdog] timeout must be longer than 0s",
        ),
        (
            "[watchdog]\ntimeout = \"1s\"\nheartbeat-file = \"beat\"",
            "invalid heartbeat-file 'beat': expected an absolute path",
        ),
        (
            "stale-files = [\"web.pid\"]",
            "web.toml:2:16: invalid stale-files entry 'web.pid': expected an absolute path",
        ),
    ] {
        let message = error(text);
        assert!(message.contains(expected), "{text:?}: {message}");
    }
}
