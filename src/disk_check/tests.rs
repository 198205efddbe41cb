//! Tests of `disk_check.rs`.
use super::*;

#[test]
fn thresholds_are_inclusive() {
    assert_eq!(level(0.0, 50.0, 80.0), Level::Ok);
    assert_eq!(level(49.9, 50.0, 80.0), Level::Ok);
    assert_eq!(level(50.0, 50.0, 80.0), Level::Warning);
    assert_eq!(level(79.99, 50.0, 80.0), Level::Warning);
    assert_eq!(level(80.0, 50.0, 80.0), Level::Critical);
    assert_eq!(level(100.0, 50.0, 80.0), Level::Critical);
}

#[test]
fn cleanup_runs_at_most_once_per_interval() {
    let t0 = Instant::now();
    let interval = Duration::from_secs(60);
    assert!(may_clean(Level::Critical, false, None, interval, t0));
    assert!(!may_clean(Level::Warning, false, None, interval, t0));
    assert!(!may_clean(Level::Critical, true, None, interval, t0));
    let soon = t0 + Duration::from_secs(59);
    assert!(!may_clean(Level::Critical, false, Some(t0), interval, soon));
    assert!(may_clean(
        Level::Critical,
        false,
        Some(t0),
        interval,
        t0 + interval
    ));
}
