//! Phoenix rises (DESIGN.md §9): when the loop cannot go on — a panic, a poll that keeps
//! failing — or `phoenixctl reexec` asks, the core's state goes into a memfd and Phoenix
//! execs its own binary with `--resume=FD`; the new image validates the handoff and carries
//! on with the same children. A second failure within a minute of a re-exec, or an exec
//! that fails, hands over to `phoenix-rescue`; when even that cannot run, the degraded
//! reap-forever loop is the last line.

use std::ffi::OsString;
use std::os::fd::RawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::core::Core;
use crate::supervisor::SupervisorHandoff;
use crate::sys::{degraded, reexec as sys};

/// The handoff format this Phoenix writes and reads.
pub const HANDOFF_VERSION: u32 = 1;

/// Failing again sooner than this after a re-exec goes to the rescue binary instead.
const AGAIN_WITHIN: Duration = Duration::from_secs(60);

const RESUME_OPTION: &str = "--resume=";

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Handoff {
    pub version: u32,
    pub reason: String,
    pub written_unix_ms: u64,
    pub core: SupervisorHandoff,
    /// The s6 logger pipes, kept open across the exec.
    #[serde(default)]
    pub pipes: Vec<KeptPipe>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeptPipe {
    pub service: String,
    pub read: RawFd,
    pub write: RawFd,
}

/// What a rise needs besides the core: where the rescue binary is and what to tell it.
#[derive(Clone, Debug, Default)]
pub struct Rising {
    /// Phoenix's own binary by the path it was started from, read at start: a re-exec
    /// runs whatever is there now (a live upgrade), `/proc/self/exe` when it is gone.
    pub binary: Option<PathBuf>,
    pub rescue: Option<PathBuf>,
    pub services_dir: Option<PathBuf>,
    pub runtime_dir: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
    /// When this image started from a handoff.
    pub resumed_at: Option<Instant>,
}

impl Rising {
    /// Phoenix's binary and the rescue binary next to it, read now, before anyone
    /// replaces them.
    pub fn at_start() -> Rising {
        let binary = std::env::current_exe().ok();
        let rescue = binary
            .as_ref()
            .and_then(|exe| Some(exe.parent()?.join("phoenix-rescue")));
        Rising {
            binary,
            rescue,
            ..Rising::default()
        }
    }
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Never returns: the new image, the rescue binary, or the degraded loop.
pub fn rise(
    core: &dyn Core,
    reason: &str,
    deliberate: bool,
    rising: &Rising,
    pipes: Vec<KeptPipe>,
) -> ! {
    let now = Instant::now();
    let Some(handoff) = core.hand_off(now) else {
        log::error!("{reason}; tini mode cannot hand its state over");
        degraded::reap_forever()
    };
    let again = rising
        .resumed_at
        .is_some_and(|at| now.saturating_duration_since(at) < AGAIN_WITHIN);
    if deliberate || !again {
        log::warn!(
            "{reason}: re-executing, handing over {} service(s)",
            handoff.services.len()
        );
        let error = reexec(&handoff, reason, rising.binary.as_deref(), pipes);
        log::error!(
            "unable to re-execute: {}",
            crate::sys::io_error_text(&error)
        );
    } else {
        log::error!("{reason} again within a minute of a re-exec: handing over to phoenix-rescue");
    }
    exec_rescue(&handoff, reason, rising);
    degraded::reap_forever()
}

fn reexec(
    core: &SupervisorHandoff,
    reason: &str,
    binary: Option<&Path>,
    pipes: Vec<KeptPipe>,
) -> std::io::Error {
    // A pipe that cannot be kept is left out: its pair is made anew at the next start.
    let pipes = pipes
        .into_iter()
        .filter(|pipe| {
            sys::keep_across_exec(pipe.read).is_ok() && sys::keep_across_exec(pipe.write).is_ok()
        })
        .collect();
    let handoff = Handoff {
        version: HANDOFF_VERSION,
        reason: reason.to_string(),
        written_unix_ms: unix_ms(),
        core: core.clone(),
        pipes,
    };
    let bytes = match serde_json::to_vec(&handoff) {
        Ok(bytes) => bytes,
        Err(error) => return std::io::Error::other(error.to_string()),
    };
    let fd = match sys::write_memfd(&bytes) {
        Ok(fd) => fd,
        Err(error) => return error,
    };
    let mut args: Vec<OsString> = std::env::args_os().collect();
    let argv0 = if args.is_empty() {
        OsString::from("phoenix")
    } else {
        args.remove(0)
    };
    if args
        .first()
        .is_some_and(|arg| arg.to_string_lossy().starts_with(RESUME_OPTION))
    {
        args.remove(0);
    }
    let mut argv = vec![argv0, OsString::from(format!("{RESUME_OPTION}{fd}"))];
    argv.extend(args);
    if let Some(binary) = binary {
        let error = sys::exec(binary, &argv);
        log::warn!(
            "unable to execute {}: {}; trying /proc/self/exe",
            binary.display(),
            crate::sys::io_error_text(&error)
        );
    }
    let error = sys::exec(Path::new("/proc/self/exe"), &argv);
    sys::close(fd);
    error
}

fn exec_rescue(core: &SupervisorHandoff, reason: &str, rising: &Rising) {
    exec_rescue_with(core, reason, rising, false);
}

fn exec_rescue_with(core: &SupervisorHandoff, reason: &str, rising: &Rising, shell: bool) {
    let Some(rescue) = &rising.rescue else {
        log::error!("no phoenix-rescue to hand over to");
        return;
    };
    let mut argv: Vec<OsString> = vec![rescue.clone().into_os_string()];
    let mut option = |name: &str, value: Option<&PathBuf>| {
        if let Some(value) = value {
            argv.push(OsString::from(name));
            argv.push(value.clone().into_os_string());
        }
    };
    option("--services", rising.services_dir.as_ref());
    option("--runtime-dir", rising.runtime_dir.as_ref());
    option("--state-dir", rising.state_dir.as_ref());
    argv.push(OsString::from("--reason"));
    argv.push(OsString::from(reason));
    if shell {
        argv.push(OsString::from("--shell"));
    }
    for service in &core.services {
        if let Some(pid) = service.pid {
            argv.push(OsString::from("--adopt"));
            argv.push(OsString::from(format!("{}={pid}", service.name)));
        }
    }
    let error = sys::exec(rescue, &argv);
    log::error!(
        "unable to run {}: {}",
        rescue.display(),
        crate::sys::io_error_text(&error)
    );
}

/// `on-critical-failure = "rescue"`: `phoenix-rescue` now, the running services handed
/// over for it to adopt. Never returns.
pub fn hand_to_rescue(core: &dyn Core, reason: &str, rising: &Rising) -> ! {
    if let Some(handoff) = core.hand_off(Instant::now()) {
        exec_rescue(&handoff, reason, rising);
    }
    degraded::reap_forever()
}

/// `phoenix.rescue` on the kernel command line: `phoenix-rescue` instead of Phoenix's own
/// supervision, straight after stage 1 (with `--shell` for `phoenix.rescue=shell`).
pub fn boot_into_rescue(services: Option<&Path>, shell: bool) -> ! {
    let rising = Rising {
        services_dir: services.map(Path::to_path_buf),
        ..Rising::at_start()
    };
    let handoff = SupervisorHandoff {
        services: Vec::new(),
        next_incident_id: 1,
        shutting_down: false,
        exit_code: 0,
        power: None,
    };
    let reason = if shell {
        "phoenix.rescue=shell on the kernel command line"
    } else {
        "phoenix.rescue on the kernel command line"
    };
    log::warn!("{reason}: handing over to phoenix-rescue");
    exec_rescue_with(&handoff, reason, &rising, shell);
    degraded::reap_forever()
}

/// The new image's side: the handoff on `fd`, checked.
pub fn take_handoff(fd: RawFd) -> Result<Handoff, String> {
    let bytes = sys::read_handoff(fd)?;
    parse_handoff(&bytes)
}

pub fn parse_handoff(bytes: &[u8]) -> Result<Handoff, String> {
    #[derive(Deserialize)]
    struct Versioned {
        version: u32,
    }
    let versioned: Versioned = serde_json::from_slice(bytes)
        .map_err(|error| format!("malformed handoff ({} bytes): {error}", bytes.len()))?;
    if versioned.version != HANDOFF_VERSION {
        return Err(format!(
            "handoff version {}, this Phoenix reads version {HANDOFF_VERSION}",
            versioned.version
        ));
    }
    serde_json::from_slice(bytes).map_err(|error| format!("malformed handoff: {error}"))
}

/// How long ago the handoff was written, for the log.
pub fn age(handoff: &Handoff) -> Duration {
    Duration::from_millis(unix_ms().saturating_sub(handoff.written_unix_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_truncated_and_future_handoffs_are_refused() {
        let good = Handoff {
            version: HANDOFF_VERSION,
            reason: "test".into(),
            written_unix_ms: 1,
            core: SupervisorHandoff {
                services: Vec::new(),
                next_incident_id: 4,
                shutting_down: false,
                exit_code: 0,
                power: None,
            },
            pipes: Vec::new(),
        };
        let bytes = serde_json::to_vec(&good).unwrap();
        assert_eq!(parse_handoff(&bytes).unwrap().core, good.core);
        let truncated = &bytes[..bytes.len() / 2];
        assert!(
            parse_handoff(truncated)
                .unwrap_err()
                .contains("malformed handoff")
        );
        assert!(
            parse_handoff(b"\x00\xff garbage")
                .unwrap_err()
                .contains("malformed")
        );
        let future = String::from_utf8(bytes)
            .unwrap()
            .replace("\"version\":1", "\"version\":2");
        assert!(
            parse_handoff(future.as_bytes())
                .unwrap_err()
                .contains("version 2")
        );
    }
}
