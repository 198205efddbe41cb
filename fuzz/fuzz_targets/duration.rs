//! Durations (`1m30s`, `250ms`): whatever parses prints (to the millisecond, as errors
//! and `phoenixctl` show durations) as text that parses back to the same milliseconds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phoenix::unit::{format_duration, parse_duration};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_duration(text) {
        Ok(duration) => {
            let printed = format_duration(duration);
            let millis = std::time::Duration::from_millis(
                u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
            );
            assert_eq!(parse_duration(&printed).ok(), Some(millis), "{printed}");
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
});
