//! Runs the built `phoenix-rescue` as PID 1 of a fresh PID namespace (`unshare --pid
//! --fork --kill-child --mount-proc`) or as a plain process, in a scratch directory of its
//! own (`services/`, `run/`, `state/`, and the files its units write), and observes it from
//! outside: its log, its exit status, `/proc`. Standard library only, like the crate.
//!
//! Nothing waits with a fixed sleep: every wait polls a condition until a deadline.

use std::error::Error;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::panic::Location;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub type TestResult<T = ()> = Result<T, Box<dyn Error>>;

/// How long a test waits for what should happen almost at once.
pub const DEADLINE: Duration = Duration::from_secs(10);
const POLL_INTERVAL: Duration = Duration::from_millis(10);

pub const SIGKILL: i32 = 9;
pub const SIGTERM: i32 = 15;

unsafe extern "C" {
    fn kill(pid: i32, signal: i32) -> i32;
}

/// Polls `condition` until it holds (true) or `timeout` passes (false).
pub fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_phoenix-rescue")
}

/// Sends `signal` to `pid`; an error when there is no such process.
pub fn send_signal(pid: i32, signal: i32) -> TestResult {
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    match unsafe { kill(pid, signal) } {
        0 => Ok(()),
        _ => Err(format!("kill({pid}, {signal}): {}", std::io::Error::last_os_error()).into()),
    }
}

/// A fresh directory under the system's temporary directory, removed when dropped.
pub struct Scratch {
    path: PathBuf,
}

impl Scratch {
    pub fn new() -> TestResult<Scratch> {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH)?.subsec_nanos();
        let unique = format!(
            "phoenix-rescue-test-{}-{}-{nanos}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(unique);
        fs::create_dir(&path)?;
        fs::create_dir(path.join("services"))?;
        Ok(Scratch { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `name` inside the scratch directory, as a string for unit commands.
    pub fn file(&self, name: &str) -> String {
        self.path.join(name).display().to_string()
    }

    pub fn services(&self) -> PathBuf {
        self.path.join("services")
    }

    /// Writes `services/NAME` (creating its directory), replacing it.
    pub fn unit(&self, name: &str, text: &str) -> TestResult {
        let path = self.services().join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(path, text)?;
        Ok(())
    }

    /// Writes an s6 `services/NAME/run` with the given mode.
    pub fn run_script(&self, name: &str, script: &str, mode: u32) -> TestResult {
        self.unit(&format!("{name}/run"), script)?;
        let path = self.services().join(name).join("run");
        fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
        Ok(())
    }

    pub fn read(&self, name: &str) -> String {
        fs::read_to_string(self.path.join(name)).unwrap_or_default()
    }

    pub fn lines(&self, name: &str) -> Vec<String> {
        self.read(name).lines().map(str::to_string).collect()
    }

    pub fn exists(&self, name: &str) -> bool {
        self.path.join(name).exists()
    }

    /// The options every run uses: this directory's services, runtime and state dirs.
    pub fn directory_args(&self) -> Vec<String> {
        vec![
            "--services".into(),
            self.services().display().to_string(),
            "--runtime-dir".into(),
            self.file("run"),
            "--state-dir".into(),
            self.file("state"),
        ]
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// `phoenix-rescue diagnose` with this directory's options: (exit code, stdout).
pub fn diagnose(dir: &Scratch) -> TestResult<(i32, String)> {
    let output = Command::new(binary())
        .arg("diagnose")
        .args(dir.directory_args())
        .env_remove("PHOENIX_SERVICES")
        .output()?;
    let code = output
        .status
        .code()
        .ok_or("diagnose was killed by a signal")?;
    Ok((code, String::from_utf8(output.stdout)?))
}

/// A running (or finished) phoenix-rescue; dropping it ends it and everything it started.
pub struct Rescue {
    pub dir: Scratch,
    process: Child,
    /// The pid of phoenix-rescue itself, as this (outer) namespace sees it.
    pub pid: i32,
    is_namespaced: bool,
}

impl Rescue {
    /// As PID 1 of a new PID namespace, with this directory's options and `args`.
    pub fn pid1(dir: Scratch, args: &[&str]) -> TestResult<Rescue> {
        Self::pid1_with_stdin(dir, args, Stdio::null())
    }

    pub fn pid1_with_stdin(dir: Scratch, args: &[&str], stdin: Stdio) -> TestResult<Rescue> {
        let mut command = Command::new("unshare");
        command
            .args(["--pid", "--fork", "--kill-child", "--mount-proc", binary()])
            .args(dir.directory_args())
            .args(args)
            .stdin(stdin);
        let process = spawn(&dir, command)?;
        let unshare = i32::try_from(process.id())?;
        let mut rescue = Rescue {
            dir,
            process,
            pid: 0,
            is_namespaced: true,
        };
        let mut found = None;
        wait_until(DEADLINE, || {
            found = children(unshare).first().copied();
            found.is_some()
        });
        rescue.pid = found
            .ok_or_else(|| format!("unshare started no child (root needed){}", rescue.context()))?;
        Ok(rescue)
    }

    /// A plain process: `sh -c SCRIPT`, where the script ends by exec'ing `$RESCUE` with
    /// `$DIRS` (this directory's options), so it can start children of its own first.
    pub fn exec_from_shell(dir: Scratch, script: &str) -> TestResult<Rescue> {
        let mut command = Command::new("sh");
        command
            .args(["-c", script])
            .env("RESCUE", binary())
            .env("DIRS", dir.directory_args().join(" "))
            .stdin(Stdio::null());
        let process = spawn(&dir, command)?;
        let pid = i32::try_from(process.id())?;
        Ok(Rescue {
            dir,
            process,
            pid,
            is_namespaced: false,
        })
    }

    pub fn stderr(&self) -> String {
        self.dir.read(".stderr")
    }

    /// Waits until `condition` holds; the error names the caller and shows the log.
    #[track_caller]
    pub fn eventually(&self, what: &str, condition: impl FnMut() -> bool) -> TestResult {
        self.eventually_within(DEADLINE, what, condition)
    }

    #[track_caller]
    pub fn eventually_within(
        &self,
        timeout: Duration,
        what: &str,
        condition: impl FnMut() -> bool,
    ) -> TestResult {
        let caller = Location::caller();
        if wait_until(timeout, condition) {
            return Ok(());
        }
        Err(format!(
            "{caller}: timed out after {timeout:?} waiting until {what}{}",
            self.context()
        )
        .into())
    }

    #[track_caller]
    pub fn wait_for_log(&self, needle: &str) -> TestResult {
        self.eventually(&format!("the log says {needle:?}"), || {
            self.stderr().contains(needle)
        })
    }

    #[track_caller]
    pub fn wait_for_lines(&self, name: &str, count: usize) -> TestResult<Vec<String>> {
        self.eventually(&format!("{name} has {count} line(s)"), || {
            self.dir.lines(name).len() >= count
        })?;
        Ok(self.dir.lines(name))
    }

    pub fn signal(&self, signal: i32) -> TestResult {
        send_signal(self.pid, signal)
    }

    /// The pipe to its stdin, when started with `Stdio::piped()`.
    pub fn stdin(&mut self) -> Option<&mut std::process::ChildStdin> {
        self.process.stdin.as_mut()
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.process.try_wait(), Ok(None))
    }

    /// Waits for the end; its exit status (for `unshare --fork`, phoenix-rescue's).
    #[track_caller]
    pub fn wait_exit(&mut self, timeout: Duration) -> TestResult<ExitStatus> {
        let caller = Location::caller();
        let mut status = None;
        wait_until(timeout, || {
            status = self.process.try_wait().ok().flatten();
            status.is_some()
        });
        status.ok_or_else(|| {
            format!(
                "{caller}: still running after {timeout:?}{}",
                self.context()
            )
            .into()
        })
    }

    /// The log, for an error message.
    pub fn context(&self) -> String {
        format!("\n--- phoenix-rescue's log ---\n{}", self.stderr())
    }
}

impl Drop for Rescue {
    fn drop(&mut self) {
        if !self.is_running() {
            return;
        }
        if self.is_namespaced {
            // --kill-child: unshare's death kills PID 1, and with it the namespace.
            let _ = self.process.kill();
        } else {
            let _ = send_signal(self.pid, SIGTERM);
            if !wait_until(DEADLINE, || !matches!(self.process.try_wait(), Ok(None))) {
                let _ = self.process.kill();
            }
        }
        let _ = self.process.wait();
    }
}

fn spawn(dir: &Scratch, mut command: Command) -> TestResult<Child> {
    command
        .env_remove("PHOENIX_SERVICES")
        .current_dir(dir.path())
        .stdout(fs::File::create(dir.path().join(".stdout"))?)
        .stderr(fs::File::create(dir.path().join(".stderr"))?);
    Ok(command.spawn()?)
}

/// The children of `pid`, from `/proc`.
pub fn children(pid: i32) -> Vec<i32> {
    fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|word| word.parse().ok())
        .collect()
}

/// Every descendant of `pid`, children first.
pub fn descendants(pid: i32) -> Vec<i32> {
    let mut found = children(pid);
    let mut next = 0;
    while let Some(&child) = found.get(next) {
        found.extend(children(child));
        next += 1;
    }
    found
}

/// A field of `/proc/PID/status` (`State`, `PPid`, `NSpid`), if the process exists.
pub fn status_field(pid: i32, field: &str) -> Option<String> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key == field).then(|| value.trim().to_string())
    })
}

/// The outer pid of the descendant of `ancestor` whose pid in its own namespace is `inner`.
pub fn outer_pid(ancestor: i32, inner: i32) -> Option<i32> {
    descendants(ancestor).into_iter().find(|&pid| {
        status_field(pid, "NSpid").and_then(|pids| pids.split_whitespace().last()?.parse().ok())
            == Some(inner)
    })
}
