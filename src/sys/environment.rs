//! The environment a spawned process receives, built before the fork in layers, each over
//! the last (systemd's order): Phoenix's own environment (the container convention), the
//! user's HOME, USER, LOGNAME and SHELL, the environment files, then the spec's
//! `environment`. Files are read at every spawn, so an edit takes effect on the next
//! restart; parsing them is `envfile`'s job, reading them is this file's only system access.

use std::ffi::{OsStr, OsString};

use crate::core::SpawnError;
use crate::envfile::parse_environment_file;
use crate::process_spec::{EnvironmentFileSpec, ProcessSpec};
use crate::sys::credentials::Account;

/// The complete environment for `spec`, run as `account` when a user is set.
pub fn build_environment(
    spec: &ProcessSpec,
    account: Option<&Account>,
) -> Result<Vec<(OsString, OsString)>, SpawnError> {
    let mut environment: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    if let Some(account) = account {
        set_variable(&mut environment, "HOME", account.home.as_os_str());
        set_variable(&mut environment, "USER", OsStr::new(&account.name));
        set_variable(&mut environment, "LOGNAME", OsStr::new(&account.name));
        set_variable(&mut environment, "SHELL", account.shell.as_os_str());
    }
    for file in &spec.environment_files {
        for (key, value) in read_environment_file(file)? {
            set_variable(&mut environment, &key, OsStr::new(&value));
        }
    }
    for (key, value) in &spec.environment {
        environment.retain(|(k, _)| k != OsStr::new(key));
        if let Some(value) = value {
            environment.push((OsString::from(key), OsString::from(value)));
        }
    }
    Ok(environment)
}

fn set_variable(environment: &mut Vec<(OsString, OsString)>, key: &str, value: &OsStr) {
    environment.retain(|(k, _)| k != OsStr::new(key));
    environment.push((OsString::from(key), value.to_os_string()));
}

/// The assignments of one file; none when an optional file does not exist.
fn read_environment_file(file: &EnvironmentFileSpec) -> Result<Vec<(String, String)>, SpawnError> {
    let failure = |errno: i32, message: String| SpawnError {
        pid: None,
        errno,
        message,
    };
    let bytes = match std::fs::read(&file.path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound && file.optional => {
            return Ok(Vec::new());
        }
        Err(error) => {
            let errno = error.raw_os_error().unwrap_or(libc::EIO);
            return Err(failure(
                errno,
                format!(
                    "environment file {}: {}",
                    file.path.display(),
                    super::errno_text(errno)
                ),
            ));
        }
    };
    let text = String::from_utf8(bytes).map_err(|_| {
        failure(
            libc::EINVAL,
            format!(
                "environment file {}: expected UTF-8 text",
                file.path.display()
            ),
        )
    })?;
    parse_environment_file(&file.path, &text)
        .map_err(|error| failure(libc::EINVAL, format!("environment file {error}")))
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::process_spec::Placement;

    fn spec_with_files(files: &[(&Path, bool)]) -> ProcessSpec {
        let mut spec = ProcessSpec::command("x", vec!["x".into()], Placement::NewSession);
        spec.environment_files = files
            .iter()
            .map(|(path, optional)| EnvironmentFileSpec {
                path: path.to_path_buf(),
                optional: *optional,
            })
            .collect();
        spec
    }

    fn value_of<'a>(environment: &'a [(OsString, OsString)], key: &str) -> Option<&'a OsStr> {
        environment
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_os_str())
    }

    #[test]
    fn environment_overrides_and_unsets() {
        // SAFETY: this test binary's other tests do not read this variable.
        unsafe { std::env::set_var("PHOENIX_TEST_UNSET_ME", "1") };
        let mut spec = ProcessSpec::command("x", vec!["x".into()], Placement::NewSession);
        spec.environment = vec![
            ("PHOENIX_TEST_UNSET_ME".into(), None),
            ("A_NEW_ONE".into(), Some("v".into())),
        ];
        let merged = build_environment(&spec, None).unwrap();
        assert!(!merged.iter().any(|(k, _)| k == "PHOENIX_TEST_UNSET_ME"));
        assert!(merged.contains(&("A_NEW_ONE".into(), "v".into())));
    }

    #[test]
    fn layers_apply_account_then_files_then_overrides() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("first");
        let second = dir.path().join("second");
        std::fs::write(&first, "FROM_FILE=1\nSHELL=/bin/file-shell\nLATER=first\n").unwrap();
        std::fs::write(&second, "LATER=second\nOVERRIDDEN=file\n").unwrap();
        let mut spec = spec_with_files(&[(&first, false), (&second, false)]);
        spec.environment = vec![("OVERRIDDEN".into(), Some("spec".into()))];
        let account = Account {
            name: "web".into(),
            home: PathBuf::from("/srv/web"),
            shell: PathBuf::from("/bin/sh"),
        };
        let environment = build_environment(&spec, Some(&account)).unwrap();
        let value = |key| value_of(&environment, key).and_then(OsStr::to_str);
        assert_eq!(value("HOME"), Some("/srv/web"));
        assert_eq!(value("USER"), Some("web"));
        assert_eq!(value("LOGNAME"), Some("web"));
        assert_eq!(value("SHELL"), Some("/bin/file-shell"));
        assert_eq!(value("FROM_FILE"), Some("1"));
        assert_eq!(value("LATER"), Some("second"));
        assert_eq!(value("OVERRIDDEN"), Some("spec"));
        assert_eq!(environment.iter().filter(|(k, _)| k == "LATER").count(), 1);
    }

    #[test]
    fn a_missing_optional_file_is_skipped() {
        let spec = spec_with_files(&[(Path::new("/nonexistent/phoenix-env"), true)]);
        assert!(build_environment(&spec, None).is_ok());
    }

    #[test]
    fn a_missing_required_file_is_an_error() {
        let spec = spec_with_files(&[(Path::new("/nonexistent/phoenix-env"), false)]);
        let error = build_environment(&spec, None).unwrap_err();
        assert_eq!(error.errno, libc::ENOENT);
        assert_eq!(
            error.message,
            "environment file /nonexistent/phoenix-env: No such file or directory"
        );
    }

    #[test]
    fn a_malformed_file_is_an_error_even_when_optional() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("env");
        std::fs::write(&path, "A=1\noops\n").unwrap();
        let error = build_environment(&spec_with_files(&[(&path, true)]), None).unwrap_err();
        assert_eq!(error.errno, libc::EINVAL);
        assert_eq!(
            error.message,
            format!(
                "environment file {}:2: expected KEY=VALUE, found 'oops'",
                path.display()
            )
        );
    }
}
