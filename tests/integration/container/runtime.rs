//! Phoenix as PID 1 of a real OCI container under `runc`: a `Bundle` is a fresh temporary
//! directory with a rootfs and the `config.json` `runc spec` writes, edited for the test;
//! a `Container` is the foreground `runc run` of it, driven with `runc kill` and
//! `runc exec` and observed through its exit status, the rootfs (a host directory) and
//! its output files. Dropping a `Container` kills and deletes it, so a failed test leaves
//! no container behind.
//!
//! Nothing here waits with a fixed sleep, and nothing skips: without runc or busybox the
//! tests fail and say what to install.

use std::fs::{self, File};
use std::os::unix::fs::PermissionsExt;
use std::panic::Location;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use nix::unistd::geteuid;
use serde_json::{Value, json};
use tempfile::TempDir;

use super::rootfs::{self, inside_rootfs};
use crate::harness::TestResult;
use crate::procfs::state;
use crate::wait::wait_until;

/// How long a condition may take on a slow, shared machine: starting a container costs
/// several processes and mounts.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// The services directory Phoenix uses when nothing names one.
pub const SERVICES_DIR: &str = "/etc/phoenix/services.d";

const RUNC: &str = "runc";

/// Where the rootfs has Phoenix (`ENTRYPOINT ["/sbin/phoenix"]`).
const PHOENIX: &str = "/sbin/phoenix";

/// Tests run in parallel threads of one process: the pid and a counter make ids unique.
static NEXT_ID: AtomicUsize = AtomicUsize::new(0);

/// A container not yet started: its directory, rootfs and configuration.
pub struct Bundle {
    dir: TempDir,
    config: Value,
}

impl Bundle {
    /// A bundle with a writable root (as Docker's), no terminal and busybox's `PATH`.
    pub fn new() -> TestResult<Bundle> {
        if !geteuid().is_root() {
            return Err("container tests need root: runc creates namespaces and cgroups".into());
        }
        let dir = tempfile::Builder::new()
            .prefix("phoenix-container-")
            .tempdir()?;
        rootfs::build(&dir.path().join("rootfs"))?;
        let bundle_dir = dir
            .path()
            .to_str()
            .ok_or("the bundle's path is not UTF-8")?;
        let spec = runc(&["spec", "--bundle", bundle_dir])?;
        if spec.code != 0 {
            return Err(format!("runc spec failed: {spec:?}").into());
        }
        let config = serde_json::from_str(&fs::read_to_string(dir.path().join("config.json"))?)?;
        let mut bundle = Bundle { dir, config };
        bundle.config["process"]["terminal"] = json!(false);
        bundle.read_only(false);
        Ok(bundle)
    }

    /// The host path of `path` inside the container's root.
    pub fn path(&self, path: &str) -> PathBuf {
        inside_rootfs(&self.dir.path().join("rootfs"), Path::new(path))
    }

    /// A path in the bundle directory itself, outside the container.
    pub fn host_path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a file inside the container's root, creating its parents.
    pub fn write(&self, path: &str, text: &str) -> TestResult {
        let file = self.path(path);
        if let Some(parent) = file.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(file, text)?;
        Ok(())
    }

    pub fn mkdir(&self, path: &str) -> TestResult {
        fs::create_dir_all(self.path(path))?;
        Ok(())
    }

    /// Writes the unit `/etc/phoenix/services.d/NAME.toml`.
    pub fn unit(&self, name: &str, toml: &str) -> TestResult {
        self.write(&format!("{SERVICES_DIR}/{name}.toml"), toml)
    }

    pub fn read_only(&mut self, is_read_only: bool) {
        self.config["root"]["readonly"] = json!(is_read_only);
    }

    /// Binds a new host directory `NAME` of the bundle at `destination`, replacing the
    /// mount the spec already has there (keeping its place: `/dev/shm` comes after `/dev`).
    /// Returns the host directory.
    pub fn bind_dir(&mut self, name: &str, destination: &str) -> TestResult<PathBuf> {
        let source = self.host_path(name);
        fs::create_dir_all(&source)?;
        fs::set_permissions(&source, fs::Permissions::from_mode(0o1777))?;
        fs::create_dir_all(self.path(destination))?;
        let mount = json!({
            "destination": destination,
            "type": "bind",
            "source": source,
            "options": ["rbind", "rw"],
        });
        let mounts = self.config["mounts"]
            .as_array_mut()
            .ok_or("config.json: mounts is not an array")?;
        match mounts.iter_mut().find(|m| m["destination"] == destination) {
            Some(existing) => *existing = mount,
            None => mounts.push(mount),
        }
        Ok(source)
    }

    /// Starts `runc run` with `/sbin/phoenix ARGS...` as the container's PID 1.
    pub fn start(mut self, args: &[&str]) -> TestResult<Container> {
        let mut argv = vec![PHOENIX];
        argv.extend_from_slice(args);
        self.config["process"]["args"] = json!(argv);
        fs::write(
            self.host_path("config.json"),
            serde_json::to_string_pretty(&self.config)?,
        )?;
        let id = format!(
            "phoenix-test-{}-{}",
            std::process::id(),
            NEXT_ID.fetch_add(1, Ordering::Relaxed)
        );
        let process = Command::new(RUNC)
            .arg("run")
            .arg("--bundle")
            .arg(self.dir.path())
            .arg(&id)
            .stdin(Stdio::null())
            .stdout(File::create(self.host_path("stdout"))?)
            .stderr(File::create(self.host_path("stderr"))?)
            .spawn()
            .map_err(|error| format!("unable to run {RUNC} (install runc): {error}"))?;
        Ok(Container {
            bundle: self,
            id,
            process,
            status: None,
        })
    }
}

/// A running (or finished) `runc run`.
pub struct Container {
    bundle: Bundle,
    id: String,
    process: Child,
    status: Option<ExitStatus>,
}

impl Container {
    /// The host path of `path` inside the container's root.
    pub fn path(&self, path: &str) -> PathBuf {
        self.bundle.path(path)
    }

    pub fn host_path(&self, name: &str) -> PathBuf {
        self.bundle.host_path(name)
    }

    /// A file inside the container's root, empty if it does not exist.
    pub fn read(&self, path: &str) -> String {
        fs::read_to_string(self.path(path)).unwrap_or_default()
    }

    pub fn exists(&self, path: &str) -> bool {
        self.path(path).exists()
    }

    /// What Phoenix wrote to stderr, with runc's own messages (they share the file).
    pub fn stderr(&self) -> String {
        fs::read_to_string(self.host_path("stderr")).unwrap_or_default()
    }

    /// `runc kill ID SIGNAL`: the signal goes to the container's PID 1, Phoenix.
    #[track_caller]
    pub fn kill(&self, signal: &str) -> TestResult {
        let outcome = runc(&["kill", &self.id, signal])?;
        if outcome.code == 0 {
            Ok(())
        } else {
            Err(format!(
                "runc kill {signal} exited {}: {}{}",
                outcome.code,
                outcome.stderr.trim(),
                self.context()
            )
            .into())
        }
    }

    /// `runc exec ID ARGS...`: its status and output, whatever the status.
    pub fn exec(&self, args: &[&str]) -> TestResult<Outcome> {
        let mut argv = vec!["exec", &self.id];
        argv.extend_from_slice(args);
        runc(&argv)
    }

    /// `runc exec ID /sbin/phoenixctl ARGS...`.
    pub fn phoenixctl(&self, args: &[&str]) -> TestResult<Outcome> {
        let mut argv = vec!["/sbin/phoenixctl"];
        argv.extend_from_slice(args);
        self.exec(&argv)
    }

    /// Runs `runc exec ID ARGS...` until it exits 0; the error shows its last attempt.
    #[track_caller]
    pub fn exec_until_ok(&self, args: &[&str]) -> TestResult<Outcome> {
        let mut last = None;
        let what = format!("`{}` succeeds", args.join(" "));
        let waited = self.eventually(&what, || {
            last = self.exec(args).ok();
            last.as_ref().is_some_and(|outcome| outcome.code == 0)
        });
        match (waited, last) {
            (Ok(()), Some(outcome)) => Ok(outcome),
            (waited, last) => Err(format!(
                "{}\n--- last attempt: {last:?}",
                waited.err().map(|e| e.to_string()).unwrap_or_default()
            )
            .into()),
        }
    }

    /// Waits until `condition` holds, giving up early once the container has ended; the
    /// error carries the container's output.
    #[track_caller]
    pub fn eventually(&self, what: &str, mut condition: impl FnMut() -> bool) -> TestResult {
        let mut holds = false;
        wait_until(DEADLINE, || {
            holds = condition();
            holds || self.has_ended()
        });
        let has_ended = !holds && self.has_ended();
        // It may have come true just before the end (a file the last process wrote).
        if holds || (has_ended && condition()) {
            return Ok(());
        }
        let why = if has_ended {
            "the container ended".to_string()
        } else {
            format!("timed out after {DEADLINE:?}")
        };
        Err(format!(
            "{}: {why} waiting until {what}{}",
            Location::caller(),
            self.context()
        )
        .into())
    }

    /// Whether `runc run` has exited: nothing reaps it but this type, so until then its pid
    /// is its own, a zombie once it has ended.
    fn has_ended(&self) -> bool {
        self.status.is_some()
            || !matches!(state(self.process.id() as i32), Some(state) if state != 'Z')
    }

    /// Waits until the file exists inside the container's root and returns it.
    #[track_caller]
    pub fn wait_for_file(&self, path: &str) -> TestResult<String> {
        self.eventually(&format!("{path} exists"), || self.exists(path))?;
        Ok(self.read(path))
    }

    /// Waits for `runc run` to end and returns the container's status as runc reports it.
    #[track_caller]
    pub fn wait_exit(&mut self, timeout: Duration) -> TestResult<i32> {
        let caller = Location::caller();
        let process = &mut self.process;
        let status = &mut self.status;
        wait_until(timeout, || {
            *status = status.or_else(|| process.try_wait().ok().flatten());
            status.is_some()
        });
        match self.status {
            Some(status) => self.container_status(status),
            None => Err(format!(
                "{caller}: runc run still running after {timeout:?}{}",
                self.context()
            )
            .into()),
        }
    }

    /// `runc run` exits with its container's status, a signal as the code 128+N (it does
    /// not die of it): a runc killed by a signal, or one that printed an error of its own,
    /// did not report Phoenix's status.
    fn container_status(&self, status: ExitStatus) -> TestResult<i32> {
        use std::os::unix::process::ExitStatusExt;
        if self.stderr().contains("level=error") {
            return Err(format!("runc reported an error ({status}){}", self.context()).into());
        }
        match (status.code(), status.signal()) {
            (Some(code), _) => Ok(code),
            (None, signal) => {
                Err(format!("runc run itself ended by {signal:?}{}", self.context()).into())
            }
        }
    }

    /// What a failure message should show: the container's output and its root's files.
    pub fn context(&self) -> String {
        let mut files: Vec<String> = fs::read_dir(self.path("/"))
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        let stdout = fs::read_to_string(self.host_path("stdout")).unwrap_or_default();
        format!(
            "\n--- container {}, rootfs: {files:?}\n--- stdout:\n{}--- stderr (Phoenix and runc):\n{}---",
            self.id,
            abridge(&stdout),
            abridge(&self.stderr())
        )
    }
}

/// The first and last lines of a long output (a crash loop logs several lines a restart):
/// how it started and how it ended.
fn abridge(text: &str) -> String {
    const HEAD: usize = 20;
    const TAIL: usize = 40;
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= HEAD + TAIL {
        return text.to_string();
    }
    let left_out = lines.len() - HEAD - TAIL;
    let mut abridged = lines[..HEAD].join("\n");
    abridged.push_str(&format!("\n[… {left_out} lines left out …]\n"));
    abridged.push_str(&lines[lines.len() - TAIL..].join("\n"));
    abridged.push('\n');
    abridged
}

impl Drop for Container {
    /// SIGKILL to PID 1 ends the container; `delete --force` removes its state and
    /// cgroups, and also a container whose `runc run` was lost.
    fn drop(&mut self) {
        if self.status.is_none() {
            // Until runc has created the container there is nothing to kill: try again.
            let ended = wait_until(DEADLINE, || {
                if matches!(self.process.try_wait(), Ok(Some(_))) {
                    return true;
                }
                let _ = runc(&["kill", &self.id, "KILL"]);
                false
            });
            if !ended {
                let _ = self.process.kill();
            }
        }
        let _ = self.process.wait();
        let _ = runc(&["delete", "--force", &self.id]);
    }
}

/// The outcome of one finished runc command.
#[derive(Debug)]
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// Exit 0, or an error showing what the command printed.
    #[track_caller]
    pub fn ok(self) -> TestResult<Outcome> {
        if self.code == 0 {
            Ok(self)
        } else {
            Err(format!("{}: expected exit 0, got {self:?}", Location::caller()).into())
        }
    }
}

/// Runs `runc ARGS...` to completion; one that outlives the deadline is killed.
fn runc(args: &[&str]) -> TestResult<Outcome> {
    let described = format!("runc {}", args.join(" "));
    let child = Command::new(RUNC)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("unable to run {described} (install runc): {error}"))?;
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let (sender, receiver) = mpsc::channel();
    // The pipes are drained while it runs, so a long output cannot block it.
    thread::spawn(move || {
        let _ = sender.send(child.wait_with_output());
    });
    let output = match receiver.recv_timeout(DEADLINE) {
        Ok(output) => output?,
        Err(_) => {
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            return Err(format!("{described} still running after {DEADLINE:?}").into());
        }
    };
    Ok(Outcome {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}
