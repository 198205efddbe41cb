//! What the rescue path knows of a unit, read from its TOML: `command`, `environment`,
//! `working-directory`, `enabled` and `kind`, nothing more. Every other key and table is
//! skipped and named in the report; a problem in a key it reads makes the unit unreadable,
//! with the line. Pure: text in, a `Unit` or an `Unreadable` out.

use std::fmt;
use std::path::PathBuf;

use crate::toml::{self, Problem, Value};

/// How a unit's process is started.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// A string: run by `/bin/sh -c`.
    Shell(String),
    /// An array: argv, the program looked up in `PATH`.
    Argv(Vec<String>),
    /// An s6 directory's `run`, started in the directory.
    Run(PathBuf),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Unit {
    pub name: String,
    /// Where it came from, as the report names it: `web.toml`, `web/`.
    pub source: String,
    pub command: Command,
    /// Variables to set (`Some`) or to remove (`None`, an empty s6 `env/` file).
    pub environment: Vec<(String, Option<String>)>,
    pub working_directory: Option<PathBuf>,
    pub is_enabled: bool,
    /// `kind = "oneshot"`: a clean exit is the end, not a death to restart.
    pub is_oneshot: bool,
    /// The console shell of `--shell`: the terminal stays its stdin.
    pub is_console: bool,
    /// Keys, tables and s6 files the rescue path does not honour.
    pub skipped: Vec<String>,
    /// Problems in skipped keys: reported, harmless.
    pub notes: Vec<String>,
}

/// A unit that cannot run, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Unreadable {
    pub name: String,
    /// The file (or directory) at fault, as the report names it.
    pub source: String,
    pub line: Option<usize>,
    pub reason: String,
}

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.source, self.reason),
            None => write!(f, "{}: {}", self.source, self.reason),
        }
    }
}

/// The keys a `NAME.toml` may set for the rescue path.
pub const TOML_KEYS: &[&str] = &[
    "command",
    "environment",
    "working-directory",
    "enabled",
    "kind",
];

/// The keys an s6 directory's `unit.toml` may set (`run` is the command).
pub const S6_KEYS: &[&str] = &["environment", "working-directory", "enabled", "kind"];

/// What a unit's TOML says, for the keys in `keys`.
#[derive(Debug, Default)]
pub struct Fields {
    pub command: Option<Command>,
    pub environment: Vec<(String, Option<String>)>,
    pub working_directory: Option<PathBuf>,
    pub is_enabled: Option<bool>,
    pub is_oneshot: bool,
    pub skipped: Vec<String>,
    pub notes: Vec<String>,
}

/// Reads `NAME.toml`: a unit, or why not.
pub fn unit_from_toml(name: &str, source: &str, text: &str) -> Result<Unit, Unreadable> {
    let unreadable = |line, reason| Unreadable {
        name: name.into(),
        source: source.into(),
        line,
        reason,
    };
    let fields =
        read_fields(text, TOML_KEYS).map_err(|(line, reason)| unreadable(Some(line), reason))?;
    let command = fields
        .command
        .ok_or_else(|| unreadable(None, "no command".into()))?;
    Ok(Unit {
        name: name.into(),
        source: source.into(),
        command,
        environment: fields.environment,
        working_directory: fields.working_directory,
        is_enabled: fields.is_enabled.unwrap_or(true),
        is_oneshot: fields.is_oneshot,
        is_console: false,
        skipped: fields.skipped,
        notes: fields.notes,
    })
}

/// The fields of `keys` that `text` sets; the first problem in one of them, with its line.
pub fn read_fields(text: &str, keys: &[&str]) -> Result<Fields, (usize, String)> {
    let document = toml::parse(text);
    let mut fields = Fields::default();
    for problem in &document.problems {
        if is_needed(problem, keys) {
            let key = problem
                .key
                .as_ref()
                .map(|key| format!("{}: ", key.join(".")));
            return Err((
                problem.line,
                format!("{}{}", key.unwrap_or_default(), problem.message),
            ));
        }
        fields.notes.push(format!(
            "line {}: {} (skipped)",
            problem.line, problem.message
        ));
    }
    let mut skipped: Vec<(usize, String)> = Vec::new();
    for header in &document.headers {
        if !header
            .key
            .first()
            .is_some_and(|first| keys.contains(&first.as_str()))
        {
            skipped.push((header.line, format!("[{}]", header.key.join("."))));
        }
    }
    let mut seen: Vec<String> = Vec::new();
    for entry in &document.entries {
        let Some(first) = entry.key.first() else {
            continue;
        };
        if !keys.contains(&first.as_str()) {
            if entry.table_len == 0 {
                skipped.push((entry.line, entry.key.join(".")));
            }
            continue;
        }
        let at = |message: String| (entry.line, format!("{}: {message}", entry.key.join(".")));
        apply(&mut fields, &entry.key, &entry.value, &mut seen).map_err(at)?;
    }
    skipped.sort();
    for (_, label) in skipped {
        if !fields.skipped.contains(&label) {
            fields.skipped.push(label);
        }
    }
    Ok(fields)
}

/// A problem matters when it is in a key we read, or when nobody can tell which key it
/// was in and it sits at the top level or in a table we read.
fn is_needed(problem: &Problem, keys: &[&str]) -> bool {
    let path = problem.key.as_ref().unwrap_or(&problem.table);
    match path.first() {
        Some(first) => keys.contains(&first.as_str()),
        None => true,
    }
}

fn apply(
    fields: &mut Fields,
    key: &[String],
    value: &Value,
    seen: &mut Vec<String>,
) -> Result<(), String> {
    let joined = key.join(".");
    if seen.contains(&joined) {
        return Err("defined twice".into());
    }
    seen.push(joined);
    let names: Vec<&str> = key.iter().map(String::as_str).collect();
    match names.as_slice() {
        ["command"] => fields.command = Some(command_of(value)?),
        ["environment"] => {
            let Value::Table(variables) = value else {
                return Err(format!(
                    "expected a table of strings, found {}",
                    describe(value)
                ));
            };
            for (name, value) in variables {
                let name = match name.as_slice() {
                    [name] => name,
                    _ => return Err(format!("`{}` is not a variable name", name.join("."))),
                };
                let full = vec!["environment".to_string(), name.clone()];
                apply(fields, &full, value, seen).map_err(|error| format!("{name}: {error}"))?;
            }
        }
        ["environment", name] => match value {
            Value::String(text) => fields
                .environment
                .push((name.to_string(), Some(text.clone()))),
            other => return Err(format!("expected a string, found {}", describe(other))),
        },
        ["working-directory"] => match value {
            Value::String(path) if !path.is_empty() => {
                fields.working_directory = Some(PathBuf::from(path));
            }
            other => return Err(format!("expected a directory, found {}", describe(other))),
        },
        ["enabled"] => match value {
            Value::Bare(word) if word == "true" || word == "false" => {
                fields.is_enabled = Some(word == "true");
            }
            other => return Err(format!("expected true or false, found {}", describe(other))),
        },
        ["kind"] => match value {
            Value::String(kind) if kind == "daemon" || kind == "oneshot" => {
                fields.is_oneshot = kind == "oneshot";
            }
            other => {
                return Err(format!(
                    "expected \"daemon\" or \"oneshot\", found {}",
                    describe(other)
                ));
            }
        },
        _ => {
            let first = key.first().map_or("", String::as_str);
            return Err(format!("{first} has no sub-keys"));
        }
    }
    Ok(())
}

fn command_of(value: &Value) -> Result<Command, String> {
    match value {
        Value::String(script) if script.trim().is_empty() => Err("the command is empty".into()),
        Value::String(script) => Ok(Command::Shell(script.clone())),
        Value::Array(items) => {
            let argv: Option<Vec<String>> = items
                .iter()
                .map(|item| match item {
                    Value::String(word) => Some(word.clone()),
                    _ => None,
                })
                .collect();
            match argv {
                None => Err("expected an array of strings".into()),
                Some(argv) if argv.is_empty() => Err("the command is empty".into()),
                Some(argv) => Ok(Command::Argv(argv)),
            }
        }
        other => Err(format!(
            "expected a string or an array of strings, found {}",
            describe(other)
        )),
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::String(text) => format!("the string {text:?}"),
        Value::Array(_) => "an array".into(),
        Value::Table(_) => "a table".into(),
        Value::Bare(word) => format!("`{word}`"),
    }
}

/// A unit name: letters, digits and `_ . @ -` (a leading dot hides the file instead).
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.@-".contains(c))
}

/// How much of a shell command the report shows.
const SHOWN_CHARS: usize = 60;

impl fmt::Display for Command {
    /// One short line for the report.
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Command::Shell(script) => {
                let mut lines = script.trim().lines();
                let line = lines.next().unwrap_or_default();
                let shown: String = line.chars().take(SHOWN_CHARS).collect();
                let is_cut = shown.len() < line.len() || lines.next().is_some();
                write!(f, "sh -c {shown:?}{}", if is_cut { " …" } else { "" })
            }
            Command::Argv(argv) => write!(f, "{argv:?}"),
            Command::Run(_) => write!(f, "./run"),
        }
    }
}

#[cfg(test)]
#[path = "unit_tests.rs"]
mod tests;
