//! s6 service directories read into units: every file honoured, and the errors.

use super::*;
use crate::unit::model::{Kind, RestartPolicy};
use crate::unit::signal::Signal;

fn write(path: &Path, text: &str, mode: u32) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn service(root: &Path) -> PathBuf {
    let dir = root.join("web");
    write(&dir.join("run"), "#!/bin/sh\nexec web\n", 0o755);
    dir
}

#[test]
fn reads_a_directory_with_every_file() {
    let root = tempfile::tempdir().unwrap();
    let dir = service(root.path());
    write(&dir.join("finish"), "#!/bin/sh\n", 0o700);
    write(&dir.join("down"), "", 0o644);
    write(&dir.join("down-signal"), "SIGHUP\n", 0o644);
    write(&dir.join("timeout-kill"), "2500\n", 0o644);
    write(&dir.join("timeout-finish"), "750", 0o644);
    write(&dir.join("notification-fd"), "3\n", 0o644);
    write(
        &dir.join("env/PORT"),
        "8080  \nignored second line\n",
        0o644,
    );
    write(&dir.join("env/UNSET_ME"), "", 0o644);
    write(&dir.join("env/EMPTY"), "\n", 0o644);
    write(&dir.join("env/MULTI"), "a\0b\n", 0o644);
    write(&dir.join("env/.hidden"), "x", 0o644);
    write(&dir.join("data/anything"), "x", 0o644);
    write(
        &dir.join("unit.toml"),
        "description = \"s6 web\"\nkind = \"oneshot\"\nafter = [\"db\"]\n",
        0o644,
    );
    write(&dir.join("log/run"), "#!/bin/sh\nexec logger\n", 0o755);

    let read = read_service_dir("web", &dir).unwrap();
    assert!(read.warnings.is_empty(), "{:?}", read.warnings);
    let [service, logger] = &read.units[..] else {
        panic!("expected the service and its logger: {:?}", read.units);
    };
    let unit = &service.unit;
    assert_eq!(unit.name, "web");
    assert_eq!(unit.source, dir);
    assert_eq!(
        unit.command,
        Command::Argv(vec![dir.join("run").to_str().unwrap().to_string()])
    );
    assert_eq!(unit.working_directory.as_deref(), Some(dir.as_path()));
    assert!(!unit.enabled);
    assert_eq!(unit.description.as_deref(), Some("s6 web"));
    assert_eq!(unit.kind, Kind::Oneshot);
    assert_eq!(unit.restart.policy, RestartPolicy::Never);
    assert_eq!(unit.after, ["db"]);
    assert_eq!(service.sites[0].path, dir.join("unit.toml"));
    assert_eq!(service.sites[0].line, Some(3));
    assert_eq!(unit.stop.signal, Signal::HUP);
    assert_eq!(unit.stop.timeout, Duration::from_millis(2500));
    let expected_env: BTreeMap<String, Option<String>> = [
        ("EMPTY", Some("")),
        ("MULTI", Some("a\nb")),
        ("PORT", Some("8080")),
        ("UNSET_ME", None),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
    .collect();
    assert_eq!(
        unit.s6,
        Some(S6Extras {
            finish: Some(dir.join("finish")),
            timeout_finish: Duration::from_millis(750),
            notification_fd: Some(3),
            env: expected_env,
            logger: Some("web.log".to_string()),
        })
    );
    let logger = &logger.unit;
    assert_eq!(logger.name, "web.log");
    assert_eq!(logger.working_directory, Some(dir.join("log")));
    assert!(logger.enabled);
    assert_eq!(logger.s6.as_ref().unwrap().logger, None);
}

#[test]
fn minimal_directory_uses_s6_and_unit_defaults() {
    let root = tempfile::tempdir().unwrap();
    let dir = service(root.path());
    let read = read_service_dir("web", &dir).unwrap();
    let unit = &read.units[0].unit;
    assert_eq!(read.units.len(), 1);
    assert!(unit.enabled);
    assert_eq!(unit.stop.signal, Signal::TERM);
    assert_eq!(unit.stop.timeout, Duration::from_secs(10));
    assert_eq!(unit.s6, Some(S6Extras::default()));
    assert_eq!(
        unit.s6.as_ref().unwrap().timeout_finish,
        Duration::from_millis(5000)
    );
}

#[test]
fn run_must_exist_and_be_executable() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("web");
    fs::create_dir(&dir).unwrap();
    let error = read_service_dir("web", &dir).unwrap_err();
    assert!(
        error.message.contains("needs an executable run file"),
        "{error}"
    );
    write(&dir.join("run"), "#!/bin/sh\n", 0o644);
    let error = read_service_dir("web", &dir).unwrap_err();
    assert_eq!(error.path, dir.join("run"));
    assert!(
        error.message.contains("not executable (mode 644)"),
        "{error}"
    );
}

#[test]
fn unit_toml_may_not_set_the_command() {
    let root = tempfile::tempdir().unwrap();
    let dir = service(root.path());
    write(
        &dir.join("unit.toml"),
        "main = true\ncommand = \"x\"\n",
        0o644,
    );
    let error = read_service_dir("web", &dir).unwrap_err();
    assert_eq!((error.line, error.column), (Some(2), Some(11)), "{error}");
    assert!(
        error.message.contains("'command' is not allowed"),
        "{error}"
    );
}

#[test]
fn unit_toml_is_strict() {
    let root = tempfile::tempdir().unwrap();
    let dir = service(root.path());
    write(&dir.join("unit.toml"), "[stop]\ntimeuot = \"1s\"\n", 0o644);
    let error = read_service_dir("web", &dir).unwrap_err();
    assert_eq!(error.path, dir.join("unit.toml"));
    assert_eq!((error.line, error.column), (Some(2), Some(1)), "{error}");
}

#[test]
fn a_stop_key_and_its_s6_file_conflict() {
    let root = tempfile::tempdir().unwrap();
    let dir = service(root.path());
    write(&dir.join("down-signal"), "HUP", 0o644);
    write(&dir.join("unit.toml"), "[stop]\nsignal = \"INT\"\n", 0o644);
    let error = read_service_dir("web", &dir).unwrap_err();
    assert_eq!((error.line, error.column), (Some(2), Some(10)), "{error}");
    assert!(
        error
            .message
            .contains("conflicts with the down-signal file")
    );
}

#[test]
fn bad_s6_files_name_the_file_and_keep_the_input() {
    for (file, content, needle) in [
        ("down-signal", "SIGNOPE\n", "invalid signal 'SIGNOPE'"),
        ("timeout-kill", "5s\n", "invalid milliseconds '5s'"),
        ("timeout-finish", "-1\n", "invalid milliseconds '-1'"),
        ("notification-fd", "1\n", "invalid notification-fd '1'"),
    ] {
        let root = tempfile::tempdir().unwrap();
        let dir = service(root.path());
        write(&dir.join(file), content, 0o644);
        let error = read_service_dir("web", &dir).unwrap_err();
        assert_eq!(error.path, dir.join(file));
        assert!(error.message.contains(needle), "{file}: {error}");
    }
}

#[test]
fn zero_timeouts_warn_and_keep_the_defaults() {
    let root = tempfile::tempdir().unwrap();
    let dir = service(root.path());
    write(&dir.join("timeout-kill"), "0", 0o644);
    write(&dir.join("timeout-finish"), "0", 0o644);
    let read = read_service_dir("web", &dir).unwrap();
    assert_eq!(read.warnings.len(), 2, "{:?}", read.warnings);
    assert!(read.warnings[0].starts_with("web: timeout-kill 0"));
    let unit = &read.units[0].unit;
    assert_eq!(unit.stop.timeout, Duration::from_secs(10));
    assert_eq!(
        unit.s6.as_ref().unwrap().timeout_finish,
        Duration::from_millis(5000)
    );
}

#[test]
fn log_directory_needs_an_executable_run() {
    let root = tempfile::tempdir().unwrap();
    let dir = service(root.path());
    fs::create_dir(dir.join("log")).unwrap();
    let error = read_service_dir("web", &dir).unwrap_err();
    assert_eq!(error.path, dir.join("log/run"));
}

#[test]
fn unit_toml_takes_recovery_and_a_supervision_group() {
    let root = tempfile::tempdir().unwrap();
    let dir = service(root.path());
    write(
        &dir.join("unit.toml"),
        "supervision-group = \"web\"\n[recovery]\nsteps = [\"safe-mode\", \"rollback\"]\nverify = \"5s\"\nsafe-mode = { environment = { SAFE = \"1\" } }\nrollback-files = [\"/etc/web.conf\"]\n",
        0o644,
    );
    let read = read_service_dir("web", &dir).unwrap();
    let parsed = &read.units[0];
    let recovery = &parsed.unit.recovery;
    assert_eq!(
        recovery.steps,
        [
            crate::unit::RecoveryStep::SafeMode,
            crate::unit::RecoveryStep::Rollback
        ]
    );
    assert_eq!(recovery.verify, Duration::from_secs(5));
    assert_eq!(
        recovery.safe_mode.as_ref().map(|safe| safe.command.clone()),
        Some(None)
    );
    assert_eq!(recovery.rollback_files, [PathBuf::from("/etc/web.conf")]);
    assert_eq!(parsed.unit.supervision_group.as_deref(), Some("web"));
    let site = parsed.group_site.as_ref().unwrap();
    assert_eq!(site.path, dir.join("unit.toml"));
    assert_eq!((site.line, site.column), (Some(1), Some(21)));
}

#[test]
fn unit_toml_recovery_errors_point_into_it() {
    let root = tempfile::tempdir().unwrap();
    let dir = service(root.path());
    write(
        &dir.join("unit.toml"),
        "[recovery]\nsteps = [\"restore\"]\n",
        0o644,
    );
    let error = read_service_dir("web", &dir).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "{}:2:9: step restore needs a restore command: restore = [\"/usr/local/bin/restore-backup\"]",
            dir.join("unit.toml").display()
        )
    );
}
