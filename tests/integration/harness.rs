//! Runs the built `phoenix` binary as PID 1 of a fresh PID namespace (`Pid1`) or as a
//! plain process (`Plain`), in a temporary directory of its own, and observes it from
//! outside: exit status, files its children write, `/proc`.
//!
//! Nothing here waits with a fixed sleep: every wait polls a condition until a deadline.
//! Nothing here skips: a machine that cannot run the tests fails them with a reason.

use std::error::Error;
use std::ffi::OsStr;
use std::fs::{self, File};
use std::panic::Location;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, geteuid};
use tempfile::TempDir;

use crate::procfs::{children, descendants};
pub use crate::wait::{DEADLINE, eventually, wait_until};

pub type TestResult<T = ()> = Result<T, Box<dyn Error>>;

/// Environment that would change Phoenix's mode or output behind a test's back.
const SCRUBBED_ENV: &[&str] = &[
    "PHOENIX_SERVICES",
    "PHOENIX_LOG",
    "RUST_LOG",
    "TINI_SUBREAPER",
    "TINI_KILL_PROCESS_GROUP",
    "TINI_VERBOSITY",
    // A test runner under systemd must not have every Phoenix notify its manager.
    "NOTIFY_SOCKET",
    "WATCHDOG_USEC",
    "WATCHDOG_PID",
];

/// The binary under test: `$PHOENIX_TEST_BIN` (e.g. `/usr/bin/tini`, to check the harness
/// and the tini-compatible tests against the reference), else the crate's `phoenix`.
pub fn binary() -> PathBuf {
    std::env::var_os("PHOENIX_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_phoenix")))
}

/// A fresh directory for one test, to prepare files before Phoenix starts.
pub fn scratch() -> TestResult<TempDir> {
    Ok(tempfile::Builder::new().prefix("phoenix-test-").tempdir()?)
}

/// `["--", "sh", "-c", script]`, the usual child, after whatever flags come first.
pub fn sh(script: &str) -> Vec<String> {
    vec!["--".into(), "sh".into(), "-c".into(), script.into()]
}

/// Phoenix as PID 1 of a new PID namespace with its own `/proc`.
pub struct Pid1;

/// Phoenix as an ordinary process of the test's namespace.
pub struct Plain;

impl Pid1 {
    pub fn start(args: impl IntoIterator<Item = impl AsRef<OsStr>>) -> TestResult<Phoenix> {
        Self::start_in(scratch()?, args)
    }

    /// Starts in a directory the test has already filled.
    pub fn start_in(
        dir: TempDir,
        args: impl IntoIterator<Item = impl AsRef<OsStr>>,
    ) -> TestResult<Phoenix> {
        Self::launch(dir, &[], args)
    }

    /// Starts with extra environment (on top of the test's, minus `SCRUBBED_ENV`).
    pub fn start_with_env(
        env: &[(&str, &str)],
        args: impl IntoIterator<Item = impl AsRef<OsStr>>,
    ) -> TestResult<Phoenix> {
        Self::launch(scratch()?, env, args)
    }

    /// Starts in a directory the test has already filled, with extra environment.
    pub fn start_in_with_env(
        dir: TempDir,
        env: &[(&str, &str)],
        args: impl IntoIterator<Item = impl AsRef<OsStr>>,
    ) -> TestResult<Phoenix> {
        Self::launch(dir, env, args)
    }

    /// Starts `WRAPPER... phoenix ARGS...`, where the wrapper execs Phoenix (`setpriv`), so
    /// Phoenix is still PID 1.
    pub fn start_wrapped(
        dir: TempDir,
        env: &[(&str, &str)],
        wrapper: &[&str],
        args: impl IntoIterator<Item = impl AsRef<OsStr>>,
    ) -> TestResult<Phoenix> {
        let mut command = Command::new("unshare");
        command.args(["--pid", "--fork", "--kill-child", "--mount-proc"]);
        command.args(wrapper).arg(binary()).args(args);
        let mut phoenix = Phoenix::spawn(dir, command, env, true)?;
        phoenix.pid = phoenix.find_namespace_init()?;
        Ok(phoenix)
    }

    /// Starts `program` (a copy of Phoenix the test may replace) instead of `binary()`.
    pub fn start_binary(
        dir: TempDir,
        env: &[(&str, &str)],
        program: &Path,
        args: impl IntoIterator<Item = impl AsRef<OsStr>>,
    ) -> TestResult<Phoenix> {
        let mut command = Command::new("unshare");
        command.args(["--pid", "--fork", "--kill-child", "--mount-proc"]);
        command.arg(program).args(args);
        let mut phoenix = Phoenix::spawn(dir, command, env, true)?;
        phoenix.pid = phoenix.find_namespace_init()?;
        Ok(phoenix)
    }

    /// Starts with `ignored` signals set to SIG_IGN and `blocked` ones in the mask, as
    /// `nohup`, a shell's background job or tini's own signal-configuration test hand them
    /// over (both survive exec).
    pub fn start_with_signals(
        dir: TempDir,
        ignored: &'static [i32],
        blocked: &'static [i32],
        args: impl IntoIterator<Item = impl AsRef<OsStr>>,
    ) -> TestResult<Phoenix> {
        Self::launch_with(dir, &[], (ignored, blocked), args)
    }

    fn launch(
        dir: TempDir,
        env: &[(&str, &str)],
        args: impl IntoIterator<Item = impl AsRef<OsStr>>,
    ) -> TestResult<Phoenix> {
        Self::launch_with(dir, env, (&[], &[]), args)
    }

    fn launch_with(
        dir: TempDir,
        env: &[(&str, &str)],
        (ignored, blocked): (&'static [i32], &'static [i32]),
        args: impl IntoIterator<Item = impl AsRef<OsStr>>,
    ) -> TestResult<Phoenix> {
        if !geteuid().is_root() {
            return Err("PID-1 tests need root: they run `unshare --pid --mount-proc`".into());
        }
        let mut command = Command::new("unshare");
        if !ignored.is_empty() || !blocked.is_empty() {
            use std::os::unix::process::CommandExt;
            // SAFETY: signal(2), sigaddset and sigprocmask are async-signal-safe and touch
            // only the stack.
            unsafe {
                command.pre_exec(move || {
                    for &signal in ignored {
                        libc::signal(signal, libc::SIG_IGN);
                    }
                    let mut mask: libc::sigset_t = std::mem::zeroed();
                    libc::sigemptyset(&mut mask);
                    for &signal in blocked {
                        libc::sigaddset(&mut mask, signal);
                    }
                    libc::sigprocmask(libc::SIG_BLOCK, &mask, std::ptr::null_mut());
                    Ok(())
                });
            }
        }
        command.args(["--pid", "--fork", "--kill-child", "--mount-proc"]);
        command.arg(binary()).args(args);
        let mut phoenix = Phoenix::spawn(dir, command, env, true)?;
        phoenix.pid = phoenix.find_namespace_init()?;
        Ok(phoenix)
    }
}

impl Plain {
    pub fn start(args: impl IntoIterator<Item = impl AsRef<OsStr>>) -> TestResult<Phoenix> {
        Self::launch(Command::new(binary()), args)
    }

    /// Starts Phoenix already registered as a child subreaper, as a proxy that calls
    /// `PR_SET_CHILD_SUBREAPER` and then execs it would (the flag survives exec).
    pub fn start_as_subreaper(
        args: impl IntoIterator<Item = impl AsRef<OsStr>>,
    ) -> TestResult<Phoenix> {
        use std::os::unix::process::CommandExt;
        let mut command = Command::new(binary());
        // SAFETY: prctl is async-signal-safe and touches no memory of ours.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        Self::launch(command, args)
    }

    /// Starts with extra environment (on top of the test's, minus `SCRUBBED_ENV`).
    pub fn start_with_env(
        env: &[(&str, &str)],
        args: impl IntoIterator<Item = impl AsRef<OsStr>>,
    ) -> TestResult<Phoenix> {
        Self::launch_with_env(Command::new(binary()), env, args)
    }

    fn launch(
        command: Command,
        args: impl IntoIterator<Item = impl AsRef<OsStr>>,
    ) -> TestResult<Phoenix> {
        Self::launch_with_env(command, &[], args)
    }

    fn launch_with_env(
        mut command: Command,
        env: &[(&str, &str)],
        args: impl IntoIterator<Item = impl AsRef<OsStr>>,
    ) -> TestResult<Phoenix> {
        command.args(args);
        let mut phoenix = Phoenix::spawn(scratch()?, command, env, false)?;
        phoenix.pid = Some(phoenix.process.id() as i32);
        Ok(phoenix)
    }
}

/// A running (or finished) Phoenix; dropping it kills it and everything it started.
pub struct Phoenix {
    dir: TempDir,
    process: Child,
    /// Phoenix's pid as the test's namespace sees it; `None` if it ended before it was seen.
    pid: Option<i32>,
    is_namespaced: bool,
    /// Its parent (unshare) was killed under it: nobody here can wait for it any more.
    is_orphaned: bool,
}

impl Phoenix {
    fn spawn(
        dir: TempDir,
        mut command: Command,
        env: &[(&str, &str)],
        is_namespaced: bool,
    ) -> TestResult<Self> {
        for name in SCRUBBED_ENV {
            command.env_remove(name);
        }
        command.envs(env.iter().copied());
        command
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(File::create(dir.path().join(".stdout"))?)
            .stderr(File::create(dir.path().join(".stderr"))?);
        let process = command
            .spawn()
            .map_err(|error| format!("unable to spawn {command:?}: {error}"))?;
        Ok(Phoenix {
            dir,
            process,
            pid: None,
            is_namespaced,
            is_orphaned: false,
        })
    }

    /// Phoenix is unshare's only child; it may also have come and gone already.
    fn find_namespace_init(&mut self) -> TestResult<Option<i32>> {
        let unshare = self.process.id() as i32;
        let mut found = None;
        let mut has_exited = false;
        wait_until(DEADLINE, || {
            found = children(unshare).first().copied();
            has_exited = matches!(self.process.try_wait(), Ok(Some(_)));
            found.is_some() || has_exited
        });
        if found.is_none() && !has_exited {
            return Err(format!(
                "unshare started no child within {DEADLINE:?}{}",
                self.context()
            )
            .into());
        }
        if has_exited && self.stderr().contains("unshare:") {
            return Err(format!("unshare failed (are we root?){}", self.context()).into());
        }
        Ok(found)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The contents of a file in the test directory, empty if it does not exist.
    pub fn read(&self, name: &str) -> String {
        fs::read_to_string(self.path(name)).unwrap_or_default()
    }

    /// The lines of a file in the test directory (one per record a service appended).
    pub fn lines(&self, name: &str) -> Vec<String> {
        self.read(name).lines().map(str::to_string).collect()
    }

    /// Writes a file in the test directory, replacing it.
    pub fn write(&self, name: &str, text: &str) -> TestResult {
        fs::write(self.path(name), text)?;
        Ok(())
    }

    pub fn exists(&self, name: &str) -> bool {
        self.path(name).exists()
    }

    pub fn touch(&self, name: &str) -> TestResult {
        File::create(self.path(name))?;
        Ok(())
    }

    pub fn stderr(&self) -> String {
        self.read(".stderr")
    }

    /// The pid of the process that started Phoenix (unshare, or the test itself).
    pub fn launcher_pid(&self) -> i32 {
        if self.is_namespaced {
            self.process.id() as i32
        } else {
            std::process::id() as i32
        }
    }

    /// Phoenix's pid in the test's (outer) namespace.
    pub fn pid(&self) -> TestResult<i32> {
        self.pid
            .ok_or_else(|| "phoenix ended before its pid was seen".into())
    }

    /// Sends `signal` to Phoenix from outside its namespace.
    pub fn signal(&self, signal: Signal) -> TestResult {
        self.signal_number(signal as i32)
    }

    /// Sends a signal by number, for those `Signal` cannot name (real-time ones).
    pub fn signal_number(&self, signal: i32) -> TestResult {
        // SAFETY: kill(2) takes plain integers and touches no memory of ours.
        if unsafe { libc::kill(self.pid()?, signal) } == 0 {
            Ok(())
        } else {
            Err(format!(
                "kill({}, {signal}): {}",
                self.pid()?,
                std::io::Error::last_os_error()
            )
            .into())
        }
    }

    /// Kills Phoenix's parent (unshare) and nothing else, as a parent-death signal needs.
    pub fn kill_parent(&mut self) -> TestResult {
        if !self.is_namespaced {
            return Err("a plain phoenix's parent is the test itself".into());
        }
        self.is_orphaned = true;
        self.process.kill()?;
        self.process.wait()?;
        Ok(())
    }

    /// Waits until `condition` holds; the error carries Phoenix's stderr and the files.
    #[track_caller]
    pub fn eventually(&self, what: &str, condition: impl FnMut() -> bool) -> TestResult {
        eventually(what, condition).map_err(|error| format!("{error}{}", self.context()).into())
    }

    /// Waits until Phoenix's stderr contains `needle`.
    #[track_caller]
    pub fn wait_for_log(&self, needle: &str) -> TestResult {
        self.eventually(&format!("stderr contains {needle:?}"), || {
            self.stderr().contains(needle)
        })
    }

    /// Waits until the file has at least `count` lines and returns them.
    #[track_caller]
    pub fn wait_for_lines(&self, name: &str, count: usize) -> TestResult<Vec<String>> {
        self.eventually(&format!("{name} has {count} line(s)"), || {
            self.lines(name).len() >= count
        })?;
        Ok(self.lines(name))
    }

    /// Waits until the file exists and returns its contents.
    #[track_caller]
    pub fn wait_for_file(&self, name: &str) -> TestResult<String> {
        self.eventually(&format!("{name} exists"), || self.exists(name))?;
        Ok(self.read(name))
    }

    /// The exit status as a shell would show it, if Phoenix has ended.
    pub fn try_exit(&mut self) -> TestResult<Option<i32>> {
        match self.process.try_wait()? {
            None => Ok(None),
            Some(status) => self.shell_status(status).map(Some),
        }
    }

    /// Lets a child that waits for a `done` file finish, and checks that Phoenix then
    /// exits 0.
    #[track_caller]
    pub fn finish_when_done(&mut self) -> TestResult {
        self.touch("done")?;
        let status = self.wait_exit(DEADLINE)?;
        assert_eq!(status, 0, "exit status{}", self.context());
        Ok(())
    }

    /// Waits for Phoenix to end; its status as a shell would show it (code, or 128+N).
    #[track_caller]
    pub fn wait_exit(&mut self, timeout: Duration) -> TestResult<i32> {
        let caller = Location::caller();
        let mut status = None;
        wait_until(timeout, || {
            status = self.process.try_wait().ok().flatten();
            status.is_some()
        });
        match status {
            Some(status) => self.shell_status(status),
            None => Err(format!(
                "{caller}: phoenix still running after {timeout:?}{}",
                self.context()
            )
            .into()),
        }
    }

    /// `unshare --fork` mirrors its child's code and re-raises its child's fatal signal,
    /// except that util-linux 2.38 cannot re-raise SIGKILL and exits 1 with a message
    /// instead: any message of unshare's own means the status is not Phoenix's.
    fn shell_status(&self, status: ExitStatus) -> TestResult<i32> {
        use std::os::unix::process::ExitStatusExt;
        if self.is_namespaced && self.stderr().contains("unshare:") {
            return Err(format!("unshare reported an error ({status}){}", self.context()).into());
        }
        match (status.code(), status.signal()) {
            (Some(code), _) => Ok(code),
            (None, Some(signal)) => Ok(128 + signal),
            (None, None) => Err(format!("unexpected wait status {status}").into()),
        }
    }

    /// What a failure message should show: Phoenix's stderr and the directory's files.
    pub fn context(&self) -> String {
        let mut files: Vec<String> = fs::read_dir(self.dir())
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        format!("\n--- files: {files:?}\n--- stderr:\n{}---", self.stderr())
    }
}

impl Drop for Phoenix {
    /// Kills Phoenix and, for a plain run, every descendant it still has; in a namespace
    /// the kernel kills the rest when PID 1 dies (and `--kill-child` covers unshare).
    fn drop(&mut self) {
        if let (true, Some(pid)) = (self.is_orphaned, self.pid) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
        if let Ok(None) = self.process.try_wait() {
            if let Some(pid) = self.pid {
                let mut doomed = vec![pid];
                if !self.is_namespaced {
                    doomed.extend(descendants(pid));
                }
                for pid in doomed {
                    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
                }
            }
            let _ = self.process.kill();
        }
        let _ = self.process.wait();
    }
}

static NOBODY_SHARED_MEMORY: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// `/dev/shm/phoenix-65534`, uid 65534's shared-memory fallback, is one directory for every
/// test that runs Phoenix as nobody with default paths: such tests take turns, or one finds
/// the state (a `phoenix.toml.last-good`) another left there.
pub fn nobody_shared_memory() -> std::sync::MutexGuard<'static, ()> {
    NOBODY_SHARED_MEMORY
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
