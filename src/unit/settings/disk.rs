//! The `[[disk]]` tables of `phoenix.toml`: which paths have their usage checked, the
//! warning and critical thresholds, and the cleanup hook run at critical. Parsing only;
//! whether the path exists is the shell's to tell (`config_file`), at the offset kept
//! here, and the checks are the supervisor's (`supervisor/disks.rs`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::super::error::UnitError;
use super::super::value::DurationValue;

/// One `[[disk]]` check (DESIGN.md §7).
#[derive(Clone, Debug, PartialEq)]
pub struct DiskSettings {
    pub path: PathBuf,
    /// Where `path` is written in the file (a byte offset), for an error at its line.
    pub offset: usize,
    /// Percent used at which the disk is at warning; below `critical`.
    pub warning: f64,
    pub critical: f64,
    /// Run at critical, at most once per `interval`; none: nothing runs.
    pub cleanup: Option<Vec<String>>,
    pub interval: Duration,
    /// The cleanup hook is killed after this.
    pub cleanup_timeout: Duration,
}

impl Eq for DiskSettings {}

/// A `[[disk]]` table, exactly as written.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "a [[disk]] table"
)]
pub(super) struct RawDisk {
    path: Spanned<PathBuf>,
    warning: Spanned<String>,
    critical: Spanned<String>,
    cleanup: Option<Spanned<Vec<String>>>,
    interval: Option<Spanned<DurationValue>>,
    cleanup_timeout: Option<Spanned<DurationValue>>,
}

impl RawDisk {
    pub(super) fn settings(self, path: &Path, text: &str) -> Result<DiskSettings, UnitError> {
        let at = |offset: usize, message: String| UnitError::at(path, text, offset, message);
        if !self.path.get_ref().is_absolute() {
            return Err(at(
                self.path.span().start,
                format!(
                    "invalid path '{}': expected an absolute path",
                    self.path.get_ref().display()
                ),
            ));
        }
        let percent = |key: &str, value: &Spanned<String>| {
            parse_percent(value.get_ref()).ok_or_else(|| {
                at(
                    value.span().start,
                    format!(
                        "invalid {key} '{}': expected a percentage like \"85%\"",
                        value.get_ref()
                    ),
                )
            })
        };
        let warning = percent("warning", &self.warning)?;
        let critical = percent("critical", &self.critical)?;
        if warning >= critical {
            return Err(at(
                self.warning.span().start,
                format!(
                    "invalid warning '{}': expected below critical '{}'",
                    self.warning.get_ref(),
                    self.critical.get_ref()
                ),
            ));
        }
        let cleanup = match self.cleanup {
            Some(argv) if argv.get_ref().is_empty() => {
                return Err(at(
                    argv.span().start,
                    "invalid cleanup []: expected a program and its arguments".to_string(),
                ));
            }
            argv => argv.map(Spanned::into_inner),
        };
        let above_zero = |key: &str, value: Option<Spanned<DurationValue>>| match value {
            Some(value) if value.get_ref().0.is_zero() => Err(at(
                value.span().start,
                format!("invalid {key} 0s: expected a duration above zero"),
            )),
            value => Ok(value.map_or(Duration::from_secs(60), |v| v.into_inner().0)),
        };
        Ok(DiskSettings {
            offset: self.path.span().start,
            path: self.path.into_inner(),
            warning,
            critical,
            cleanup,
            interval: above_zero("interval", self.interval)?,
            cleanup_timeout: above_zero("cleanup-timeout", self.cleanup_timeout)?,
        })
    }
}

/// "85%" or "12.5%" → 85.0 or 12.5; from 0 to 100.
fn parse_percent(text: &str) -> Option<f64> {
    let number: f64 = text.strip_suffix('%')?.trim().parse().ok()?;
    (number.is_finite() && (0.0..=100.0).contains(&number)).then_some(number)
}

#[cfg(test)]
mod tests {
    use super::super::parse_settings;
    use super::*;

    fn parse(text: &str) -> Result<Vec<DiskSettings>, UnitError> {
        parse_settings(Path::new("/etc/phoenix/phoenix.toml"), text).map(|s| s.disks)
    }

    #[test]
    fn parses_every_key_and_defaults_the_rest() {
        let disks = parse(
            "[[disk]]\npath = \"/var\"\nwarning = \"85%\"\ncritical = \"95.5%\"\ncleanup = [\"/bin/clean\", \"-v\"]\ninterval = \"200ms\"\ncleanup-timeout = \"5s\"\n[[disk]]\npath = \"/\"\nwarning = \"1%\"\ncritical = \"2%\"\n",
        )
        .unwrap();
        assert_eq!(disks.len(), 2);
        assert_eq!(
            disks[0],
            DiskSettings {
                path: PathBuf::from("/var"),
                offset: 16,
                warning: 85.0,
                critical: 95.5,
                cleanup: Some(vec!["/bin/clean".to_string(), "-v".to_string()]),
                interval: Duration::from_millis(200),
                cleanup_timeout: Duration::from_secs(5),
            }
        );
        assert_eq!(disks[1].cleanup, None);
        assert_eq!(disks[1].interval, Duration::from_secs(60));
        assert_eq!(disks[1].cleanup_timeout, Duration::from_secs(60));
        assert_eq!(parse("").unwrap(), Vec::new());
    }

    #[test]
    fn errors_are_located_and_keep_the_input() {
        let disk = |rest: &str| format!("[[disk]]\npath = \"/var\"\n{rest}");
        for (text, line, column, needle) in [
            (
                "[[disk]]\npath = \"var\"\nwarning = \"1%\"\ncritical = \"2%\"\n".to_string(),
                2,
                8,
                "invalid path 'var': expected an absolute path",
            ),
            (
                disk("warning = \"85\"\ncritical = \"95%\"\n"),
                3,
                11,
                "invalid warning '85': expected a percentage",
            ),
            (
                disk("warning = \"50%\"\ncritical = \"101%\"\n"),
                4,
                12,
                "invalid critical '101%'",
            ),
            (
                disk("warning = \"90%\"\ncritical = \"80%\"\n"),
                3,
                11,
                "invalid warning '90%': expected below critical '80%'",
            ),
            (
                disk("warning = \"1%\"\ncritical = \"2%\"\ncleanup = []\n"),
                5,
                11,
                "invalid cleanup []",
            ),
            (
                disk("warning = \"1%\"\ncritical = \"2%\"\ninterval = \"0s\"\n"),
                5,
                12,
                "invalid interval 0s",
            ),
            (
                disk("warning = \"1%\"\ncritical = \"2%\"\nsize = 3\n"),
                5,
                1,
                "unknown field `size`",
            ),
            (disk(""), 1, 1, "missing field `warning`"),
        ] {
            let error = parse(&text).unwrap_err();
            assert_eq!(
                (error.line, error.column),
                (Some(line), Some(column)),
                "{error}"
            );
            assert!(error.message.contains(needle), "{error}");
        }
    }
}
