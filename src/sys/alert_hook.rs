//! Starts an `[alerts] exec` hook: the alert's JSON is written into a fresh pipe before
//! the fork (it is small, far below a pipe's buffer; what does not fit is dropped, so the
//! write never blocks), the write end closed, and the read end becomes the hook's stdin.
//! The hook runs in its own session, so its whole group can be killed at its timeout.

use std::io::Write;
use std::os::fd::{AsRawFd, RawFd};

use nix::fcntl::OFlag;

use crate::core::{Pid, SpawnError};
use crate::process_spec::{Placement, ProcessSpec};
use crate::sys::signals::ChildSignals;
use crate::sys::spawn::{PipeEnds, spawn};

/// The name the hook's spec gives its stdin pipe.
const STDIN: &str = "alert-stdin";

/// The one pipe `spawn` asks for: the read end for the hook's stdin.
struct Stdin(RawFd);

impl PipeEnds for Stdin {
    fn pipe(&mut self, name: &str) -> Option<(RawFd, RawFd)> {
        (name == STDIN).then_some((self.0, self.0))
    }
}

/// Forks and execs `argv` with `environment` added and `input` on its stdin.
pub fn spawn_alert_hook(
    argv: &[String],
    environment: Vec<(String, Option<String>)>,
    input: &str,
    signals: &ChildSignals,
) -> Result<Pid, SpawnError> {
    let failed = |step: &str, errno: nix::errno::Errno| SpawnError {
        pid: None,
        errno: errno as i32,
        message: format!("{step}: {}", errno.desc()),
    };
    let (read_end, write_end) =
        nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK).map_err(|e| failed("pipe", e))?;
    let mut writer = std::fs::File::from(write_end);
    if let Err(error) = writer.write(input.as_bytes()) {
        log::warn!("alerts: writing the alert to the exec hook's stdin: {error}");
    }
    drop(writer);
    // The hook reads its stdin blocking, as programs expect.
    let flags = nix::fcntl::fcntl(&read_end, nix::fcntl::FcntlArg::F_GETFL)
        .map_err(|e| failed("fcntl", e))?;
    let blocking = OFlag::from_bits_truncate(flags) & !OFlag::O_NONBLOCK;
    nix::fcntl::fcntl(&read_end, nix::fcntl::FcntlArg::F_SETFL(blocking))
        .map_err(|e| failed("fcntl", e))?;
    let mut spec = ProcessSpec::command("alerts", argv.to_vec(), Placement::NewSession);
    spec.environment = environment;
    spec.stdin_pipe = Some(STDIN.to_string());
    let started = spawn(&spec, signals, &mut Stdin(read_end.as_raw_fd()))?;
    Ok(started.pid)
}
