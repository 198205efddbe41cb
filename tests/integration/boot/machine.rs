//! A machine with Phoenix as its init: an initramfs built by `contrib/appliance/appliance.sh
//! build` from this test build's binaries and the test's units, booted by `appliance.sh
//! boot` (qemu, Debian's kernel from `appliance.sh fetch`, as `.ci/run` leaves them). The
//! serial console is read as it comes; QMP (qemu's machine protocol, on a Unix socket)
//! presses keys and reports the machine's own events: `SHUTDOWN` with its reason
//! (`guest-shutdown` for a power-off, `guest-reset` for a reboot under `-no-reboot`) and
//! `WATCHDOG`. One machine boots at a time: qemu's emulation takes a core.
//!
//! Nothing skips: no qemu, no kernel, no cpio is a failure that says what to install.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::harness::TestResult;
use crate::wait::wait_until;

/// Everything one boot may take, from qemu's start to its exit.
pub const BOOT_DEADLINE: Duration = Duration::from_secs(60);

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn script() -> PathBuf {
    repository().join("contrib/appliance/appliance.sh")
}

/// Where `appliance.sh fetch` left the kernel: `$PHOENIX_APPLIANCE_DIR`, else
/// `target/appliance`.
fn cache() -> PathBuf {
    std::env::var_os("PHOENIX_APPLIANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repository().join("target/appliance"))
}

fn check_tools() -> TestResult {
    for (tool, package) in [("qemu-system-x86_64", "qemu-system-x86"), ("cpio", "cpio")] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()?
            .success();
        if !found {
            return Err(format!("boot tests need {tool}: apt-get install {package}").into());
        }
    }
    if !cache().join("vmlinuz").is_file() {
        return Err(format!(
            "no kernel in {}: run contrib/appliance/appliance.sh fetch (as .ci/run does)",
            cache().display()
        )
        .into());
    }
    Ok(())
}

/// The initramfs to boot: units, settings, kernel modules and other files.
pub struct Image {
    dir: TempDir,
    config: String,
    modules: Vec<String>,
    files: Vec<(PathBuf, String)>,
}

impl Image {
    pub fn new() -> TestResult<Image> {
        check_tools()?;
        let dir = tempfile::Builder::new().prefix("phoenix-boot-").tempdir()?;
        std::fs::create_dir(dir.path().join("services.d"))?;
        Ok(Image {
            dir,
            config: String::new(),
            modules: Vec::new(),
            files: Vec::new(),
        })
    }

    /// `/etc/phoenix/services.d/NAME.toml`.
    pub fn unit(&mut self, name: &str, text: &str) -> TestResult<&mut Image> {
        let path = self
            .dir
            .path()
            .join("services.d")
            .join(format!("{name}.toml"));
        std::fs::write(path, text)?;
        Ok(self)
    }

    /// `/etc/phoenix/phoenix.toml`.
    pub fn config(&mut self, text: &str) -> &mut Image {
        self.config = text.to_string();
        self
    }

    /// A module of the cached kernel, loaded before Phoenix starts.
    pub fn module(&mut self, name: &str) -> &mut Image {
        self.modules.push(name.to_string());
        self
    }

    /// A file of the image at `dest` (absolute), holding `text`; it replaces whatever the
    /// image would have there.
    pub fn file(&mut self, dest: &str, text: &str) -> TestResult<&mut Image> {
        let source = self.dir.path().join(format!("file-{}", self.files.len()));
        std::fs::write(&source, text)?;
        self.files.push((source, dest.to_string()));
        Ok(self)
    }

    /// An executable file of the image at `dest`, holding `text`.
    pub fn script(&mut self, dest: &str, text: &str) -> TestResult<&mut Image> {
        use std::os::unix::fs::PermissionsExt;
        self.file(dest, text)?;
        let (source, _) = self.files.last().ok_or("no file")?;
        std::fs::set_permissions(source, std::fs::Permissions::from_mode(0o755))?;
        Ok(self)
    }

    fn build(&self) -> TestResult<PathBuf> {
        let phoenix = Path::new(env!("CARGO_BIN_EXE_phoenix"));
        let bin = phoenix
            .parent()
            .ok_or("the phoenix binary has no directory")?;
        let staged = self.dir.path().join("bin");
        std::fs::create_dir_all(&staged)?;
        let rescue = bin.join("phoenix-rescue");
        for (source, name) in [
            (phoenix, "phoenix"),
            (Path::new(env!("CARGO_BIN_EXE_phoenixctl")), "phoenixctl"),
            (rescue.as_path(), "phoenix-rescue"),
        ] {
            std::fs::copy(source, staged.join(name))
                .map_err(|error| format!("{}: {error} (cargo build first)", source.display()))?;
        }
        let config = self.dir.path().join("phoenix.toml");
        std::fs::write(&config, &self.config)?;
        let out = self.dir.path().join("initramfs.cpio");
        let mut command = Command::new(script());
        command
            .arg("build")
            .arg("--out")
            .arg(&out)
            .arg("--cache")
            .arg(cache())
            .arg("--bin")
            .arg(&staged)
            .arg("--units")
            .arg(self.dir.path().join("services.d"))
            .arg("--config")
            .arg(&config);
        for module in &self.modules {
            command.args(["--module", module]);
        }
        for (source, dest) in &self.files {
            command
                .arg("--file")
                .arg(format!("{}={dest}", source.display()));
        }
        let output = command.output()?;
        if !output.status.success() {
            return Err(format!(
                "appliance.sh build: {}\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            )
            .into());
        }
        Ok(out)
    }

    /// Boots the image with `append` added to the kernel command line and `qemu` to qemu's.
    pub fn boot(&self, append: &str, qemu: &[&str]) -> TestResult<Machine> {
        let initrd = self.build()?;
        let guard = ONE_AT_A_TIME
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let qmp = self.dir.path().join("qmp.sock");
        // Niced: the emulation takes a core the PID-1 tests around it must not miss.
        let mut command = Command::new("nice");
        command
            .args(["-n", "10"])
            .arg(script())
            .arg("boot")
            .arg("--cache")
            .arg(cache())
            .arg("--initrd")
            .arg(&initrd)
            .arg("--append")
            .arg(format!("console=ttyS0 panic=-1 quiet {append}"))
            .arg("--")
            .arg("-qmp")
            .arg(format!("unix:{},server=on,wait=off", qmp.display()))
            .args(qemu)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let started = Instant::now();
        let mut qemu = command.spawn()?;
        let console = Arc::new(Mutex::new(String::new()));
        for stream in [
            qemu.stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            qemu.stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            collect(stream, Arc::clone(&console));
        }
        let mut machine = Machine {
            qemu,
            console,
            events: Arc::new(Mutex::new(String::new())),
            qmp: None,
            started,
            exited: None,
            _one_at_a_time: guard,
        };
        machine.connect_qmp(&qmp)?;
        Ok(machine)
    }
}

/// Appends whatever `stream` yields to `into`, from a thread of its own, until EOF.
fn collect(mut stream: Box<dyn Read + Send>, into: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok(count) = stream.read(&mut buffer) {
            if count == 0 {
                break;
            }
            let text = String::from_utf8_lossy(&buffer[..count]).replace('\r', "");
            into.lock()
                .unwrap_or_else(|p| p.into_inner())
                .push_str(&text);
        }
    });
}

/// A running qemu; dropping it kills qemu.
pub struct Machine {
    qemu: Child,
    console: Arc<Mutex<String>>,
    /// QMP's events, one JSON object a line.
    events: Arc<Mutex<String>>,
    qmp: Option<UnixStream>,
    started: Instant,
    exited: Option<(Instant, std::process::ExitStatus)>,
    _one_at_a_time: MutexGuard<'static, ()>,
}

impl Machine {
    fn connect_qmp(&mut self, path: &Path) -> TestResult {
        let mut stream = None;
        wait_until(Duration::from_secs(10), || {
            stream = UnixStream::connect(path).ok();
            stream.is_some()
        });
        let mut stream = stream.ok_or_else(|| format!("no QMP socket{}", self.context()))?;
        stream.write_all(b"{\"execute\":\"qmp_capabilities\"}\n")?;
        let reader = BufReader::new(stream.try_clone()?);
        let events = Arc::clone(&self.events);
        std::thread::spawn(move || {
            for line in reader.lines().map_while(Result::ok) {
                let mut events = events.lock().unwrap_or_else(|p| p.into_inner());
                events.push_str(&line);
                events.push('\n');
            }
        });
        self.qmp = Some(stream);
        Ok(())
    }

    pub fn console(&self) -> String {
        self.console
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn events(&self) -> String {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Time since qemu was started.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    fn deadline(&self) -> Duration {
        BOOT_DEADLINE.saturating_sub(self.started.elapsed())
    }

    /// Waits (within the boot's deadline) until the console shows `needle`.
    #[track_caller]
    pub fn wait_for(&self, needle: &str) -> TestResult {
        let caller = std::panic::Location::caller();
        if wait_until(self.deadline(), || self.console().contains(needle)) {
            return Ok(());
        }
        Err(format!(
            "{caller}: the console never showed {needle:?}{}",
            self.context()
        )
        .into())
    }

    /// Waits for qemu to end; when it ended (since its start).
    #[track_caller]
    pub fn wait_exit(&mut self) -> TestResult<Duration> {
        let caller = std::panic::Location::caller();
        let mut ended = None;
        wait_until(self.deadline(), || {
            ended = self.qemu.try_wait().ok().flatten();
            ended.is_some()
        });
        let Some(status) = ended else {
            return Err(format!("{caller}: qemu did not end{}", self.context()).into());
        };
        let at = Instant::now();
        self.exited = Some((at, status));
        // The readers may still hold qemu's last output.
        wait_until(Duration::from_secs(2), || {
            self.events().contains("SHUTDOWN")
        });
        if !status.success() {
            return Err(format!("{caller}: qemu {status}{}", self.context()).into());
        }
        Ok(at - self.started)
    }

    /// The reason of QMP's `SHUTDOWN` event: "guest-shutdown", "guest-reset", …
    pub fn shutdown_reason(&self) -> Option<String> {
        let events = self.events();
        let line = events.lines().find(|line| line.contains("\"SHUTDOWN\""))?;
        let value: serde_json::Value = serde_json::from_str(line).ok()?;
        value["data"]["reason"].as_str().map(str::to_string)
    }

    /// Presses keys together, as `sendkey ctrl-alt-delete` does.
    pub fn send_keys(&mut self, keys: &[&str]) -> TestResult {
        let keys: Vec<serde_json::Value> = keys
            .iter()
            .map(|key| serde_json::json!({"type": "qcode", "data": key}))
            .collect();
        let command = serde_json::json!({"execute": "send-key", "arguments": {"keys": keys}});
        let stream = self.qmp.as_mut().ok_or("no QMP connection")?;
        stream.write_all(format!("{command}\n").as_bytes())?;
        Ok(())
    }

    /// Types `line` and Enter on the serial console.
    pub fn type_line(&mut self, line: &str) -> TestResult {
        let stdin = self.qemu.stdin.as_mut().ok_or("qemu has no stdin")?;
        stdin.write_all(format!("{line}\n").as_bytes())?;
        stdin.flush()?;
        Ok(())
    }

    /// The guest's clock (the console's `[   2.345678]` stamp) on the first line holding
    /// `needle`.
    pub fn guest_time_of(&self, needle: &str) -> Option<Duration> {
        let console = self.console();
        let line = console.lines().find(|line| line.contains(needle))?;
        let stamp = line.strip_prefix('[')?.split(']').next()?.trim();
        stamp.parse::<f64>().ok().map(Duration::from_secs_f64)
    }

    pub fn context(&self) -> String {
        let console = self.console();
        let tail: Vec<&str> = console.lines().rev().take(80).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        format!(
            "\n--- console (last 80 lines, {:.1}s after qemu started) ---\n{}\n--- qmp ---\n{}",
            self.started.elapsed().as_secs_f64(),
            tail.join("\n"),
            self.events()
        )
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        if self.exited.is_none() {
            let _ = self.qemu.kill();
            let _ = self.qemu.wait();
        }
    }
}
