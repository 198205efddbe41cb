//! The audit trail: every event record appended as one JSON line to `events.jsonl` in the
//! state directory, so that the recovery history survives a Phoenix restart, and the
//! wall-clock stamp records carry. The file itself (appending, rotation, torn lines, never
//! failing its caller) is the one JSON-lines type, [`crate::json_lines::JsonLines`].

use std::time::{SystemTime, UNIX_EPOCH};

use super::protocol::EventRecord;
use crate::json_lines::JsonLines;

/// The live file's name inside the state directory; rotated files add `.1`, `.2`, ….
pub const FILE_NAME: &str = "events.jsonl";

/// `events.jsonl`, rotated by `event-log-max-bytes` and `event-log-keep`.
pub type EventLog = JsonLines<EventRecord>;

/// `2026-11-22T10:31:05.123Z`: UTC, millisecond precision; instants before 1970 count back.
pub fn format_rfc3339(time: SystemTime) -> String {
    let millis: i128 = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => after.as_millis() as i128,
        Err(before) => -(before.duration().as_millis() as i128),
    };
    let seconds = millis.div_euclid(1000);
    let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60,
        millis.rem_euclid(1000)
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `civil_from_days`):
/// count in 400-year eras starting on March 1st so that the leap day ends the year.
fn civil_from_days(days: i128) -> (i128, u32, u32) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i128::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;
    use std::time::Duration;

    fn record(index: u32) -> EventRecord {
        EventRecord {
            time: format_rfc3339(UNIX_EPOCH + Duration::from_secs(u64::from(index))),
            service: "web".into(),
            from: "running".into(),
            to: "backoff".into(),
            reason: format!("exit {index}"),
            exit: Some("exit 1".into()),
            restarts: index,
            next_attempt_ms: Some(1000),
            kind: None,
        }
    }

    fn line_len() -> u64 {
        serde_json::to_vec(&record(10)).unwrap().len() as u64 + 1
    }

    fn files_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn rotation_keeps_exactly_keep_files_and_history_stays_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        // Three records per file; 40 records make many more files than are kept.
        let mut log = EventLog::new(&path, 3 * line_len(), 4);
        for index in 10..50 {
            log.append(&record(index));
        }
        assert_eq!(
            files_in(dir.path()),
            [
                "events.jsonl",
                "events.jsonl.1",
                "events.jsonl.2",
                "events.jsonl.3"
            ]
        );
        let restarts: Vec<u32> = log.history().iter().map(|r| r.restarts).collect();
        // 40 records, 3 per file: the live file holds 49, the three rotated ones 40 to 48.
        assert_eq!(restarts, (40..50).collect::<Vec<_>>());
        for file in files_in(dir.path()) {
            assert!(std::fs::metadata(dir.path().join(file)).unwrap().len() <= 3 * line_len());
        }
    }

    #[test]
    fn history_survives_reopening_and_appends_continue_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let mut log = EventLog::new(&path, 1 << 20, 3);
        log.append(&record(1));
        log.append(&record(2));
        drop(log);
        let mut log = EventLog::new(&path, 1 << 20, 3);
        assert_eq!(log.history(), [record(1), record(2)]);
        log.append(&record(3));
        assert_eq!(log.history(), [record(1), record(2), record(3)]);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_torn_line_is_skipped_and_the_next_record_starts_a_new_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, b"{\"time\":\"19").unwrap();
        let mut log = EventLog::new(&path, 1 << 20, 2);
        log.append(&record(7));
        assert_eq!(log.history(), [record(7)]);
    }

    #[test]
    fn keep_one_truncates_instead_of_rotating() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let mut log = EventLog::new(&path, 2 * line_len(), 1);
        for index in 10..15 {
            log.append(&record(index));
        }
        assert_eq!(files_in(dir.path()), ["events.jsonl"]);
        assert_eq!(log.history(), [record(14)]);
    }

    #[test]
    fn an_unwritable_path_degrades_without_failing() {
        let dir = tempfile::tempdir().unwrap();
        // A regular file where the state directory should be: not even root can write below.
        let blocker = dir.path().join("state");
        std::fs::write(&blocker, b"").unwrap();
        let mut log = EventLog::new(blocker.join(FILE_NAME), 1 << 20, 3);
        log.append(&record(1));
        assert!(log.is_failing());
        log.append(&record(2));
        assert!(log.history().is_empty());
        // Once the directory can be created, recording resumes.
        std::fs::remove_file(&blocker).unwrap();
        log.append(&record(3));
        assert!(!log.is_failing());
        assert_eq!(log.history(), [record(3)]);
    }

    #[test]
    fn formats_known_instants() {
        for (millis, expected) in [
            (0, "1970-01-01T00:00:00.000Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"),
            (1_709_208_000_500, "2024-02-29T12:00:00.500Z"),
            (1_709_251_199_999, "2024-02-29T23:59:59.999Z"),
            (1_709_251_200_000, "2024-03-01T00:00:00.000Z"),
            (1_795_343_465_123, "2026-11-22T10:31:05.123Z"),
            (1_767_225_599_000, "2025-12-31T23:59:59.000Z"),
        ] {
            let time = UNIX_EPOCH + Duration::from_millis(millis);
            assert_eq!(format_rfc3339(time), expected, "{millis}");
        }
        let before = UNIX_EPOCH - Duration::from_millis(1);
        assert_eq!(format_rfc3339(before), "1969-12-31T23:59:59.999Z");
    }
}
