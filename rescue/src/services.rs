//! Reading a services directory: every `NAME.toml` through `unit`, every s6-style
//! directory `NAME/` from its executable `run`, its `down` file, its `env/` directory and
//! an optional `unit.toml`. Dot-names are skipped, other files ignored. One unit that
//! cannot be read never stops the others. Reads files only; runs nothing.

use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::unit::{self, Command, S6_KEYS, Unit, Unreadable, is_valid_name, unit_from_toml};

/// Everything learnt from a services directory, sorted by file name.
#[derive(Debug, Default)]
pub struct Directory {
    pub path: PathBuf,
    pub units: Vec<Unit>,
    pub unreadable: Vec<Unreadable>,
    /// The directory itself could not be listed.
    pub error: Option<String>,
}

/// s6 files that mean something to Phoenix but not to the rescue path.
const S6_SKIPPED: &[&str] = &[
    "finish",
    "log",
    "down-signal",
    "timeout-kill",
    "timeout-finish",
    "notification-fd",
];

pub fn read_services(dir: &Path) -> Directory {
    let mut found = Directory {
        path: dir.to_path_buf(),
        ..Directory::default()
    };
    let mut paths: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(entries) => entries.flatten().map(|entry| entry.path()).collect(),
        Err(error) => {
            found.error = Some(format!("unable to read {}: {error}", dir.display()));
            return found;
        }
    };
    paths.sort();
    for path in paths {
        let Some(file_name) = path.file_name().and_then(|name| name.to_str()) else {
            continue;
        };
        if file_name.starts_with('.') {
            continue;
        }
        let (name, source) = if path.is_dir() {
            (file_name.to_string(), format!("{file_name}/"))
        } else if let Some(name) = file_name.strip_suffix(".toml") {
            (name.to_string(), file_name.to_string())
        } else {
            continue;
        };
        let unreadable = |reason: String| Unreadable {
            name: name.clone(),
            source: source.clone(),
            line: None,
            reason,
        };
        let reading = if !is_valid_name(&name) {
            Err(unreadable(format!(
                "{name:?} is not a unit name (letters, digits and _ . @ - only)"
            )))
        } else if let Some(first) = found.units.iter().find(|unit| unit.name == name) {
            Err(unreadable(format!(
                "{name} is already defined by {}",
                first.source
            )))
        } else if path.is_dir() {
            // `run` starts in its directory: a relative path would no longer lead to it.
            read_s6_dir(&name, &std::path::absolute(&path).unwrap_or(path.clone()))
        } else {
            fs::read_to_string(&path)
                .map_err(|error| unreadable(format!("unable to read: {error}")))
                .and_then(|text| unit_from_toml(&name, &source, &text))
        };
        match reading {
            Ok(unit) => found.units.push(unit),
            Err(unreadable) => found.unreadable.push(unreadable),
        }
    }
    found
}

fn read_s6_dir(name: &str, dir: &Path) -> Result<Unit, Unreadable> {
    let source = format!("{name}/");
    let unreadable = |source: &str, line, reason: String| Unreadable {
        name: name.into(),
        source: source.into(),
        line,
        reason,
    };
    let run = dir.join("run");
    match fs::metadata(&run) {
        Err(error) if error.kind() == ErrorKind::NotFound => {
            return Err(unreadable(&source, None, "no run file".into()));
        }
        Err(error) => {
            return Err(unreadable(
                &source,
                None,
                format!("unable to read run: {error}"),
            ));
        }
        Ok(metadata) if !metadata.is_file() => {
            return Err(unreadable(&source, None, "run is not a file".into()));
        }
        Ok(metadata) if metadata.permissions().mode() & 0o111 == 0 => {
            let mode = metadata.permissions().mode() & 0o7777;
            return Err(unreadable(
                &source,
                None,
                format!("run is not executable (mode {mode:04o})"),
            ));
        }
        Ok(_) => {}
    }
    let mut unit = Unit {
        name: name.into(),
        source: source.clone(),
        command: Command::Run(run),
        environment: read_env_dir(&dir.join("env")),
        working_directory: Some(dir.to_path_buf()),
        is_enabled: !dir.join("down").exists(),
        is_oneshot: false,
        is_console: false,
        skipped: S6_SKIPPED
            .iter()
            .filter(|file| dir.join(file).exists())
            .map(|file| {
                if *file == "log" {
                    "log/".into()
                } else {
                    file.to_string()
                }
            })
            .collect(),
        notes: Vec::new(),
    };
    let extra = dir.join("unit.toml");
    if extra.exists() {
        let source = format!("{name}/unit.toml");
        let text = fs::read_to_string(&extra)
            .map_err(|error| unreadable(&source, None, format!("unable to read: {error}")))?;
        let fields = unit::read_fields(&text, S6_KEYS)
            .map_err(|(line, reason)| unreadable(&source, Some(line), reason))?;
        unit.environment.extend(fields.environment);
        unit.is_enabled &= fields.is_enabled.unwrap_or(true);
        unit.is_oneshot = fields.is_oneshot;
        if let Some(directory) = fields.working_directory {
            unit.working_directory = Some(directory);
        }
        unit.skipped.extend(
            fields
                .skipped
                .into_iter()
                .map(|key| format!("unit.toml {key}")),
        );
        unit.notes.extend(
            fields
                .notes
                .into_iter()
                .map(|note| format!("unit.toml {note}")),
        );
    }
    Ok(unit)
}

/// An s6 envdir: each file a variable, its first line the value (trailing spaces and tabs
/// dropped, NUL bytes as newlines); an empty file removes the variable.
fn read_env_dir(dir: &Path) -> Vec<(String, Option<String>)> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut variables: Vec<(String, Option<String>)> = entries
        .flatten()
        .filter(|entry| entry.path().is_file())
        .filter_map(|entry| {
            let name = entry.file_name().to_str()?.to_string();
            if name.starts_with('.') || name.contains('=') {
                return None;
            }
            let bytes = fs::read(entry.path()).ok()?;
            if bytes.is_empty() {
                return Some((name, None));
            }
            let text = String::from_utf8_lossy(&bytes);
            let first = text.split('\n').next().unwrap_or_default();
            Some((
                name,
                Some(first.trim_end_matches([' ', '\t']).replace('\0', "\n")),
            ))
        })
        .collect();
    variables.sort();
    variables
}
