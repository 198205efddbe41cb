//! The `[alerts]` table of `phoenix.toml`: where alerts go (an `exec` hook, a `webhook`),
//! in which `format`, and per level how many occurrences raise one (`threshold`) and how
//! long a repeat is held back (`cooldown`). Parsing only; the decisions are
//! `crate::alerts`, the delivery the shell's.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::super::error::UnitError;
use super::super::value::DurationValue;
use crate::probe_target::{HttpTarget, parse_http_url};

/// How a webhook's body is shaped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AlertFormat {
    /// The alert as Phoenix's own JSON object.
    #[default]
    Json,
    /// The Alertmanager API v2 array (labels, annotations, startsAt, endsAt).
    Alertmanager,
}

/// One level's policy: `threshold` occurrences raise the alert, then repeats are held
/// back for `cooldown`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LevelPolicy {
    pub threshold: u32,
    pub cooldown: Duration,
}

/// `[alerts]` (DESIGN.md §7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertSettings {
    /// A program run for each alert, the alert as JSON on its stdin.
    pub exec: Option<Vec<String>>,
    /// Where each alert is POSTed.
    pub webhook: Option<HttpTarget>,
    pub format: AlertFormat,
    pub critical: LevelPolicy,
    pub warning: LevelPolicy,
    pub info: LevelPolicy,
}

const HOUR: u64 = 3600;

impl Default for AlertSettings {
    fn default() -> AlertSettings {
        let policy = |hours: u64| LevelPolicy {
            threshold: 1,
            cooldown: Duration::from_secs(hours * HOUR),
        };
        AlertSettings {
            exec: None,
            webhook: None,
            format: AlertFormat::Json,
            critical: policy(1),
            warning: policy(2),
            info: policy(24),
        }
    }
}

impl AlertSettings {
    /// Whether any channel is configured; without one no alert is decided at all.
    pub fn has_channel(&self) -> bool {
        self.exec.is_some() || self.webhook.is_some()
    }
}

/// An `[alerts]` table, exactly as written.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "an [alerts] table"
)]
pub(super) struct RawAlerts {
    exec: Option<Spanned<Vec<String>>>,
    webhook: Option<Spanned<String>>,
    format: Option<AlertFormat>,
    critical: Option<RawLevel>,
    warning: Option<RawLevel>,
    info: Option<RawLevel>,
}

/// An `[alerts.LEVEL]` table.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "an [alerts.LEVEL] table"
)]
struct RawLevel {
    threshold: Option<Spanned<i64>>,
    cooldown: Option<DurationValue>,
}

impl RawLevel {
    fn policy(
        level: Option<RawLevel>,
        default: LevelPolicy,
        path: &Path,
        text: &str,
    ) -> Result<LevelPolicy, UnitError> {
        let Some(level) = level else {
            return Ok(default);
        };
        let threshold = match level.threshold {
            Some(value) => match u32::try_from(*value.get_ref()) {
                Ok(n) if n >= 1 => n,
                _ => {
                    return Err(UnitError::at(
                        path,
                        text,
                        value.span().start,
                        format!(
                            "invalid threshold {}: expected an integer of at least 1",
                            value.get_ref()
                        ),
                    ));
                }
            },
            None => default.threshold,
        };
        Ok(LevelPolicy {
            threshold,
            cooldown: level.cooldown.map_or(default.cooldown, |d| d.0),
        })
    }
}

impl RawAlerts {
    pub(super) fn settings(self, path: &Path, text: &str) -> Result<AlertSettings, UnitError> {
        let defaults = AlertSettings::default();
        let exec = match self.exec {
            Some(argv) if argv.get_ref().is_empty() => {
                return Err(UnitError::at(
                    path,
                    text,
                    argv.span().start,
                    "invalid exec []: expected a program and its arguments",
                ));
            }
            argv => argv.map(Spanned::into_inner),
        };
        let webhook = match self.webhook {
            Some(url) => Some(
                parse_http_url(url.get_ref())
                    .map_err(|message| UnitError::at(path, text, url.span().start, message))?,
            ),
            None => None,
        };
        Ok(AlertSettings {
            exec,
            webhook,
            format: self.format.unwrap_or(defaults.format),
            critical: RawLevel::policy(self.critical, defaults.critical, path, text)?,
            warning: RawLevel::policy(self.warning, defaults.warning, path, text)?,
            info: RawLevel::policy(self.info, defaults.info, path, text)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse_settings;
    use super::*;

    fn parse(text: &str) -> Result<AlertSettings, UnitError> {
        parse_settings(Path::new("/etc/phoenix/phoenix.toml"), text).map(|s| s.alerts)
    }

    #[test]
    fn defaults_hold_without_the_table() {
        assert_eq!(parse("").unwrap(), AlertSettings::default());
        assert!(!AlertSettings::default().has_channel());
    }

    #[test]
    fn every_key_is_read() {
        let settings = parse(
            "[alerts]\nexec = [\"/bin/page\", \"-x\"]\nwebhook = \"http://127.0.0.1:9093/api/v2/alerts\"\nformat = \"alertmanager\"\n[alerts.critical]\nthreshold = 3\ncooldown = \"1s\"\n[alerts.info]\ncooldown = \"5m\"\n",
        )
        .unwrap();
        assert_eq!(settings.exec, Some(vec!["/bin/page".into(), "-x".into()]));
        let webhook = settings.webhook.unwrap();
        assert_eq!(webhook.path, "/api/v2/alerts");
        assert_eq!(settings.format, AlertFormat::Alertmanager);
        assert_eq!(settings.critical.threshold, 3);
        assert_eq!(settings.critical.cooldown, Duration::from_secs(1));
        assert_eq!(settings.warning, AlertSettings::default().warning);
        assert_eq!(settings.info.cooldown, Duration::from_secs(300));
    }

    #[test]
    fn bad_values_are_errors_at_their_line() {
        for (text, expected) in [
            ("[alerts]\nexec = []\n", "expected a program"),
            ("[alerts]\nwebhook = \"https://x:1/\"\n", "only http://"),
            ("[alerts]\nformat = \"xml\"\n", "unknown variant"),
            ("[alerts.warning]\nthreshold = 0\n", "at least 1"),
            ("[alerts.debug]\n", "unknown field"),
        ] {
            let error = parse(text).unwrap_err();
            assert!(
                error.message.contains(expected),
                "{text}: {}",
                error.message
            );
        }
    }
}
