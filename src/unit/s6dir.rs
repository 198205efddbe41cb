//! Reading an s6-style service directory `NAME/` into units: `run` is the command, the
//! small s6 files (`down`, `down-signal`, `timeout-kill`, `timeout-finish`, `finish`,
//! `notification-fd`, `env/`) become unit keys and `S6Extras`, an optional `unit.toml`
//! adds the keys s6 has no file for, and `log/` becomes a second unit, `NAME.log`. Reads
//! files only; never runs anything.

use std::collections::BTreeMap;
use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

use super::checks::ReadyCheck;
use super::error::UnitError;
use super::model::{Command, S6Extras};
use super::parse::{ParsedUnit, RawUnit, build_unit, parse_raw};
use super::value::{CommandValue, DurationValue, SignalValue};

/// Every file and directory of a service directory that Phoenix reads; `data/` and
/// anything else is left alone.
pub const S6_FILES: &[&str] = &[
    "run",
    "finish",
    "down",
    "down-signal",
    "timeout-kill",
    "timeout-finish",
    "notification-fd",
    "env/",
    "data/",
    "log/",
    "unit.toml",
];

/// The units read from one service directory: the service, then its logger if any.
#[derive(Debug)]
pub struct ServiceDir {
    pub units: Vec<ParsedUnit>,
    pub warnings: Vec<String>,
}

/// Reads the service directory `dir`, whose service is called `name`.
pub fn read_service_dir(name: &str, dir: &Path) -> Result<ServiceDir, UnitError> {
    let mut warnings = Vec::new();
    let mut service = read_one(name, dir, &mut warnings)?;
    let mut units = Vec::new();
    let log = dir.join("log");
    if log.is_dir() {
        let logger_name = format!("{name}.log");
        let logger = read_one(&logger_name, &log, &mut warnings)?;
        if let Some(extras) = service.unit.s6.as_mut() {
            extras.logger = Some(logger_name);
        }
        units.push(service);
        units.push(logger);
    } else {
        units.push(service);
    }
    Ok(ServiceDir { units, warnings })
}

fn read_one(name: &str, dir: &Path, warnings: &mut Vec<String>) -> Result<ParsedUnit, UnitError> {
    let dir = std::path::absolute(dir)
        .map_err(|error| UnitError::new(dir, format!("unable to resolve the path: {error}")))?;
    let run = executable(&dir.join("run"))?.ok_or_else(|| {
        UnitError::new(
            &dir.join("run"),
            "missing: an s6 service directory needs an executable run file",
        )
    })?;
    let toml_path = dir.join("unit.toml");
    let text = read_optional(&toml_path)?;
    let mut raw = match &text {
        Some(text) => parse_unit_toml(&toml_path, text)?,
        None => RawUnit::default(),
    };
    let text = text.unwrap_or_default();
    let argv = vec![path_text(&run)?];
    raw.command = Some(Spanned::new(0..0, CommandValue(Command::Argv(argv))));
    raw.working_directory = Some(Spanned::new(0..0, dir.clone()));
    if dir.join("down").exists() {
        raw.enabled = Some(false);
    }
    apply_stop_files(name, &dir, &toml_path, &text, &mut raw, warnings)?;
    let mut parsed = build_unit(name, &dir, &toml_path, &text, raw)?;
    let extras = read_extras(name, &dir, warnings)?;
    // s6's notification-fd is a readiness check, unless unit.toml chose another.
    if let (Some(fd), ReadyCheck::None) = (extras.notification_fd, &parsed.unit.ready.check) {
        parsed.unit.ready.check = ReadyCheck::Fd(fd);
    }
    parsed.unit.s6 = Some(extras);
    Ok(parsed)
}

/// `unit.toml` takes every key except those the directory itself defines.
fn parse_unit_toml(path: &Path, text: &str) -> Result<RawUnit, UnitError> {
    let raw = parse_raw(path, text)?;
    if let Some(command) = &raw.command {
        return Err(UnitError::at(
            path,
            text,
            command.span().start,
            "'command' is not allowed in an s6 directory's unit.toml: the run file is the command",
        ));
    }
    if let Some(directory) = &raw.working_directory {
        return Err(UnitError::at(
            path,
            text,
            directory.span().start,
            "'working-directory' is not allowed in an s6 directory's unit.toml: run starts in the service directory",
        ));
    }
    Ok(raw)
}

/// `down-signal` and `timeout-kill` fill `[stop]`; saying it twice is an error.
fn apply_stop_files(
    name: &str,
    dir: &Path,
    toml_path: &Path,
    text: &str,
    raw: &mut RawUnit,
    warnings: &mut Vec<String>,
) -> Result<(), UnitError> {
    let conflict = |span: std::ops::Range<usize>, key: &str, file: &str| {
        UnitError::at(
            toml_path,
            text,
            span.start,
            format!("[stop] {key} conflicts with the {file} file: expected one of the two"),
        )
    };
    let path = dir.join("down-signal");
    if let Some(line) = read_first_line(&path)? {
        if let Some(signal) = &raw.stop.signal {
            return Err(conflict(signal.span(), "signal", "down-signal"));
        }
        let signal = line
            .parse()
            .map_err(|error| UnitError::new(&path, format!("{error}")))?;
        raw.stop.signal = Some(Spanned::new(0..0, SignalValue(signal)));
    }
    let path = dir.join("timeout-kill");
    if let Some(millis) = read_millis(&path)? {
        if let Some(timeout) = &raw.stop.timeout {
            return Err(conflict(timeout.span(), "timeout", "timeout-kill"));
        }
        if millis == 0 {
            // s6 reads 0 as "never SIGKILL"; PID 1 must finish a shutdown, so keep a bound.
            warnings.push(format!(
                "{name}: timeout-kill 0 (never) is not supported, using the [stop] timeout default"
            ));
        } else {
            raw.stop.timeout = Some(Spanned::new(
                0..0,
                DurationValue(Duration::from_millis(millis)),
            ));
        }
    }
    Ok(())
}

fn read_extras(name: &str, dir: &Path, warnings: &mut Vec<String>) -> Result<S6Extras, UnitError> {
    let mut extras = S6Extras::default();
    let finish = dir.join("finish");
    if finish.exists() {
        extras.finish =
            Some(executable(&finish)?.ok_or_else(|| UnitError::new(&finish, "missing"))?);
    }
    match read_millis(&dir.join("timeout-finish"))? {
        Some(0) => warnings.push(format!(
            "{name}: timeout-finish 0 (never) is not supported, using 5000 ms"
        )),
        Some(millis) => extras.timeout_finish = Duration::from_millis(millis),
        None => {}
    }
    let path = dir.join("notification-fd");
    if let Some(line) = read_first_line(&path)? {
        let fd = line.parse::<i32>().ok().filter(|fd| *fd >= 3).ok_or_else(|| {
            UnitError::new(&path, format!("invalid notification-fd '{line}': expected a descriptor number of at least 3"))
        })?;
        extras.notification_fd = Some(fd);
    }
    let env = dir.join("env");
    if env.is_dir() {
        extras.env = read_envdir(&env)?;
    }
    Ok(extras)
}

/// An envdir: each file names a variable; its first line is the value, with trailing
/// whitespace trimmed and NULs read as newlines; an empty file unsets the variable.
fn read_envdir(dir: &Path) -> Result<BTreeMap<String, Option<String>>, UnitError> {
    let mut env = BTreeMap::new();
    for entry in fs::read_dir(dir).map_err(|error| io_error(dir, &error))? {
        let path = entry.map_err(|error| io_error(dir, &error))?.path();
        let Some(variable) = path
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_string)
        else {
            return Err(UnitError::new(
                &path,
                "invalid variable name: expected UTF-8",
            ));
        };
        if variable.starts_with('.') || !path.is_file() {
            continue;
        }
        if variable.contains('=') {
            return Err(UnitError::new(
                &path,
                format!("invalid variable name '{variable}': expected a name without '='"),
            ));
        }
        let content = fs::read_to_string(&path).map_err(|error| io_error(&path, &error))?;
        let value = (!content.is_empty()).then(|| first_line(&content).replace('\0', "\n"));
        env.insert(variable, value);
    }
    Ok(env)
}

/// `path` made absolute, if it exists; an error if it exists but is not executable.
fn executable(path: &Path) -> Result<Option<PathBuf>, UnitError> {
    let metadata = match fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(io_error(path, &error)),
    };
    let mode = metadata.permissions().mode();
    if !metadata.is_file() || mode & 0o111 == 0 {
        return Err(UnitError::new(
            path,
            format!(
                "not executable (mode {:o}): expected an executable file",
                mode & 0o7777
            ),
        ));
    }
    Ok(Some(path.to_path_buf()))
}

fn read_optional(path: &Path) -> Result<Option<String>, UnitError> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == ErrorKind::NotFound => Ok(None),
        Err(error) => Err(io_error(path, &error)),
    }
}

/// The first line of a one-value s6 file, trimmed, if the file exists.
fn read_first_line(path: &Path) -> Result<Option<String>, UnitError> {
    Ok(read_optional(path)?.map(|text| first_line(&text).trim().to_string()))
}

/// A whole number of milliseconds, as s6's `timeout-*` files hold.
fn read_millis(path: &Path) -> Result<Option<u64>, UnitError> {
    let Some(line) = read_first_line(path)? else {
        return Ok(None);
    };
    let limit = super::duration::MAX_DURATION.as_millis();
    line.parse::<u64>()
        .ok()
        .filter(|millis| u128::from(*millis) <= limit)
        .map(Some)
        .ok_or_else(|| {
            UnitError::new(
                path,
                format!("invalid milliseconds '{line}': expected a whole number like 5000, at most {limit}"),
            )
        })
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("").trim_end()
}

/// Commands are UTF-8 strings, so the path to `run` must be too.
fn path_text(path: &Path) -> Result<String, UnitError> {
    path.to_str()
        .map(str::to_string)
        .ok_or_else(|| UnitError::new(path, "invalid path: expected UTF-8"))
}

fn io_error(path: &Path, error: &std::io::Error) -> UnitError {
    UnitError::new(path, format!("unable to read: {error}"))
}

#[cfg(test)]
mod tests;
