//! What a re-exec keeps and takes back on the shell's side: the s6 logger pipes and the
//! captured output's (kept open across `exec`) and the programs carried on, whose notify sockets are bound again and
//! whose s6 directories are claimed again. The decisions are the core's (`handoff.rs`).

use crate::core::SpawnToken;
use crate::process_spec::Output;

use super::EventLoop;

/// Why `run` returned.
#[derive(Debug, PartialEq, Eq)]
pub enum LoopEnd {
    /// The core asked to exit with this status.
    Exit(u8),
    /// `phoenixctl reexec`: re-execute on purpose.
    Reexec(String),
    /// A machine's run is over: the final sequence, then this `reboot(2)`.
    Power(crate::power::PowerAction),
    /// `on-critical-failure = "rescue"`: hand over to `phoenix-rescue`, for this reason.
    Rescue(String),
    /// A panic or a poll that keeps failing: the loop cannot go on.
    Broken(String),
}

/// A panic's message, for the log and the handoff's reason.
pub(super) fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "a panic".to_string());
    format!("panic: {message}")
}

impl EventLoop {
    /// The s6 logger pipes and the captured output's (named `NAME/stdout`,
    /// `NAME/stderr`), for a re-exec to keep.
    pub fn logger_pipes(&self) -> Vec<crate::reexec::KeptPipe> {
        self.pipes
            .ends()
            .into_iter()
            .chain(self.logs.kept_pipes())
            .map(|(service, read, write)| crate::reexec::KeptPipe {
                service,
                read,
                write,
            })
            .collect()
    }

    /// A program carried on from a re-exec whose output is captured: its kept pipes are
    /// read again, with its unit's `[log]` (or the default).
    pub(super) fn adopt_output(&mut self, name: &str, pid: crate::core::Pid, output: &Output) {
        let config = match output {
            Output::Inherit => None,
            Output::SystemDefault => self.host.log_default.clone(),
            Output::Capture(config) => Some(config.clone()),
        };
        if let Some(config) = config {
            self.logs
                .configure_adopted(name, config, self.poll.registry());
        }
        self.logs.spawned(name, pid);
    }

    /// The logger pipes the last image kept open: the services and loggers still running
    /// hold their other ends.
    pub fn adopt_logger_pipes(&mut self, pipes: Vec<crate::reexec::KeptPipe>) {
        for pipe in pipes {
            if let Some((name, stream)) = pipe.service.split_once('/') {
                let registry = self.poll.registry();
                if let Err(error) = self
                    .logs
                    .adopt(name, stream, pipe.read, pipe.write, registry)
                {
                    log::warn!("{name}: the kept {stream} pipe is unusable: {error}");
                }
                continue;
            }
            if let Err(error) = self.pipes.adopt(&pipe.service, pipe.read, pipe.write) {
                log::warn!(
                    "{}: the kept logger pipe is unusable: {error}",
                    pipe.service
                );
            }
        }
    }

    /// A program carried on from a re-exec: its notify socket bound again (at the same
    /// path, which its `NOTIFY_SOCKET` names) and its s6 directory claimed again.
    pub(super) fn adopt(
        &mut self,
        token: SpawnToken,
        name: &str,
        pid: crate::core::Pid,
        notify_socket: bool,
        s6_service_dir: Option<&std::path::Path>,
    ) {
        if let Some(dir) = s6_service_dir {
            self.s6.claim(name, dir);
        }
        if notify_socket {
            self.notify.prepare(name, true, self.poll.registry());
            self.notify.spawned(name, token, pid);
        }
    }
}
