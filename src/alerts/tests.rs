//! The alert decisions: threshold, cooldown and suppressed counts, and which records are
//! occurrences. Test-only.

use std::time::{Duration, Instant};

use super::*;
use crate::core::Action;
use crate::service::{State, Transition};

fn settings(threshold: u32, cooldown: Duration) -> AlertSettings {
    let policy = LevelPolicy {
        threshold,
        cooldown,
    };
    AlertSettings {
        exec: Some(vec!["/bin/true".into()]),
        critical: policy,
        warning: policy,
        info: policy,
        ..AlertSettings::default()
    }
}

fn failed(service: &str) -> Occurrence {
    Occurrence {
        kind: Kind::Failed,
        service: service.into(),
        summary: format!("{service}: failed"),
        incident: None,
        resolved: false,
        time_to_recover: None,
    }
}

fn transition(service: &str, from: State, to: State) -> Transition {
    Transition {
        service: service.into(),
        from,
        to,
        reason: "exit 1".into(),
        exit: None,
        restarts: 0,
        next_attempt: None,
        health: None,
        step: None,
    }
}

#[test]
fn nothing_is_decided_without_a_channel() {
    let mut alerts = Alerts::new(AlertSettings::default());
    assert_eq!(alerts.raise(failed("web"), Instant::now()), None);
}

#[test]
fn the_threshold_counts_occurrences_per_service_and_kind() {
    let now = Instant::now();
    let mut alerts = Alerts::new(settings(2, Duration::ZERO));
    assert_eq!(alerts.raise(failed("web"), now), None);
    assert_eq!(alerts.raise(failed("db"), now), None);
    let alert = alerts.raise(failed("web"), now).unwrap();
    assert_eq!(
        (alert.level, alert.kind, alert.suppressed),
        (Level::Critical, Kind::Failed, 0)
    );
}

#[test]
fn the_cooldown_suppresses_repeats_and_the_next_alert_counts_them() {
    let now = Instant::now();
    let cooldown = Duration::from_secs(60);
    let mut alerts = Alerts::new(settings(1, cooldown));
    assert!(alerts.raise(failed("web"), now).is_some());
    assert_eq!(
        alerts.raise(failed("web"), now + Duration::from_secs(1)),
        None
    );
    assert_eq!(
        alerts.raise(failed("web"), now + Duration::from_secs(2)),
        None
    );
    let alert = alerts.raise(failed("web"), now + cooldown).unwrap();
    assert_eq!(alert.suppressed, 2);
    assert_eq!(
        alerts
            .raise(failed("web"), now + cooldown * 3)
            .unwrap()
            .suppressed,
        0
    );
}

#[test]
fn records_become_occurrences_of_their_kind() {
    let mut alerts = Alerts::new(settings(1, Duration::ZERO));
    let rows = [
        (
            transition("web", State::Backoff, State::Failed),
            Some(Kind::Failed),
        ),
        (
            transition("web", State::Backoff, State::Cooldown),
            Some(Kind::CircuitOpen),
        ),
        (transition("web", State::Running, State::Backoff), None),
        (
            Transition {
                step: Some(("restart".into(), "safe-mode".into())),
                ..transition("web", State::Recovering, State::Recovering)
            },
            Some(Kind::RecoveryStep),
        ),
        (
            Transition {
                step: Some(("restart".into(), "restart".into())),
                ..transition("web", State::Recovering, State::Recovering)
            },
            None,
        ),
        (
            Transition {
                health: Some((
                    crate::health::Health::Healthy,
                    crate::health::Health::Unhealthy,
                )),
                ..transition("web", State::Running, State::Running)
            },
            Some(Kind::Unhealthy),
        ),
    ];
    for (record, expected) in rows {
        let found = alerts.occurrences(&[Action::Record(record.clone())]);
        assert_eq!(found.first().map(|o| o.kind), expected, "{record:?}");
    }
}

#[test]
fn an_incident_alerts_once_when_hung_and_once_when_closed() {
    use crate::recovery::{Detection, Incident, Outcome};
    let now = Instant::now();
    let mut alerts = Alerts::new(settings(1, Duration::ZERO));
    let mut incident = Incident::open(
        7,
        "web",
        Detection::Hung,
        "no heartbeat",
        Duration::ZERO,
        now,
    );
    let record = |incident: &Incident| Action::RecordIncident(Box::new(incident.clone()));
    let kinds = |found: Vec<Occurrence>| found.into_iter().map(|o| o.kind).collect::<Vec<_>>();
    assert_eq!(
        kinds(alerts.occurrences(&[record(&incident)])),
        [Kind::Hung]
    );
    assert_eq!(kinds(alerts.occurrences(&[record(&incident)])), []);
    incident.outcome = Some(Outcome::Recovered);
    incident.time_to_recover = Some(Duration::from_secs(3));
    let found = alerts.occurrences(&[record(&incident), record(&incident)]);
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].kind, found[0].incident, found[0].resolved),
        (Kind::Recovered, Some(7), true)
    );
    assert!(
        found[0].summary.contains("recovered in 3s"),
        "{}",
        found[0].summary
    );
}

#[test]
fn every_kind_has_an_alertmanager_name_and_bodies_parse() {
    let now = Instant::now();
    for kind in Kind::ALL {
        assert!(alertname(kind).starts_with("Phoenix"));
        let alert = Alert {
            level: kind.level(),
            service: "web".into(),
            kind,
            summary: "web: \"quoted\"".into(),
            at: now,
            incident: Some(3),
            resolved: kind == Kind::Recovered,
            time_to_recover: None,
            suppressed: 1,
        };
        let body: serde_json::Value = serde_json::from_str(&json_body(&alert, "T")).unwrap();
        assert_eq!(body["kind"], kind.name());
        let body: serde_json::Value =
            serde_json::from_str(&alertmanager_body(&alert, "T")).unwrap();
        assert_eq!(body[0]["labels"]["severity"], kind.level().name());
        assert_eq!(body[0]["labels"]["incident"], "3");
        assert_eq!(body[0].get("endsAt").is_some(), alert.resolved);
    }
}

#[test]
fn docs_list_exactly_the_kinds_and_their_levels() {
    let doc = include_str!("../../docs/observability.md");
    let documented: Vec<(String, String)> = doc
        .lines()
        .skip_while(|line| *line != "## Alerts")
        .skip(1)
        .take_while(|line| !line.starts_with("## "))
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            match cells.as_slice() {
                [_, kind, level, ..] if ["critical", "warning", "info"].contains(level) => {
                    Some((kind.to_string(), level.to_string()))
                }
                _ => None,
            }
        })
        .collect();
    let kinds: Vec<(String, String)> = Kind::ALL
        .iter()
        .map(|k| (k.name().to_string(), k.level().name().to_string()))
        .collect();
    assert_eq!(documented, kinds);
}

fn disk_change(from: &str, to: &str) -> Action {
    Action::Record(Transition {
        step: Some((from.into(), to.into())),
        ..transition("disk:/var", State::Running, State::Running)
    })
}

#[test]
fn a_disk_going_up_a_level_is_an_occurrence_and_back_to_ok_a_resolution() {
    let mut alerts = Alerts::new(settings(1, Duration::ZERO));
    let found = alerts.occurrences(&[
        disk_change("ok", "warning"),
        disk_change("warning", "critical"),
    ]);
    let kinds: Vec<Kind> = found.iter().map(|o| o.kind).collect();
    assert_eq!(kinds, [Kind::DiskWarning, Kind::DiskCritical]);
    assert_eq!(found[1].service, "disk:/var");
    // A hook's end is a "change" to the same level: nothing.
    assert!(
        alerts
            .occurrences(&[disk_change("critical", "critical")])
            .is_empty()
    );
    assert!(Alerts::resolutions(&[disk_change("critical", "critical")]).is_empty());
    assert_eq!(
        Alerts::resolutions(&[disk_change("critical", "ok")]),
        ["disk:/var".to_string()]
    );
}

#[test]
fn sent_warnings_fire_until_resolved_and_info_never_fires() {
    let now = Instant::now();
    let mut alerts = Alerts::new(settings(1, Duration::ZERO));
    let unhealthy = Occurrence {
        kind: Kind::Unhealthy,
        ..failed("web")
    };
    let recovered = Occurrence {
        kind: Kind::Recovered,
        ..failed("web")
    };
    alerts.raise(unhealthy.clone(), now).unwrap();
    alerts.raise(unhealthy, now).unwrap();
    alerts.raise(failed("db"), now).unwrap();
    alerts.raise(recovered, now).unwrap();
    assert_eq!(alerts.firing().len(), 2, "{:?}", alerts.firing());
    let resolved = alerts.resolve("web");
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0].kind, Kind::Unhealthy);
    assert!(alerts.resolve("web").is_empty());
    assert_eq!(alerts.firing()[0].service, "db");
}

#[test]
fn a_resolution_repeats_the_labels_the_alert_fired_with() {
    let now = Instant::now();
    let mut alerts = Alerts::new(settings(1, Duration::ZERO));
    let hung = Occurrence {
        kind: Kind::Hung,
        incident: Some(9),
        ..failed("web")
    };
    let alert = alerts.raise(hung, now).unwrap();
    let fired: serde_json::Value = serde_json::from_str(&alertmanager_body(&alert, "T0")).unwrap();
    let resolved = alerts.resolve("web");
    let body: serde_json::Value = serde_json::from_str(&alertmanager_resolution(
        &resolved,
        &["T0".to_string()],
        "T1",
    ))
    .unwrap();
    assert_eq!(body[0]["labels"], fired[0]["labels"]);
    assert_eq!(body[0]["startsAt"], "T0");
    assert_eq!(body[0]["endsAt"], "T1");
    assert!(fired[0].get("endsAt").is_none());
}

#[test]
fn the_state_carries_cooldowns_and_firing_alerts_to_the_next_run() {
    let now = Instant::now();
    let mut first = Alerts::new(settings(1, Duration::from_secs(3600)));
    first.raise(failed("web"), now).unwrap();
    assert!(first.take_changed());
    assert!(!first.take_changed());
    let mut second = Alerts::new(settings(1, Duration::from_secs(3600)));
    second.restore(first.state());
    assert!(!second.take_changed());
    assert_eq!(second.raise(failed("web"), now), None, "still cooling down");
    let later = now + Duration::from_secs(3601);
    let alert = second.raise(failed("web"), later).unwrap();
    assert_eq!(alert.suppressed, 1);
    assert_eq!(second.resolve("web").len(), 1);
}

#[test]
fn deferred_occurrences_come_first_with_the_next_step() {
    let mut alerts = Alerts::new(settings(1, Duration::ZERO));
    alerts.defer(Occurrence::corrupt_file("state.json is corrupt".into()));
    let found = alerts.occurrences(&[]);
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].kind, found[0].service.as_str()),
        (Kind::CorruptFile, "phoenix")
    );
    assert!(alerts.occurrences(&[]).is_empty());
}
