//! The `[log]` table of a unit, and `[log] default` of `phoenix.toml`: where a service's
//! output goes once Phoenix captures it (DESIGN.md §4.6). Parsing and checking only; the
//! capture itself is the shell's (`event_loop/logs.rs`), its decisions `logs/`'s.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use toml::Spanned;

use super::error::UnitError;

/// The longest line kept whole; a longer one is split at this many bytes.
pub const MAX_LINE_BYTES: usize = 16 * 1024;

/// The smallest `max-size`: room for a few of the longest lines, so that rotation always
/// makes progress and never splits a line across files.
pub const MIN_MAX_SIZE: u64 = 2 * MAX_LINE_BYTES as u64;

/// What becomes of a captured service's output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogConfig {
    /// Each line to Phoenix's stdout (stderr lines to its stderr) as `name | line`.
    pub console: bool,
    /// Each line appended here too.
    pub file: Option<PathBuf>,
    /// The file is rotated before it would grow past this many bytes.
    pub max_size: u64,
    /// Files kept, the live one included: `web.log`, `web.log.1` … `web.log.{keep-1}`.
    pub keep: u32,
    /// An RFC 3339 stamp at the start of each file line.
    pub timestamps: bool,
    /// Bytes of recent output kept in memory for `phoenixctl logs` (0: only the few lines
    /// the death tally shows).
    pub ring: usize,
}

impl Default for LogConfig {
    fn default() -> LogConfig {
        LogConfig {
            console: false,
            file: None,
            max_size: 10 * 1024 * 1024,
            keep: 5,
            timestamps: false,
            ring: 64 * 1024,
        }
    }
}

/// A `[log]` table, exactly as written.
#[derive(Debug, Default, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "a [log] table"
)]
pub struct RawLog {
    pub console: Option<bool>,
    pub file: Option<Spanned<PathBuf>>,
    pub max_size: Option<Spanned<Size>>,
    pub keep: Option<Spanned<i64>>,
    pub timestamps: Option<bool>,
    pub ring: Option<Spanned<Size>>,
}

/// A size in bytes: an integer, or a string like `"64KiB"`, `"10MiB"`, `"1GiB"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size(pub u64);

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SizeVisitor)
    }
}

struct SizeVisitor;

impl Visitor<'_> for SizeVisitor {
    type Value = Size;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a size like \"64KiB\", \"10MiB\" or a number of bytes")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Size, E> {
        parse_size(text).map(Size).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, number: i64) -> Result<Size, E> {
        u64::try_from(number).map(Size).map_err(|_| {
            E::custom(format!(
                "invalid size {number}: expected a size like \"64KiB\" or a number of bytes"
            ))
        })
    }

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<Size, E> {
        Ok(Size(number))
    }
}

/// `"512"`, `"512B"`, `"64KiB"`, `"10MiB"`, `"1GiB"` (K, M and G mean the same).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let invalid = || format!("invalid size '{text}': expected a size like \"64KiB\" or \"10MiB\"");
    let trimmed = text.trim();
    let digits = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(digits);
    let number: u64 = number.parse().map_err(|_| invalid())?;
    let factor: u64 = match unit.trim() {
        "" | "B" => 1,
        "K" | "KiB" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        _ => return Err(invalid()),
    };
    number.checked_mul(factor).ok_or_else(invalid)
}

impl RawLog {
    /// The config this table says; `file` is refused where `allow_file` is false (the
    /// system default, where one file for every service would interleave them).
    pub fn config(self, path: &Path, text: &str, allow_file: bool) -> Result<LogConfig, UnitError> {
        let at = |offset: usize, message: String| UnitError::at(path, text, offset, message);
        let defaults = LogConfig::default();
        let file = match self.file {
            Some(file) if !allow_file => {
                return Err(at(
                    file.span().start,
                    "invalid file in [log] default: a file is per service, set it in the unit's [log]"
                        .to_string(),
                ));
            }
            Some(file) if !file.get_ref().is_absolute() => {
                return Err(at(
                    file.span().start,
                    format!(
                        "invalid file '{}': expected an absolute path",
                        file.get_ref().display()
                    ),
                ));
            }
            file => file.map(Spanned::into_inner),
        };
        let max_size = match self.max_size {
            Some(size) if size.get_ref().0 < MIN_MAX_SIZE => {
                return Err(at(
                    size.span().start,
                    format!(
                        "invalid max-size {}: expected at least {MIN_MAX_SIZE} bytes (32KiB, two of the longest lines)",
                        size.get_ref().0
                    ),
                ));
            }
            size => size.map_or(defaults.max_size, |size| size.into_inner().0),
        };
        let keep = match self.keep {
            Some(keep) => u32::try_from(*keep.get_ref())
                .ok()
                .filter(|keep| (1..=1000).contains(keep))
                .ok_or_else(|| {
                    at(
                        keep.span().start,
                        format!(
                            "invalid keep {}: expected a number of files from 1 to 1000",
                            keep.get_ref()
                        ),
                    )
                })?,
            None => defaults.keep,
        };
        let ring = match self.ring {
            Some(ring) => usize::try_from(ring.get_ref().0)
                .ok()
                .filter(|bytes| *bytes <= 64 << 20)
                .ok_or_else(|| {
                    at(
                        ring.span().start,
                        format!("invalid ring {}: expected at most 64MiB", ring.get_ref().0),
                    )
                })?,
            None => defaults.ring,
        };
        Ok(LogConfig {
            console: self.console.unwrap_or(defaults.console),
            file,
            max_size,
            keep,
            timestamps: self.timestamps.unwrap_or(defaults.timestamps),
            ring,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<LogConfig, UnitError> {
        #[derive(Deserialize)]
        struct Wrapper {
            log: RawLog,
        }
        let path = Path::new("web.toml");
        let wrapper: Wrapper =
            toml::from_str(text).map_err(|error| UnitError::from_toml(path, text, &error))?;
        wrapper.log.config(path, text, true)
    }

    #[test]
    fn sizes_take_binary_units() {
        assert_eq!(parse_size("512"), Ok(512));
        assert_eq!(parse_size("64KiB"), Ok(64 * 1024));
        assert_eq!(parse_size("10MiB"), Ok(10 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert!(parse_size("ten").unwrap_err().contains("'ten'"));
        assert!(parse_size("5 parsecs").is_err());
        assert!(parse_size("99999999999999GiB").is_err());
    }

    #[test]
    fn a_full_table_is_read() {
        let config = parse(
            "[log]\nconsole = true\nfile = \"/var/log/web.log\"\nmax-size = \"1MiB\"\nkeep = 3\ntimestamps = true\nring = \"8KiB\"\n",
        )
        .unwrap();
        assert_eq!(
            config,
            LogConfig {
                console: true,
                file: Some("/var/log/web.log".into()),
                max_size: 1 << 20,
                keep: 3,
                timestamps: true,
                ring: 8192,
            }
        );
    }

    #[test]
    fn bad_values_are_located() {
        for (text, location, message) in [
            (
                "[log]\nmax-size = \"1KiB\"\n",
                ":2:12:",
                "invalid max-size 1024",
            ),
            ("[log]\nkeep = 0\n", ":2:8:", "invalid keep 0"),
            (
                "[log]\nfile = \"web.log\"\n",
                ":2:8:",
                "expected an absolute path",
            ),
            ("[log]\nring = \"lots\"\n", ":2:8:", "invalid size 'lots'"),
            ("[log]\nconsol = true\n", ":2:1:", "unknown field `consol`"),
        ] {
            let error = parse(text).unwrap_err().to_string();
            assert!(error.contains(location), "{text}: {error}");
            assert!(error.contains(message), "{text}: {error}");
        }
    }

    #[test]
    fn the_system_default_refuses_a_file() {
        let text = "[log]\nfile = \"/var/log/all.log\"\n";
        #[derive(Deserialize)]
        struct Wrapper {
            log: RawLog,
        }
        let wrapper: Wrapper = toml::from_str(text).unwrap();
        let error = wrapper
            .log
            .config(Path::new("phoenix.toml"), text, false)
            .unwrap_err();
        assert!(error.to_string().contains("phoenix.toml:2:8:"), "{error}");
    }
}
