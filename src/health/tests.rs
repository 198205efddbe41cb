//! The health state machine, table-driven: probe outcomes in, health changes out, only at
//! the thresholds; and a property test that no sequence of outcomes breaks that.

use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::*;

fn thresholds() -> Thresholds {
    Thresholds {
        start_period: Duration::from_secs(5),
        failure_threshold: 3,
        success_threshold: 2,
        degraded_after: Some(Duration::from_secs(1)),
    }
}

const FAST: ProbeOutcome = Ok(Duration::from_millis(10));
const SLOW: ProbeOutcome = Ok(Duration::from_secs(2));

fn failed() -> ProbeOutcome {
    Err("HTTP 503".to_string())
}

/// Feeds `outcomes` one second apart from `start` seconds after ready; the health after each.
fn run(start: u64, outcomes: &[ProbeOutcome]) -> Vec<Health> {
    let ready = crate::testing::now();
    let mut tracker = HealthTracker::new(thresholds(), ready);
    outcomes
        .iter()
        .enumerate()
        .map(|(n, outcome)| {
            let at = ready + Duration::from_secs(start + n as u64);
            tracker.record(outcome.clone(), at);
            tracker.health()
        })
        .collect()
}

#[test]
fn health_changes_at_the_thresholds() {
    use Health::*;
    let rows: Vec<(&str, u64, Vec<ProbeOutcome>, Vec<Health>)> = vec![
        ("first success", 10, vec![FAST], vec![Healthy]),
        (
            "slow success",
            10,
            vec![SLOW, FAST],
            vec![Degraded, Healthy],
        ),
        (
            "three failures make it unhealthy",
            10,
            vec![FAST, failed(), failed(), failed()],
            vec![Healthy, Healthy, Healthy, Unhealthy],
        ),
        (
            "a success in between resets the count",
            10,
            vec![failed(), failed(), FAST, failed(), failed()],
            vec![Unknown, Unknown, Healthy, Healthy, Healthy],
        ),
        (
            "two successes make it healthy again",
            10,
            vec![failed(), failed(), failed(), FAST, FAST],
            vec![Unknown, Unknown, Unhealthy, Unhealthy, Healthy],
        ),
        (
            "failures in the start period do not count",
            0,
            vec![failed(), failed(), failed(), failed(), failed(), failed()],
            vec![Unknown, Unknown, Unknown, Unknown, Unknown, Unknown],
        ),
        (
            "but the ones after it do",
            3,
            vec![failed(), failed(), failed(), failed(), failed()],
            vec![Unknown, Unknown, Unknown, Unknown, Unhealthy],
        ),
        (
            "a success in the start period counts",
            0,
            vec![FAST],
            vec![Healthy],
        ),
        (
            "slow after unhealthy needs the success threshold too",
            10,
            vec![failed(), failed(), failed(), SLOW, SLOW],
            vec![Unknown, Unknown, Unhealthy, Unhealthy, Degraded],
        ),
    ];
    for (what, start, outcomes, expected) in rows {
        assert_eq!(run(start, &outcomes), expected, "{what}");
    }
}

#[test]
fn changes_name_their_reason() {
    let ready = crate::testing::now();
    let mut tracker = HealthTracker::new(thresholds(), ready);
    let later = ready + Duration::from_secs(60);
    tracker.record(FAST, later);
    tracker.record(failed(), later);
    tracker.record(failed(), later);
    let change = tracker.record(failed(), later).unwrap();
    assert_eq!(
        (change.from, change.to, change.reason.as_str()),
        (
            Health::Healthy,
            Health::Unhealthy,
            "3 probe(s) failed: HTTP 503"
        )
    );
    assert_eq!(tracker.failing_since(), Some(later));
    assert_eq!(tracker.last_failure(), Some("HTTP 503"));
}

fn outcome() -> impl Strategy<Value = ProbeOutcome> {
    prop_oneof![
        (0u64..3000).prop_map(|ms| Ok(Duration::from_millis(ms))),
        "[a-z ]{0,12}".prop_map(Err),
    ]
}

proptest! {
    /// Whatever the outcomes: a change always changes something, unhealthy comes only
    /// after `failure-threshold` counted failures in a row, and healthy again only after
    /// `success-threshold` successes.
    #[test]
    fn health_changes_only_at_thresholds(
        outcomes in proptest::collection::vec((outcome(), 0u64..4), 0..60),
    ) {
        let ready = Instant::now();
        let limits = thresholds();
        let mut tracker = HealthTracker::new(limits.clone(), ready);
        let mut at = ready;
        let (mut failures, mut successes) = (0u32, 0u32);
        for (outcome, step) in outcomes {
            at += Duration::from_secs(step);
            let counted = at.saturating_duration_since(ready) >= limits.start_period;
            match &outcome {
                Ok(_) => { successes += 1; failures = 0; }
                Err(_) => { successes = 0; if counted { failures += 1; } }
            }
            let before = tracker.health();
            if let Some(change) = tracker.record(outcome, at) {
                prop_assert_ne!(change.from, change.to);
                prop_assert_eq!(change.from, before);
                if change.to == Health::Unhealthy {
                    prop_assert!(failures >= limits.failure_threshold);
                }
                if before == Health::Unhealthy {
                    prop_assert!(successes >= limits.success_threshold);
                }
            }
        }
    }
}
