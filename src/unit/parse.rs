//! Reading one TOML unit file into a `Unit`: the strict serde shape of the file
//! (`deny_unknown_fields` on every table) and the defaults filled in after it. Pure: the
//! caller reads the file; s6 directories reuse this for their optional `unit.toml`.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::checks::{
    RawHealth, RawReady, RawWatchdog, ReadyCheck, Source, health_config, ready_config, stale_files,
    watchdog_config,
};
use super::error::UnitError;
use super::limits::RawLimits;
use super::log::RawLog;
use super::model::{Kind, OnExhausted, RestartConfig, RestartPolicy, StopConfig, StopMode, Unit};
use super::value::{
    CommandValue, DurationValue, EnvironmentFileValue, GroupName, Jitter, MaxFailures, Multiplier,
    SignalValue, TableOnly, Umask, UnitName, VariableName,
};
use recovery::{RawRecovery, recovery_config};

mod recovery;

/// The top level of a unit file, exactly as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawUnit {
    pub description: Option<String>,
    pub command: Option<Spanned<CommandValue>>,
    pub kind: Option<Kind>,
    pub enabled: Option<bool>,
    pub main: Option<bool>,
    pub critical: Option<bool>,
    #[serde(default)]
    pub after: Vec<Spanned<UnitName>>,
    #[serde(default)]
    pub requires: Vec<Spanned<UnitName>>,
    #[serde(default)]
    pub wants: Vec<Spanned<UnitName>>,
    pub working_directory: Option<Spanned<PathBuf>>,
    pub user: Option<String>,
    pub group: Option<String>,
    pub umask: Option<Umask>,
    #[serde(default)]
    pub environment: BTreeMap<VariableName, String>,
    #[serde(default)]
    pub environment_files: Vec<Spanned<EnvironmentFileValue>>,
    #[serde(default)]
    pub restart: RawRestart,
    #[serde(default)]
    pub stop: RawStop,
    #[serde(default)]
    pub ready: RawReady,
    pub health: Option<RawHealth>,
    pub watchdog: Option<RawWatchdog>,
    #[serde(default)]
    pub stale_files: Vec<Spanned<PathBuf>>,
    pub recovery: Option<RawRecovery>,
    pub supervision_group: Option<Spanned<GroupName>>,
    pub limits: Option<TableOnly<RawLimits>>,
    pub log: Option<RawLog>,
}

/// The `[restart]` table, exactly as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawRestart {
    pub policy: Option<RestartPolicy>,
    pub success_exit_codes: Option<Vec<u8>>,
    pub min_uptime: Option<DurationValue>,
    pub delay: Option<DurationValue>,
    pub multiplier: Option<Multiplier>,
    pub max_delay: Option<DurationValue>,
    pub jitter: Option<Jitter>,
    pub reset_after: Option<DurationValue>,
    pub max_failures: Option<MaxFailures>,
    pub window: Option<DurationValue>,
    pub on_exhausted: Option<OnExhausted>,
    pub cooldown: Option<DurationValue>,
    pub max_cooldown: Option<DurationValue>,
}

/// The `[stop]` table, exactly as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawStop {
    pub signal: Option<Spanned<SignalValue>>,
    pub timeout: Option<Spanned<DurationValue>>,
    pub mode: Option<StopMode>,
}

/// Where a name that must exist elsewhere was written (a dependency, or the
/// `supervision-group`), so an unknown one can be reported at its string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DependencySite {
    /// The name as written: a unit's, or a supervision group's.
    pub dependency: String,
    pub path: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl DependencySite {
    pub fn error(&self, message: impl Into<String>) -> UnitError {
        UnitError {
            path: self.path.clone(),
            line: self.line,
            column: self.column,
            message: message.into(),
        }
    }
}

/// A unit and where each of its dependencies, and its supervision group, was written.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedUnit {
    pub unit: Unit,
    pub sites: Vec<DependencySite>,
    /// Checked against `phoenix.toml`'s `[groups]` by the loader.
    pub group_site: Option<DependencySite>,
}

/// Parses the unit `name` from `text`, the contents of `path`.
pub fn parse_unit(name: &str, path: &Path, text: &str) -> Result<Unit, UnitError> {
    parse_unit_with_sites(name, path, text).map(|parsed| parsed.unit)
}

/// Like `parse_unit`, keeping the dependency locations for cross-unit checks.
pub fn parse_unit_with_sites(name: &str, path: &Path, text: &str) -> Result<ParsedUnit, UnitError> {
    let raw = parse_raw(path, text)?;
    build_unit(name, path, path, text, raw)
}

/// The strict serde pass alone: the file's shape, every value checked, nothing defaulted.
pub fn parse_raw(path: &Path, text: &str) -> Result<RawUnit, UnitError> {
    toml::from_str(text).map_err(|error| UnitError::from_toml(path, text, &error))
}

/// Fills in the defaults of everything `raw` leaves out. `source` is what the unit is
/// read from; `file` and `text` are the TOML the spans in `raw` point into.
pub fn build_unit(
    name: &str,
    source: &Path,
    file: &Path,
    text: &str,
    raw: RawUnit,
) -> Result<ParsedUnit, UnitError> {
    let command = match raw.command {
        Some(command) => command.into_inner().0,
        None => {
            return Err(UnitError::new(
                file,
                "missing key 'command': expected an argv array like [\"/usr/bin/web\"] or a shell command string",
            ));
        }
    };
    let kind = raw.kind.unwrap_or(Kind::Daemon);
    let main = raw.main.unwrap_or(false);
    let critical = raw.critical.unwrap_or(false);
    let sites = [&raw.after, &raw.requires, &raw.wants]
        .into_iter()
        .flatten()
        .map(|dependency| site(file, text, dependency.span(), &dependency.get_ref().0))
        .collect();
    let source_text = Source { file, text };
    let ready = ready_config(&source_text, raw.ready, ReadyCheck::None)?;
    let health = raw
        .health
        .map(|health| health_config(&source_text, health))
        .transpose()?;
    let watchdog = raw
        .watchdog
        .map(|watchdog| watchdog_config(&source_text, watchdog))
        .transpose()?;
    let stale_files = stale_files(&source_text, raw.stale_files)?;
    let recovery = raw
        .recovery
        .map(|recovery| recovery_config(&source_text, recovery))
        .transpose()?
        .unwrap_or_default();
    let log = raw
        .log
        .map(|log| log.config(file, text, true))
        .transpose()?;
    let group_site = raw
        .supervision_group
        .as_ref()
        .map(|group| site(file, text, group.span(), &group.get_ref().0));
    let unit = Unit {
        name: name.to_string(),
        source: source.to_path_buf(),
        description: raw.description,
        command,
        kind,
        enabled: raw.enabled.unwrap_or(true),
        main,
        critical,
        after: names(raw.after),
        requires: names(raw.requires),
        wants: names(raw.wants),
        working_directory: working_directory(file, text, raw.working_directory)?,
        user: raw.user,
        group: raw.group,
        umask: raw.umask.map(|umask| umask.0),
        environment: raw
            .environment
            .into_iter()
            .map(|(name, value)| (name.0, value))
            .collect(),
        environment_files: raw
            .environment_files
            .into_iter()
            .map(|file| file.into_inner().0)
            .collect(),
        restart: restart_config(raw.restart, kind, main || critical),
        stop: stop_config(raw.stop),
        ready,
        health,
        watchdog,
        stale_files,
        recovery,
        supervision_group: raw.supervision_group.map(|group| group.into_inner().0),
        limits: raw
            .limits
            .map(|limits| limits.0.into_limits())
            .unwrap_or_default(),
        log,
        s6: None,
    };
    Ok(ParsedUnit {
        unit,
        sites,
        group_site,
    })
}

fn site(file: &Path, text: &str, span: Range<usize>, dependency: &str) -> DependencySite {
    let located = UnitError::at(file, text, span.start, "");
    DependencySite {
        dependency: dependency.to_string(),
        path: file.to_path_buf(),
        line: located.line,
        column: located.column,
    }
}

fn names(list: Vec<Spanned<UnitName>>) -> Vec<String> {
    list.into_iter().map(|name| name.into_inner().0).collect()
}

/// A relative working directory would depend on Phoenix's own, so it must be absolute.
fn working_directory(
    file: &Path,
    text: &str,
    directory: Option<Spanned<PathBuf>>,
) -> Result<Option<PathBuf>, UnitError> {
    match directory {
        Some(directory) if !directory.get_ref().is_absolute() => Err(UnitError::at(
            file,
            text,
            directory.span().start,
            format!(
                "invalid working-directory '{}': expected an absolute path",
                directory.get_ref().display()
            ),
        )),
        directory => Ok(directory.map(Spanned::into_inner)),
    }
}

fn restart_config(raw: RawRestart, kind: Kind, escalates: bool) -> RestartConfig {
    let defaults = RestartConfig::defaults(kind, escalates);
    let duration = |value: Option<DurationValue>, default| value.map_or(default, |d| d.0);
    RestartConfig {
        policy: raw.policy.unwrap_or(defaults.policy),
        success_exit_codes: raw
            .success_exit_codes
            .unwrap_or(defaults.success_exit_codes),
        min_uptime: duration(raw.min_uptime, defaults.min_uptime),
        delay: duration(raw.delay, defaults.delay),
        multiplier: raw.multiplier.map_or(defaults.multiplier, |m| m.0),
        max_delay: duration(raw.max_delay, defaults.max_delay),
        jitter: raw.jitter.map_or(defaults.jitter, |j| j.0),
        reset_after: duration(raw.reset_after, defaults.reset_after),
        max_failures: raw.max_failures.map_or(defaults.max_failures, |m| m.0),
        window: duration(raw.window, defaults.window),
        on_exhausted: raw.on_exhausted.unwrap_or(defaults.on_exhausted),
        cooldown: duration(raw.cooldown, defaults.cooldown),
        max_cooldown: duration(raw.max_cooldown, defaults.max_cooldown),
    }
}

fn stop_config(raw: RawStop) -> StopConfig {
    let defaults = StopConfig::default();
    StopConfig {
        signal: raw.signal.map_or(defaults.signal, |s| s.into_inner().0),
        timeout: raw.timeout.map_or(defaults.timeout, |t| t.into_inner().0),
        mode: raw.mode.unwrap_or(defaults.mode),
    }
}

#[cfg(test)]
mod tests;
