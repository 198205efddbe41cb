//! Tests of `disks.rs`.
use super::*;
use std::path::PathBuf;
use std::time::Duration;

fn disks() -> Disks {
    Disks::new(&[DiskSettings {
        path: PathBuf::from("/var"),
        offset: 0,
        warning: 50.0,
        critical: 80.0,
        cleanup: Some(vec!["/bin/clean".to_string()]),
        interval: Duration::from_secs(10),
        cleanup_timeout: Duration::from_secs(3),
    }])
}

fn steps(actions: &[Action]) -> Vec<(String, String, String)> {
    actions
        .iter()
        .filter_map(|action| match action {
            Action::Record(Transition {
                service,
                step: Some((from, to)),
                ..
            }) => Some((service.clone(), from.clone(), to.clone())),
            _ => None,
        })
        .collect()
}

fn spawns(actions: &[Action]) -> Vec<&ProcessSpec> {
    actions
        .iter()
        .filter_map(|action| match action {
            Action::Spawn { spec, .. } => Some(spec),
            _ => None,
        })
        .collect()
}

#[test]
fn each_change_of_level_is_recorded_once_and_the_tick_rearmed() {
    let mut disks = disks();
    let t0 = Instant::now();
    assert_eq!(
        disks.start(),
        vec![Action::CheckDisk {
            disk: 0,
            path: PathBuf::from("/var")
        }]
    );
    let actions = disks.on_checked(0, Ok(10.0), t0);
    assert!(steps(&actions).is_empty());
    assert!(actions.contains(&Action::ArmTimer {
        timer: tick_timer(0),
        deadline: t0 + Duration::from_secs(10),
    }));
    let warn =
        |from: &str, to: &str| vec![("disk:/var".to_string(), from.to_string(), to.to_string())];
    assert_eq!(
        steps(&disks.on_checked(0, Ok(60.0), t0)),
        warn("ok", "warning")
    );
    assert!(steps(&disks.on_checked(0, Ok(70.0), t0)).is_empty());
    assert_eq!(
        steps(&disks.on_checked(0, Ok(5.0), t0)),
        warn("warning", "ok")
    );
    assert!(steps(&disks.on_checked(0, Err("gone".to_string()), t0)).is_empty());
    assert_eq!(
        disks.on_timer(tick_timer(0)),
        vec![Action::CheckDisk {
            disk: 0,
            path: PathBuf::from("/var")
        }]
    );
}

#[test]
fn critical_runs_the_cleanup_once_per_interval_and_kills_it_at_its_timeout() {
    let mut disks = disks();
    let t0 = Instant::now();
    let actions = disks.on_checked(0, Ok(90.0), t0);
    let spec = spawns(&actions)[0].clone();
    assert_eq!(spec.argv, vec!["/bin/clean".to_string()]);
    assert!(
        spec.environment
            .contains(&("PHOENIX_DISK_USED".to_string(), Some("90.0".to_string())))
    );
    assert!(
        spec.environment
            .contains(&("PHOENIX_DISK_PATH".to_string(), Some("/var".to_string())))
    );
    let token = DISK_BASE;
    assert_eq!(
        disks.on_spawn_result(token, Ok(42), t0),
        vec![Action::ArmTimer {
            timer: kill_timer(0),
            deadline: t0 + Duration::from_secs(3),
        }]
    );
    // Still running, then ended: within the interval, no second run.
    assert!(spawns(&disks.on_checked(0, Ok(95.0), t0 + Duration::from_secs(1))).is_empty());
    assert_eq!(
        disks.on_timer(kill_timer(0)),
        vec![Action::Signal {
            target: Target::Group(42),
            signal: Signal::KILL
        }]
    );
    let ended = disks
        .on_exited(42, ExitStatus::Signal(Signal::KILL))
        .unwrap();
    assert_eq!(
        steps(&ended),
        vec![(
            "disk:/var".to_string(),
            "critical".to_string(),
            "critical".to_string()
        )]
    );
    assert_eq!(disks.on_exited(42, ExitStatus::Signal(Signal::KILL)), None);
    assert!(spawns(&disks.on_checked(0, Ok(95.0), t0 + Duration::from_secs(9))).is_empty());
    assert_eq!(
        spawns(&disks.on_checked(0, Ok(95.0), t0 + Duration::from_secs(10))).len(),
        1
    );
}

#[test]
fn disk_ids_are_never_a_services() {
    use crate::service::{TimerKind, decode_spawn_token};
    for id in [tick_timer(0), kill_timer(7), spawn_token(3)] {
        assert!(is_disk_id(id));
        assert_eq!(TimerKind::decode(id), None);
        assert_eq!(decode_spawn_token(id), None);
    }
    assert!(!is_disk_id(TimerKind::Restart.id(100_000)));
}
