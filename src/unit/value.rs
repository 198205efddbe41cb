//! The checked value types unit files are written in: durations, signals, umasks,
//! commands, environment files, names, bounded numbers and tables. Each rejects a bad value
//! while it is being deserialized, so the toml crate reports the value's own line and column.

use std::fmt;
use std::marker::PhantomData;
use std::path::PathBuf;
use std::time::Duration;

use serde::de::{self, Deserialize, Deserializer, SeqAccess, Visitor};

use super::duration::parse_duration;
use super::model::{Command, EnvironmentFile, is_valid_name};
use super::signal::Signal;

/// Deserializes a `T`, then checks or converts it with `check`, whose error message
/// becomes the deserializer's error at the value.
pub(super) fn checked<'de, D, T, U, F>(deserializer: D, check: F) -> Result<U, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
    F: FnOnce(T) -> Result<U, String>,
{
    // Going through a newtype keeps the check inside the deserializer's call, so the toml
    // crate attaches the value's own span rather than its enclosing array's or table's.
    deserializer.deserialize_newtype_struct(
        "checked",
        CheckedVisitor {
            check,
            marker: PhantomData,
        },
    )
}

struct CheckedVisitor<T, F> {
    check: F,
    marker: PhantomData<T>,
}

impl<'de, T, U, F> Visitor<'de> for CheckedVisitor<T, F>
where
    T: Deserialize<'de>,
    F: FnOnce(T) -> Result<U, String>,
{
    type Value = U;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, deserializer: D) -> Result<U, D::Error> {
        (self.check)(T::deserialize(deserializer)?).map_err(de::Error::custom)
    }
}

/// A table and nothing else. Serde's derived structs also take an array of their fields in
/// order, so `safe-mode = ["web", "--safe"]` would be read as a table; a strict file must not.
#[derive(Debug)]
pub struct TableOnly<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for TableOnly<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(TableVisitor(PhantomData))
    }
}

struct TableVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for TableVisitor<T> {
    type Value = TableOnly<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a table")
    }

    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<TableOnly<T>, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map)).map(TableOnly)
    }
}

/// A duration written as a string: `"5s"`. A bare number is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DurationValue(pub Duration);

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DurationVisitor)
    }
}

struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = DurationValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration string like \"250ms\", \"5s\", \"2m\" or \"1h\"")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<DurationValue, E> {
        parse_duration(text)
            .map(DurationValue)
            .map_err(|error| E::custom(error))
    }

    fn visit_i64<E: de::Error>(self, number: i64) -> Result<DurationValue, E> {
        Err(E::custom(format!(
            "invalid duration {number}: a bare number is ambiguous, expected a string with a unit like \"{number}s\" or \"{number}ms\""
        )))
    }

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<DurationValue, E> {
        self.visit_i64(i64::try_from(number).unwrap_or(i64::MAX))
    }

    fn visit_f64<E: de::Error>(self, number: f64) -> Result<DurationValue, E> {
        Err(E::custom(format!(
            "invalid duration {number}: a bare number is ambiguous, expected a string with a unit like \"{number}s\""
        )))
    }
}

/// A signal as a name (`"SIGTERM"`, `"TERM"`, `"RTMIN+3"`) or a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignalValue(pub Signal);

impl<'de> Deserialize<'de> for SignalValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SignalVisitor)
    }
}

struct SignalVisitor;

impl Visitor<'_> for SignalVisitor {
    type Value = SignalValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a signal name like \"SIGTERM\" or a signal number")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<SignalValue, E> {
        text.parse().map(SignalValue).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, number: i64) -> Result<SignalValue, E> {
        self.visit_str(&number.to_string())
    }

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<SignalValue, E> {
        self.visit_str(&number.to_string())
    }
}

/// A file mode creation mask written as an octal string: `"0022"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Umask(pub u32);

impl<'de> Deserialize<'de> for Umask {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        checked(deserializer, |text: String| {
            let is_octal = !text.is_empty() && text.chars().all(|c| c.is_digit(8));
            u32::from_str_radix(&text, 8)
                .ok()
                .filter(|mask| is_octal && *mask <= 0o777)
                .map(Umask)
                .ok_or_else(|| {
                    format!("invalid umask '{text}': expected an octal string from \"0000\" to \"0777\", like \"0022\"")
                })
        })
    }
}

/// `command`: an argv array (PATH lookup) or a string run by `/bin/sh -c`; never empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandValue(pub Command);

impl<'de> Deserialize<'de> for CommandValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CommandVisitor)
    }
}

struct CommandVisitor;

impl<'de> Visitor<'de> for CommandVisitor {
    type Value = CommandValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of strings (argv) or a string (run by /bin/sh -c)")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<CommandValue, E> {
        if text.trim().is_empty() {
            return Err(E::custom(
                "empty command: expected a shell command line like \"exec web --port 8080\"",
            ));
        }
        Ok(CommandValue(Command::Shell(text.to_string())))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<CommandValue, A::Error> {
        let mut argv = Vec::new();
        while let Some(argument) = seq.next_element::<String>()? {
            argv.push(argument);
        }
        match argv.first() {
            Some(program) if !program.is_empty() => Ok(CommandValue(Command::Argv(argv))),
            _ => Err(de::Error::custom(
                "empty command: expected an argv array whose first element names the program, like [\"/usr/bin/web\", \"--port\", \"8080\"]",
            )),
        }
    }
}

/// An environment file path; a leading `-` makes it optional.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvironmentFileValue(pub EnvironmentFile);

impl<'de> Deserialize<'de> for EnvironmentFileValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        checked(deserializer, |text: String| {
            let (optional, path) = match text.strip_prefix('-') {
                Some(path) => (true, path),
                None => (false, text.as_str()),
            };
            if !path.starts_with('/') {
                return Err(format!(
                    "invalid environment file '{text}': expected an absolute path, optionally with a leading \"-\", like \"-/etc/default/web\""
                ));
            }
            Ok(EnvironmentFileValue(EnvironmentFile {
                path: PathBuf::from(path),
                optional,
            }))
        })
    }
}

/// An environment variable name: not empty, no `=` and no NUL.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct VariableName(pub String);

impl<'de> Deserialize<'de> for VariableName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        checked(deserializer, |name: String| {
            if name.is_empty() || name.contains(['=', '\0']) {
                return Err(format!(
                    "invalid environment variable name '{name}': expected a non-empty name without '=' or NUL"
                ));
            }
            Ok(VariableName(name))
        })
    }
}

/// The name of another unit, as written in `after`, `requires` and `wants`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitName(pub String);

impl<'de> Deserialize<'de> for UnitName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        checked(deserializer, |name: String| {
            if !is_valid_name(&name) {
                return Err(format!(
                    "invalid unit name '{name}': expected letters, digits and _ . @ - only"
                ));
            }
            Ok(UnitName(name))
        })
    }
}

/// The name of a supervision group, in `supervision-group` and `[groups.NAME]`: the same
/// characters as a unit name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct GroupName(pub String);

impl<'de> Deserialize<'de> for GroupName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        checked(deserializer, |name: String| {
            if !is_valid_name(&name) {
                return Err(format!(
                    "invalid supervision group name '{name}': expected letters, digits and _ . @ - only"
                ));
            }
            Ok(GroupName(name))
        })
    }
}

/// `multiplier`: at least 1, so delays never shrink.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Multiplier(pub f64);

impl<'de> Deserialize<'de> for Multiplier {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        checked(deserializer, |value: f64| match value {
            v if v.is_finite() && v >= 1.0 => Ok(Multiplier(v)),
            v => Err(format!(
                "invalid multiplier {v}: expected a number of at least 1.0"
            )),
        })
    }
}

/// `jitter`: a fraction in `0 ≤ jitter < 1`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Jitter(pub f64);

impl<'de> Deserialize<'de> for Jitter {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        checked(deserializer, |value: f64| match value {
            v if (0.0..1.0).contains(&v) => Ok(Jitter(v)),
            v => Err(format!(
                "invalid jitter {v}: expected a fraction from 0.0 up to (not including) 1.0"
            )),
        })
    }
}

/// `max-failures`: at least 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxFailures(pub u32);

impl<'de> Deserialize<'de> for MaxFailures {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        checked(deserializer, |value: i64| {
            u32::try_from(value)
                .ok()
                .filter(|n| *n >= 1)
                .map(MaxFailures)
                .ok_or_else(|| {
                    format!("invalid max-failures {value}: expected a whole number of at least 1")
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Probe {
        duration: Option<DurationValue>,
        signal: Option<SignalValue>,
    }

    fn probe(text: &str) -> Result<Probe, String> {
        toml::from_str(text).map_err(|error: toml::de::Error| error.message().to_string())
    }

    #[test]
    fn durations_are_strings_with_units() {
        let parsed = probe("duration = \"1m30s\"").unwrap();
        assert_eq!(
            parsed.duration,
            Some(DurationValue(Duration::from_secs(90)))
        );
        for bare in ["duration = 10", "duration = 1.5"] {
            let error = probe(bare).unwrap_err();
            assert!(error.contains("a bare number is ambiguous"), "{error}");
        }
        let error = probe("duration = true").unwrap_err();
        assert!(error.contains("expected a duration string"), "{error}");
    }

    #[test]
    fn signals_are_names_or_numbers() {
        assert_eq!(
            probe("signal = 9").unwrap().signal,
            Some(SignalValue(Signal::KILL))
        );
        assert_eq!(
            probe("signal = \"SIGUSR1\"").unwrap().signal,
            Some(SignalValue(Signal::USR1))
        );
        let error = probe("signal = 99").unwrap_err();
        assert!(error.contains("invalid signal '99'"), "{error}");
    }
}
