//! System settings from `phoenix.toml`: shutdown timing, what a critical failure does,
//! Phoenix's exit code, where its runtime files live, the supervision groups units
//! join, the HTTP endpoint (`settings/http.rs`) and the disk checks (`settings/disk.rs`). Strict like units; every key is optional, and an absent file means all defaults. Paths left unset are resolved by the
//! caller, because their defaults depend on who Phoenix runs as.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use toml::Spanned;

use super::error::UnitError;
use super::model::OnExhausted;
use super::recovery::{GroupConfig, Strategy};
use super::value::{DurationValue, GroupName, MaxFailures};

mod alerts;
mod disk;
mod hardware_watchdog;
mod http;

pub use alerts::{AlertFormat, AlertSettings, LevelPolicy};
pub use disk::DiskSettings;
pub use hardware_watchdog::HardwareWatchdogSettings;
pub use http::{HttpSettings, MAX_CONNECTIONS as MAX_HTTP_CONNECTIONS};

/// The parsed `phoenix.toml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Caps the whole orderly shutdown.
    pub shutdown_timeout: Duration,
    /// How long leftover processes get between SIGTERM and SIGKILL.
    pub grace: Duration,
    pub on_critical_failure: CriticalAction,
    pub exit_code: ExitCodeSetting,
    /// Default `/run/phoenix`, or `$XDG_RUNTIME_DIR/phoenix` when not root.
    pub runtime_dir: Option<PathBuf>,
    /// Default `/var/lib/phoenix`.
    pub state_dir: Option<PathBuf>,
    /// Default `<runtime-dir>/control.sock`.
    pub control_socket: Option<PathBuf>,
    /// `events.jsonl` is rotated before it grows past this many bytes.
    pub event_log_max_bytes: u64,
    /// How many event files are kept, the live one included.
    pub event_log_keep: usize,
    /// `[groups.NAME]`: supervision groups units join with `supervision-group`.
    pub groups: BTreeMap<String, GroupConfig>,
    /// `[http]`: the read-only HTTP endpoint; none without `listen`.
    pub http: Option<HttpSettings>,
    /// `[[disk]]`: the paths whose usage is checked.
    pub disks: Vec<DiskSettings>,
    /// `[alerts]`: channels and per-level thresholds and cooldowns.
    pub alerts: AlertSettings,
    /// `[hardware-watchdog]`: the device the loop pets; none without `device`.
    pub hardware_watchdog: Option<HardwareWatchdogSettings>,
    /// `[log] default`: the `[log]` of every service whose unit has none.
    pub log_default: Option<super::log::LogConfig>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            shutdown_timeout: Duration::from_secs(9),
            grace: Duration::from_secs(5),
            on_critical_failure: CriticalAction::Exit,
            exit_code: ExitCodeSetting::Service,
            runtime_dir: None,
            state_dir: None,
            control_socket: None,
            event_log_max_bytes: 1024 * 1024,
            event_log_keep: 5,
            groups: BTreeMap::new(),
            http: None,
            disks: Vec::new(),
            alerts: AlertSettings::default(),
            log_default: None,
            hardware_watchdog: None,
        }
    }
}

impl Settings {
    /// The names of the `[groups.NAME]`, which units may join.
    pub fn group_names(&self) -> BTreeSet<String> {
        self.groups.keys().cloned().collect()
    }
}

/// What Phoenix does when a critical unit exhausts its recovery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CriticalAction {
    /// Shut down in order and exit.
    Exit,
    Reboot,
    Poweroff,
    /// Hand over to `phoenix-rescue`.
    Rescue,
    /// Log it and carry on.
    None,
}

/// Phoenix's exit status when escalation ends the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitCodeSetting {
    /// The failing service's own status.
    Service,
    Fixed(u8),
}

impl<'de> Deserialize<'de> for ExitCodeSetting {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ExitCodeVisitor)
    }
}

struct ExitCodeVisitor;

impl Visitor<'_> for ExitCodeVisitor {
    type Value = ExitCodeSetting;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"service\" or an exit code from 0 to 255")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<ExitCodeSetting, E> {
        match text {
            "service" => Ok(ExitCodeSetting::Service),
            _ => Err(E::custom(format!(
                "invalid exit-code '{text}': expected \"service\" or an exit code from 0 to 255"
            ))),
        }
    }

    fn visit_i64<E: de::Error>(self, number: i64) -> Result<ExitCodeSetting, E> {
        u8::try_from(number)
            .map(ExitCodeSetting::Fixed)
            .map_err(|_| {
                E::custom(format!(
                    "invalid exit-code {number}: expected \"service\" or an exit code from 0 to 255"
                ))
            })
    }

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<ExitCodeSetting, E> {
        self.visit_i64(i64::try_from(number).unwrap_or(i64::MAX))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawSettings {
    shutdown_timeout: Option<DurationValue>,
    grace: Option<DurationValue>,
    on_critical_failure: Option<CriticalAction>,
    exit_code: Option<ExitCodeSetting>,
    runtime_dir: Option<Spanned<PathBuf>>,
    state_dir: Option<Spanned<PathBuf>>,
    control_socket: Option<Spanned<PathBuf>>,
    event_log_max_bytes: Option<Spanned<i64>>,
    event_log_keep: Option<Spanned<i64>>,
    #[serde(default)]
    groups: BTreeMap<GroupName, RawGroup>,
    http: Option<http::RawHttp>,
    #[serde(default)]
    disk: Vec<disk::RawDisk>,
    alerts: Option<alerts::RawAlerts>,
    log: Option<RawLogSettings>,
    hardware_watchdog: Option<hardware_watchdog::RawHardwareWatchdog>,
}

/// The `[log]` table of `phoenix.toml`, exactly as written.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "a [log] table"
)]
struct RawLogSettings {
    default: Option<super::log::RawLog>,
}

/// A `[groups.NAME]` table, exactly as written.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "a [groups.NAME] table"
)]
struct RawGroup {
    strategy: Option<Strategy>,
    max_failures: Option<MaxFailures>,
    window: Option<DurationValue>,
    on_exhausted: Option<OnExhausted>,
    cooldown: Option<DurationValue>,
}

impl RawGroup {
    fn config(self) -> GroupConfig {
        let defaults = GroupConfig::default();
        GroupConfig {
            strategy: self.strategy.unwrap_or(defaults.strategy),
            max_failures: self.max_failures.map_or(defaults.max_failures, |m| m.0),
            window: self.window.map_or(defaults.window, |d| d.0),
            on_exhausted: self.on_exhausted.unwrap_or(defaults.on_exhausted),
            cooldown: self.cooldown.map_or(defaults.cooldown, |d| d.0),
        }
    }
}

/// Parses `text`, the contents of `path`.
pub fn parse_settings(path: &Path, text: &str) -> Result<Settings, UnitError> {
    let raw: RawSettings =
        toml::from_str(text).map_err(|error| UnitError::from_toml(path, text, &error))?;
    let defaults = Settings::default();
    let absolute = |key: &str, value: Option<Spanned<PathBuf>>| match value {
        Some(value) if !value.get_ref().is_absolute() => Err(UnitError::at(
            path,
            text,
            value.span().start,
            format!(
                "invalid {key} '{}': expected an absolute path",
                value.get_ref().display()
            ),
        )),
        value => Ok(value.map(Spanned::into_inner)),
    };
    Ok(Settings {
        shutdown_timeout: raw
            .shutdown_timeout
            .map_or(defaults.shutdown_timeout, |d| d.0),
        grace: raw.grace.map_or(defaults.grace, |d| d.0),
        on_critical_failure: raw
            .on_critical_failure
            .unwrap_or(defaults.on_critical_failure),
        exit_code: raw.exit_code.unwrap_or(defaults.exit_code),
        runtime_dir: absolute("runtime-dir", raw.runtime_dir)?,
        state_dir: absolute("state-dir", raw.state_dir)?,
        control_socket: absolute("control-socket", raw.control_socket)?,
        event_log_max_bytes: at_least(
            path,
            text,
            "event-log-max-bytes",
            raw.event_log_max_bytes,
            4096,
        )?
        .map_or(defaults.event_log_max_bytes, |n| n as u64),
        event_log_keep: at_least(path, text, "event-log-keep", raw.event_log_keep, 1)?
            .map_or(defaults.event_log_keep, |n| n as usize),
        groups: raw
            .groups
            .into_iter()
            .map(|(name, group)| (name.0, group.config()))
            .collect(),
        http: match raw.http {
            Some(table) => table.settings(path, text)?,
            None => None,
        },
        disks: raw
            .disk
            .into_iter()
            .map(|disk| disk.settings(path, text))
            .collect::<Result<_, _>>()?,
        alerts: match raw.alerts {
            Some(table) => table.settings(path, text)?,
            None => AlertSettings::default(),
        },
        log_default: raw
            .log
            .and_then(|log| log.default)
            .map(|default| default.config(path, text, false))
            .transpose()?,
        hardware_watchdog: match raw.hardware_watchdog {
            Some(table) => table.settings(path, text)?,
            None => None,
        },
    })
}

/// An integer setting that must be at least `minimum`.
fn at_least(
    path: &Path,
    text: &str,
    key: &str,
    value: Option<Spanned<i64>>,
    minimum: i64,
) -> Result<Option<i64>, UnitError> {
    match value {
        Some(value) if *value.get_ref() < minimum => Err(UnitError::at(
            path,
            text,
            value.span().start,
            format!(
                "invalid {key} {}: expected an integer of at least {minimum}",
                value.get_ref()
            ),
        )),
        value => Ok(value.map(Spanned::into_inner)),
    }
}

#[cfg(test)]
mod tests;
