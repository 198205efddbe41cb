//! A service handed over and resumed: everything the next image needs comes back, and a
//! live program is watched again without being started.

use std::time::Duration;

use super::*;
use crate::unit::parse_unit;

fn unit() -> crate::unit::Unit {
    let text = "command = \"web\"\n[restart]\nmax-failures = 3\ncooldown = \"1m\"\n[health]\ncheck = \"tcp\"\naddress = \"127.0.0.1:1\"\n[recovery]\nsteps = [\"safe-mode\"]\nsafe-mode = { command = \"web --safe\" }\n";
    parse_unit("web", std::path::Path::new("web.toml"), text).unwrap()
}

#[test]
fn a_running_service_carries_its_pid_budget_incident_and_ladder_over() {
    let now = crate::testing::now();
    let mut old = Service::new(0, unit());
    old.start("test");
    old.on_spawned(41, now);
    old.on_exit(ExitStatus::Code(1), now + Duration::from_secs(2));
    // With group stop mode the death waits for the sweep: an empty group ends it.
    old.on_group_checked(41, 0, now + Duration::from_secs(2));
    old.on_spawned(42, now + Duration::from_secs(3));
    old.ladder.mode = Mode::SafeMode;
    let later = now + Duration::from_secs(10);
    let record = old.hand_off(later);
    let json = serde_json::to_string(&record).unwrap();
    let record: ServiceHandoff = serde_json::from_str(&json).unwrap();

    let mut new = Service::new(0, unit());
    let resumed_at = later + Duration::from_millis(5);
    let actions = new.resume(&record, resumed_at);
    assert_eq!(new.pid, Some(42));
    assert_eq!(new.state, State::Running);
    assert_eq!(new.restarts, old.restarts);
    assert_eq!(new.budget.consecutive, old.budget.consecutive);
    assert_eq!(new.budget.failures().count(), 1);
    assert_eq!(new.deaths.len(), 1);
    assert_eq!(
        new.incident.as_ref().map(|i| i.id),
        old.incident.as_ref().map(|i| i.id)
    );
    assert_eq!(new.ladder.mode, Mode::SafeMode);
    assert!(
        !actions.iter().any(|a| matches!(a, Action::Spawn { .. })),
        "nothing is started again: {actions:?}"
    );
    let probe = TimerKind::Probe.id(0);
    assert!(
        actions
            .iter()
            .any(|a| matches!(a, Action::ArmTimer { timer, .. } if *timer == probe))
    );
}

#[test]
fn a_service_waiting_out_a_delay_or_a_cooldown_keeps_its_deadline() {
    let now = crate::testing::now();
    let mut old = Service::new(0, unit());
    old.state = State::Cooldown;
    old.budget.circuit = Circuit::Open {
        until: now + Duration::from_secs(40),
        cooldown: Duration::from_secs(60),
    };
    old.next_attempt = Some(now + Duration::from_secs(40));
    let record = old.hand_off(now);
    let mut new = Service::new(0, unit());
    let actions = new.resume(&record, now);
    assert_eq!(new.state, State::Cooldown);
    let restart = TimerKind::Restart.id(0);
    assert_eq!(
        actions,
        [Action::ArmTimer {
            timer: restart,
            deadline: now + Duration::from_secs(40)
        }]
    );
    assert!(matches!(new.budget.circuit, Circuit::Open { .. }));
}

#[test]
fn a_state_the_handoff_cannot_carry_resumes_down() {
    let now = crate::testing::now();
    let mut record = Service::new(0, unit()).hand_off(now);
    record.state = "recovering".into();
    record.pid = None;
    let mut new = Service::new(0, unit());
    assert!(new.resume(&record, now).is_empty());
    assert_eq!(new.state, State::Down);
    record.state = "no such state".into();
    new.resume(&record, now);
    assert_eq!(new.state, State::Down);
}
