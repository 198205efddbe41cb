//! Driving a live Phoenix the way an operator does: `phoenixctl --socket` from outside its
//! PID namespace (a Unix socket is a file, and the filesystem is shared), every run bounded
//! by a deadline, its exit code and output kept for assertions; `status --json` read with
//! `serde_json` so the wire format is checked independently of Phoenix's own parser.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

use crate::harness::{DEADLINE, Phoenix, TestResult};
use crate::services::setup::ServicesDir;

/// Where `ServicesDir` puts the control socket: `runtime-dir` is `run/` in the scratch dir.
const SOCKET: &str = "run/control.sock";

pub fn socket(phoenix: &Phoenix) -> PathBuf {
    phoenix.path(SOCKET)
}

/// The outcome of one finished command.
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
        self.expect(0)
    }

    #[track_caller]
    pub fn expect(self, code: i32) -> TestResult<Outcome> {
        if self.code == code {
            Ok(self)
        } else {
            Err(format!(
                "{}: expected exit {code}, got {self:?}",
                std::panic::Location::caller()
            )
            .into())
        }
    }
}

/// `phoenixctl` with the socket of `phoenix`.
pub fn phoenixctl_command(phoenix: &Phoenix) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_phoenixctl"));
    command
        .env_remove("PHOENIX_SOCKET")
        .arg("--socket")
        .arg(socket(phoenix));
    command
}

/// Runs `phoenixctl --socket S ARGS...` to completion within the deadline.
#[track_caller]
pub fn phoenixctl(phoenix: &Phoenix, args: &[&str]) -> TestResult<Outcome> {
    let mut command = phoenixctl_command(phoenix);
    command.args(args);
    run(command, DEADLINE)
}

/// Runs `command` to completion; one that outlives `timeout` is killed and is an error.
#[track_caller]
pub fn run(mut command: Command, timeout: Duration) -> TestResult<Outcome> {
    let caller = std::panic::Location::caller();
    let described = format!("{command:?}");
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("unable to spawn {described}: {error}"))?;
    let pid = Pid::from_raw(child.id() as i32);
    let (sender, receiver) = mpsc::channel();
    // The pipes are drained while it runs, so a long output cannot block it.
    thread::spawn(move || {
        let _ = sender.send(child.wait_with_output());
    });
    match receiver.recv_timeout(timeout) {
        Ok(output) => {
            let output = output?;
            Ok(Outcome {
                code: output.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            })
        }
        Err(_) => {
            let _ = kill(pid, Signal::SIGKILL);
            Err(format!("{caller}: {described} still running after {timeout:?}").into())
        }
    }
}

/// `phoenixctl --json status`: every service, as JSON objects.
#[track_caller]
pub fn status_json(phoenix: &Phoenix) -> TestResult<Vec<Value>> {
    let outcome = phoenixctl(phoenix, &["--json", "status"])?.ok()?;
    match serde_json::from_str(&outcome.stdout)? {
        Value::Array(services) => Ok(services),
        other => Err(format!("status --json is not an array: {other}").into()),
    }
}

/// `phoenixctl --json status NAME`: one service with its death tally.
#[track_caller]
pub fn service_json(phoenix: &Phoenix, name: &str) -> TestResult<Value> {
    let outcome = phoenixctl(phoenix, &["--json", "status", name])?.ok()?;
    Ok(serde_json::from_str(&outcome.stdout)?)
}

/// The state `status --json NAME` shows, if Phoenix answers.
pub fn state_of(phoenix: &Phoenix, name: &str) -> Option<String> {
    let service = service_json(phoenix, name).ok()?;
    service["state"].as_str().map(str::to_string)
}

/// Waits until `name` is in `state` according to `status --json`.
#[track_caller]
pub fn wait_for_state(phoenix: &Phoenix, name: &str, state: &str) -> TestResult {
    phoenix.eventually(&format!("{name} is {state}"), || {
        state_of(phoenix, name).as_deref() == Some(state)
    })
}

/// Starts Phoenix on `layout` and waits until its control socket answers.
pub fn start(layout: ServicesDir) -> TestResult<Phoenix> {
    let phoenix = layout.start(&[])?;
    phoenix.eventually("phoenixctl status answers", || {
        phoenixctl(&phoenix, &["status"]).is_ok_and(|outcome| outcome.code == 0)
    })?;
    Ok(phoenix)
}

/// A daemon that appends its pid to `NAME.pids` at each start and every USR1 or HUP it gets
/// to `NAME.signals`; on TERM it appends to `NAME.stops` and exits 0; when `NAME.crash`
/// appears it removes it and exits 3. `extra` is appended to the unit.
pub fn daemon(name: &str, extra: &str) -> String {
    format!(
        r#"command = '''
echo $$ >> {name}.pids
trap 'echo USR1 >> {name}.signals' USR1
trap 'echo HUP >> {name}.signals' HUP
trap 'echo stop >> {name}.stops; exit 0' TERM
while :; do
  if [ -e {name}.crash ]; then rm -f {name}.crash; exit 3; fi
  sleep 0.05
done
'''
{extra}
"#
    )
}

/// A running `phoenixctl events --follow` whose output lines are read with deadlines.
pub struct Follower {
    child: Child,
    lines: Receiver<String>,
}

impl Follower {
    pub fn start(phoenix: &Phoenix) -> TestResult<Follower> {
        let mut command = phoenixctl_command(phoenix);
        let mut child = command
            .args(["events", "--follow"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (sender, lines) = mpsc::channel();
        thread::spawn(move || forward_lines(stdout, sender));
        Ok(Follower { child, lines })
    }

    /// Reads events until one satisfies `wanted`, returning it; every event read is
    /// appended to `seen`.
    #[track_caller]
    pub fn next_matching(
        &self,
        seen: &mut Vec<Value>,
        what: &str,
        wanted: impl Fn(&Value) -> bool,
    ) -> TestResult<Value> {
        let caller = std::panic::Location::caller();
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(line) = self.lines.recv_timeout(left) else {
                return Err(format!(
                    "{caller}: no event where {what} within {DEADLINE:?}; saw {seen:#?}"
                )
                .into());
            };
            let event: Value = serde_json::from_str(&line)
                .map_err(|error| format!("not a JSON event: {line:?}: {error}"))?;
            seen.push(event.clone());
            if wanted(&event) {
                return Ok(event);
            }
        }
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn forward_lines(stdout: ChildStdout, sender: mpsc::Sender<String>) {
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { return };
        if sender.send(line).is_err() {
            return;
        }
    }
}

/// Reads one reply line from a raw socket stream (read timeout already set).
pub fn read_line(stream: &mut impl Read) -> TestResult<String> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        match stream.read(&mut byte)? {
            0 => return Err(format!("connection closed after {line:?}").into()),
            _ if byte[0] == b'\n' => return Ok(String::from_utf8(line)?),
            _ => line.push(byte[0]),
        }
    }
}
