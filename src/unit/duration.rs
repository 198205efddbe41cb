//! Human durations as units and flags write them: `"250ms"`, `"5s"`, `"2m"`, `"1h"`, and
//! sums such as `"1m30s"`. A bare number is an error: `timeout = 10` could mean seconds or
//! milliseconds, and guessing wrong is worse than asking.

use std::fmt;
use std::time::Duration;

/// Why a duration could not be parsed; keeps the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseDurationError {
    pub input: String,
    /// It parsed, but is longer than [`MAX_DURATION`].
    pub too_long: bool,
}

/// The longest duration accepted: a hundred years. Deadlines are instants, and an instant
/// too far away cannot be represented (adding it would panic PID 1).
pub const MAX_DURATION: Duration = Duration::from_secs(100 * 365 * 86_400);

impl fmt::Display for ParseDurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.too_long {
            return write!(
                f,
                "invalid duration '{}': longer than the limit of 100 years",
                self.input
            );
        }
        write!(
            f,
            "invalid duration '{}': expected a number with a unit, like \"250ms\", \"5s\", \"2m\", \"1h\" or \"1m30s\"",
            self.input
        )
    }
}

impl std::error::Error for ParseDurationError {}

/// Parses `"250ms"`, `"5s"`, `"2m"`, `"1h"`, `"1d"`, `"1.5s"` and sums like `"1h30m"`.
pub fn parse_duration(input: &str) -> Result<Duration, ParseDurationError> {
    let error = || ParseDurationError {
        input: input.to_string(),
        too_long: false,
    };
    let mut rest = input.trim();
    if rest.is_empty() {
        return Err(error());
    }
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(error)?;
        let (number, after) = rest.split_at(number_end);
        let unit_end = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_end);
        let millis = unit_millis(unit.trim()).ok_or_else(error)?;
        let part = part_of(number, millis).ok_or_else(error)?;
        total = total.checked_add(part).ok_or_else(error)?;
        rest = after.trim_start();
    }
    if total > MAX_DURATION {
        return Err(ParseDurationError {
            input: input.to_string(),
            too_long: true,
        });
    }
    Ok(total)
}

/// `number` of a unit `millis` milliseconds long. A whole number is exact (integer
/// arithmetic): through `f64`, `86836949666ms` came out 9ns longer than it says.
fn part_of(number: &str, millis: u64) -> Option<Duration> {
    let exact = number
        .parse::<u64>()
        .ok()
        .and_then(|whole| whole.checked_mul(millis));
    if let Some(total) = exact {
        return Some(Duration::from_millis(total));
    }
    let value: f64 = number.parse().ok()?;
    Duration::try_from_secs_f64(value * millis as f64 / 1000.0).ok()
}

fn unit_millis(unit: &str) -> Option<u64> {
    Some(match unit {
        "ms" => 1,
        "s" | "sec" => 1000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    })
}

/// Formats a duration the way it is written in units: `250ms`, `5s`, `2m`, `1h30m`.
pub fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis == 0 {
        return "0s".to_string();
    }
    if millis % 1000 != 0 {
        return format!("{millis}ms");
    }
    let mut seconds = millis / 1000;
    let mut out = String::new();
    for (unit, size) in [("h", 3600), ("m", 60), ("s", 1)] {
        if seconds >= size {
            out.push_str(&format!("{}{unit}", seconds / size));
            seconds %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_unit() {
        for (input, expected) in [
            ("250ms", Duration::from_millis(250)),
            ("5s", Duration::from_secs(5)),
            ("2m", Duration::from_secs(120)),
            ("1h", Duration::from_secs(3600)),
            ("1d", Duration::from_secs(86400)),
            ("1.5s", Duration::from_millis(1500)),
            ("1m30s", Duration::from_secs(90)),
            ("1h 30m", Duration::from_secs(5400)),
            ("0s", Duration::ZERO),
            (" 10s ", Duration::from_secs(10)),
        ] {
            assert_eq!(parse_duration(input), Ok(expected), "{input}");
        }
    }

    #[test]
    fn rejects_bare_numbers_and_unknown_units() {
        for input in [
            "",
            "10",
            "5 parsecs",
            "s",
            "ms5",
            "-1s",
            "1.2.3s",
            "5S",
            "1e400s",
        ] {
            let error = parse_duration(input).unwrap_err();
            assert_eq!(error.input, input);
            assert!(error.to_string().contains("expected a number with a unit"));
        }
    }

    #[test]
    fn formats_round_trip() {
        for input in ["250ms", "5s", "2m", "1h", "1h30m", "1m5s", "0s"] {
            let duration = parse_duration(input).unwrap();
            assert_eq!(format_duration(duration), input);
        }
    }

    /// Found by the `duration` fuzz target: whole numbers went through `f64`, so a
    /// duration `format_duration` printed did not parse back to itself.
    #[test]
    fn fuzz_whole_milliseconds_parse_exactly_and_round_trip() {
        let duration = parse_duration("86836949666ms").unwrap();
        assert_eq!(duration, Duration::from_millis(86_836_949_666));
        assert_eq!(parse_duration(&format_duration(duration)), Ok(duration));
        assert_eq!(
            parse_duration("3d7h1ms"),
            Ok(Duration::from_millis(284_400_001))
        );
    }

    /// A deadline that far away would overflow an instant and panic PID 1.
    #[test]
    fn durations_past_a_hundred_years_are_refused() {
        assert_eq!(parse_duration("36500d"), Ok(MAX_DURATION));
        let error = parse_duration("10000000000000000000s").unwrap_err();
        assert!(error.too_long);
        assert_eq!(
            error.to_string(),
            "invalid duration '10000000000000000000s': longer than the limit of 100 years"
        );
        assert!(parse_duration("36501d").is_err());
    }
}
