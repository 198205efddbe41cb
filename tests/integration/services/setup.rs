//! A scratch directory laid out for services mode: units in `services.d/` (or in a
//! directory shared by several runs), and a
//! `phoenix.toml` whose `state-dir` and `runtime-dir` are inside the test's own
//! directories, so no test ever touches `/var/lib/phoenix` or `/run/phoenix`. Services run with the scratch directory as their working
//! directory, so the files they write are the test's files.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::harness::{Phoenix, Pid1, TestResult, scratch};

pub struct ServicesDir {
    dir: TempDir,
    state_dir: PathBuf,
    services: PathBuf,
}

impl ServicesDir {
    /// A fresh layout whose state directory is `state/` inside it.
    pub fn new() -> TestResult<ServicesDir> {
        let dir = scratch()?;
        let state_dir = dir.path().join("state");
        let services = dir.path().join("services.d");
        ServicesDir::with(dir, state_dir, services)
    }

    /// A fresh layout keeping its state in `state_dir`, which outlives it (a second run of
    /// Phoenix finds what the first one saved).
    pub fn with_state_dir(state_dir: &Path) -> TestResult<ServicesDir> {
        let dir = scratch()?;
        let services = dir.path().join("services.d");
        ServicesDir::with(dir, state_dir.to_path_buf(), services)
    }

    /// A fresh layout whose units are in `services` and whose state is in `state_dir`,
    /// both outliving it: a second run on the same two is the same Phoenix restarted,
    /// whose saved records apply to the units they were kept for.
    pub fn with_dirs(state_dir: &Path, services: &Path) -> TestResult<ServicesDir> {
        ServicesDir::with(scratch()?, state_dir.to_path_buf(), services.to_path_buf())
    }

    fn with(dir: TempDir, state_dir: PathBuf, services: PathBuf) -> TestResult<ServicesDir> {
        fs::create_dir_all(&services)?;
        let layout = ServicesDir {
            dir,
            state_dir,
            services,
        };
        layout.settings("")?;
        Ok(layout)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The services directory, absolute.
    pub fn services(&self) -> PathBuf {
        self.services.clone()
    }

    /// Writes `phoenix.toml`: the state directory, a runtime directory (control socket) of
    /// this test's own, then `extra` settings.
    pub fn settings(&self, extra: &str) -> TestResult {
        let text = format!(
            "state-dir = {:?}\nruntime-dir = {:?}\n{extra}",
            self.state_dir.display(),
            self.path("run").display()
        );
        fs::write(self.path("phoenix.toml"), text)?;
        Ok(())
    }

    /// Writes `services.d/NAME.toml`.
    pub fn unit(&self, name: &str, toml: &str) -> TestResult {
        fs::write(self.services().join(format!("{name}.toml")), toml)?;
        Ok(())
    }

    /// Writes a file under the scratch directory (parents created) with `mode`.
    pub fn file(&self, name: &str, text: &str, mode: u32) -> TestResult {
        let path = self.path(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&path, text)?;
        fs::set_permissions(&path, fs::Permissions::from_mode(mode))?;
        Ok(())
    }

    /// `--services DIR -c phoenix.toml`, both absolute.
    pub fn args(&self) -> Vec<String> {
        vec![
            "--services".into(),
            self.services().display().to_string(),
            "-c".into(),
            self.path("phoenix.toml").display().to_string(),
        ]
    }

    /// Phoenix as PID 1 on this layout, with `extra` arguments after its own.
    pub fn start(self, extra: &[&str]) -> TestResult<Phoenix> {
        self.start_with_env(&[], extra)
    }

    /// Phoenix as PID 1 on this layout, handed `ignored` signals already ignored (and TERM
    /// and USR1 blocked).
    pub fn start_ignoring(self, ignored: &'static [i32]) -> TestResult<Phoenix> {
        let args = self.args();
        Pid1::start_with_signals(self.dir, ignored, &[libc::SIGTERM, libc::SIGUSR1], args)
    }

    /// The scratch directory, for a test that starts Phoenix its own way.
    pub fn into_dir(self) -> TempDir {
        self.dir
    }

    pub fn start_with_env(self, env: &[(&str, &str)], extra: &[&str]) -> TestResult<Phoenix> {
        let mut args = self.args();
        args.extend(extra.iter().map(|arg| arg.to_string()));
        Pid1::start_in_with_env(self.dir, env, args)
    }
}

/// A unit whose daemon appends `start NAME` to `log` when it starts and `stop NAME` when
/// it receives SIGTERM (then exits 0), and otherwise runs until stopped.
pub fn logging_daemon(name: &str, log: &str, extra: &str) -> String {
    format!(
        r#"command = '''
trap 'echo "stop {name}" >> {log}; exit 0' TERM
echo "start {name}" >> {log}
while :; do sleep 0.05; done
'''
{extra}
"#
    )
}

/// Milliseconds between consecutive records of `date +%s%N` lines.
pub fn gaps_ms(lines: &[String]) -> TestResult<Vec<i64>> {
    let nanos = lines
        .iter()
        .map(|line| line.trim().parse::<i64>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| format!("not a timestamp in {lines:?}: {error}"))?;
    Ok(nanos
        .windows(2)
        .map(|pair| (pair[1] - pair[0]) / 1_000_000)
        .collect())
}

/// The index of the first stderr line containing every one of `words`, if any.
pub fn log_position(stderr: &str, words: &[&str]) -> Option<usize> {
    stderr
        .lines()
        .position(|line| words.iter().all(|word| line.contains(word)))
}
