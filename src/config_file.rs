//! `phoenix.toml` at start (DESIGN.md §7, §9): `--config FILE`, else the system file when
//! it exists, else every default. A valid file's text is kept as
//! `<state-dir>/phoenix.toml.last-good` once the state directory is chosen and Phoenix's
//! own (rewritten only when it changed). A file that is invalid or cannot be read is an
//! error line, and the last valid copy is used instead. Since the state directory itself
//! may be set in the broken file, the copy is looked for where that directory would be:
//! the `state-dir` the file still names when it is TOML at all, then the default state
//! directory, then `state/` in each default runtime directory (where an unusable state
//! directory falls back to). No copy: every default, as before. Shell only.

use std::path::{Path, PathBuf};

use crate::atomic_file::{self, Attributes};
use crate::control::paths::runtime_dir_candidates;
use crate::unit::{Settings, UnitError, parse_settings};

/// The copy's name inside the state directory.
pub const LAST_GOOD: &str = "phoenix.toml.last-good";

const SYSTEM_CONFIG: &str = "/etc/phoenix/phoenix.toml";

/// The settings Phoenix starts with.
#[derive(Debug, Default)]
pub struct Config {
    pub settings: Settings,
    /// The text of a valid file read at start: the next last-good copy.
    pub valid_text: Option<String>,
}

/// `--config`, else the system file when it exists; `None`: no file, every default.
fn config_path(config: Option<&Path>) -> Option<PathBuf> {
    match config {
        Some(path) => Some(path.to_path_buf()),
        None if Path::new(SYSTEM_CONFIG).is_file() => Some(PathBuf::from(SYSTEM_CONFIG)),
        None => None,
    }
}

/// The file's settings and text; the error names the file and what is wrong with it.
pub fn read(config: Option<&Path>) -> Result<Option<(Settings, String)>, String> {
    let Some(path) = config_path(config) else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|error| format!("{}: {}", path.display(), crate::sys::io_error_text(&error)))?;
    let settings = parse_settings(&path, &text).map_err(|error| error.to_string())?;
    missing_disk(&path, &text, &settings)?;
    Ok(Some((settings, text)))
}

/// A `[[disk]]` path that does not exist is an error at its line: the check could never
/// tell anything.
fn missing_disk(path: &Path, text: &str, settings: &Settings) -> Result<(), String> {
    match settings.disks.iter().find(|disk| !disk.path.exists()) {
        Some(disk) => Err(UnitError::at(
            path,
            text,
            disk.offset,
            format!(
                "invalid path '{}': no such file or directory",
                disk.path.display()
            ),
        )
        .to_string()),
        None => Ok(()),
    }
}

/// The settings to start with: the file's, else the last valid copy's, else the defaults;
/// a broken file is logged as an error either way. `state_dirs` are where a copy is looked
/// for after the state directory the broken file names ([`fallback_state_dirs`]).
pub fn load(config: Option<&Path>, state_dirs: &[PathBuf]) -> Config {
    let message = match read(config) {
        Ok(Some((settings, text))) => {
            return Config {
                settings,
                valid_text: Some(text),
            };
        }
        Ok(None) => return Config::default(),
        Err(message) => message,
    };
    let named = config_path(config).and_then(|path| named_state_dir(&path));
    for dir in named.iter().chain(state_dirs) {
        let path = dir.join(LAST_GOOD);
        if let Some(settings) = read_copy(&path) {
            log::error!(
                "{message}; using the last valid copy from {}",
                path.display()
            );
            return Config {
                settings,
                valid_text: None,
            };
        }
    }
    log::error!("{message}; using default settings");
    Config::default()
}

/// Where the state directory is without settings: the default one, then `state/` in each
/// default runtime directory.
pub fn fallback_state_dirs() -> Vec<PathBuf> {
    crate::state_dir::default_state_dir()
        .into_iter()
        .chain(runtime_dir_candidates().iter().map(|dir| dir.join("state")))
        .collect()
}

/// The `state-dir` of a file that is TOML but not valid settings (an unknown key, a bad
/// value elsewhere): still the operator's choice of directory.
fn named_state_dir(path: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(path).ok()?;
    let table: toml::Table = toml::from_str(&text).ok()?;
    let dir = PathBuf::from(table.get("state-dir")?.as_str()?);
    dir.is_absolute().then_some(dir)
}

/// A copy that is there and still parses; a broken copy is a warning and is skipped.
fn read_copy(path: &Path) -> Option<Settings> {
    let text = std::fs::read_to_string(path).ok()?;
    match parse_settings(path, &text) {
        Ok(settings) => Some(settings),
        Err(error) => {
            log::warn!("ignoring the last valid copy: {error}");
            None
        }
    }
}

/// Keeps `text` as the last valid copy in `state_dir`, unless it already is; a failure is
/// a warning (the copy is a fallback, never a reason not to start).
pub fn keep_last_good(state_dir: &Path, text: &str) {
    let path = state_dir.join(LAST_GOOD);
    if std::fs::read(&path).is_ok_and(|kept| kept == text.as_bytes()) {
        return;
    }
    if let Err(error) = atomic_file::write(&path, text.as_bytes(), Attributes::PRIVATE) {
        log::warn!(
            "unable to keep the last valid phoenix.toml in {}: {}",
            path.display(),
            crate::sys::io_error_text(&error)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn write(path: &Path, text: &str) {
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn a_valid_file_is_used_and_its_text_kept_once() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("phoenix.toml");
        write(&config, "shutdown-timeout = \"7s\"\n");
        let loaded = load(Some(&config), &[]);
        assert_eq!(loaded.settings.shutdown_timeout, Duration::from_secs(7));
        let text = loaded.valid_text.unwrap();
        keep_last_good(dir.path(), &text);
        let copy = dir.path().join(LAST_GOOD);
        assert_eq!(std::fs::read_to_string(&copy).unwrap(), text);
        let written = std::fs::metadata(&copy).unwrap().modified().unwrap();
        keep_last_good(dir.path(), &text);
        let again = std::fs::metadata(&copy).unwrap().modified().unwrap();
        assert_eq!(written, again, "an unchanged copy is not rewritten");
    }

    #[test]
    fn an_invalid_file_falls_back_to_the_copy_in_the_state_dir_it_still_names() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        std::fs::create_dir(&state).unwrap();
        write(&state.join(LAST_GOOD), "shutdown-timeout = \"7s\"\n");
        let config = dir.path().join("phoenix.toml");
        write(
            &config,
            &format!(
                "state-dir = {:?}\nshutdown-timeout = \"soon\"\n",
                state.display()
            ),
        );
        let loaded = load(Some(&config), &[]);
        assert_eq!(loaded.settings.shutdown_timeout, Duration::from_secs(7));
        assert_eq!(loaded.valid_text, None, "a broken file is never kept");
    }

    #[test]
    fn a_file_that_is_not_toml_looks_in_the_fallbacks_then_uses_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("phoenix.toml");
        write(&config, "state-dir = [[[ not toml");
        let fallbacks = [dir.path().join("default"), dir.path().join("run/state")];
        assert_eq!(
            load(Some(&config), &fallbacks).settings,
            Settings::default()
        );
        std::fs::create_dir_all(&fallbacks[1]).unwrap();
        write(&fallbacks[1].join(LAST_GOOD), "grace = \"3s\"\n");
        let loaded = load(Some(&config), &fallbacks);
        assert_eq!(loaded.settings.grace, Duration::from_secs(3));
    }

    #[test]
    fn an_unreadable_file_and_a_broken_copy_end_in_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let fallback = dir.path().join("state");
        std::fs::create_dir_all(&fallback).unwrap();
        write(&fallback.join(LAST_GOOD), "grace = 3");
        let missing = dir.path().join("absent.toml");
        let error = read(Some(&missing)).unwrap_err();
        assert!(
            error.ends_with("absent.toml: No such file or directory"),
            "{error}"
        );
        let loaded = load(Some(&missing), &[fallback]);
        assert_eq!(loaded.settings, Settings::default());
    }

    #[test]
    fn a_disk_path_that_does_not_exist_is_an_error_at_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("phoenix.toml");
        let missing = dir.path().join("gone");
        let text = format!(
            "grace = \"3s\"\n[[disk]]\npath = {:?}\nwarning = \"1%\"\ncritical = \"2%\"\n",
            missing.display()
        );
        write(&config, &text);
        let error = read(Some(&config)).unwrap_err();
        let expected = format!(
            "{}:3:8: invalid path '{}': no such file or directory",
            config.display(),
            missing.display()
        );
        assert!(error.contains(&expected), "{error}");
        write(&config, &text.replace("gone", ""));
        assert_eq!(read(Some(&config)).unwrap().unwrap().0.disks.len(), 1);
    }
}
