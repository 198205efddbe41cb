//! What the shell adds around a spawn the core asked for: the stale files removed before
//! it (DESIGN.md §4.7), logged and turned into transitions for the event log, and the
//! `NOTIFY_SOCKET` the service is given, then the spawn itself with the readiness pipe and
//! the notify socket's senders watched and the output captured (`logs.rs`); around an
//! exit, a captured program's last lines ahead of it. The checks themselves are
//! `sys::stale_files`'s, the fork is `sys::spawn`'s; nothing here makes a system call.

use std::path::Path;
use std::time::SystemTime;

use crate::core::{Event, SpawnToken};
use crate::exit_status::ExitStatus;
use crate::process_spec::{Output, ProcessSpec};
use crate::service::{State, Transition};
use crate::sys::spawn;
use crate::sys::stale_files::{StaleFile, remove_stale_files};

use super::EventLoop;

/// Removes `spec`'s stale files; one info line per removal, and its transition (starting
/// to starting, the sentence as the reason) for the caller to record.
pub fn clear_stale_files(spec: &ProcessSpec) -> Vec<Transition> {
    let mut removals = Vec::new();
    for found in remove_stale_files(&spec.stale_files) {
        match found {
            StaleFile::Removed { reason, .. } => {
                log::info!("{}: {reason}", spec.name);
                removals.push(Transition {
                    service: spec.name.clone(),
                    from: State::Starting,
                    to: State::Starting,
                    reason,
                    exit: None,
                    restarts: 0,
                    next_attempt: None,
                    health: None,
                    step: None,
                });
            }
            StaleFile::Kept { path, reason } => {
                log::debug!("{}: kept {} ({reason})", spec.name, path.display());
            }
            StaleFile::LeftAlone { warning, .. } => log::warn!("{}: {warning}", spec.name),
        }
    }
    removals
}

/// `NOTIFY_SOCKET=path` over anything inherited; a path that is not UTF-8 (the runtime
/// directory's) cannot be passed as the spec's text and is skipped with a warning.
pub fn set_notify_socket(spec: &mut ProcessSpec, path: &Path) {
    match path.to_str() {
        Some(path) => spec
            .environment
            .push(("NOTIFY_SOCKET".to_string(), Some(path.to_string()))),
        None => log::warn!(
            "{}: no NOTIFY_SOCKET: {} is not UTF-8",
            spec.name,
            path.display()
        ),
    }
}

impl EventLoop {
    /// Each reaped child's exit; a captured program's pipes are read to the end first,
    /// and its last lines go ahead of its exit. Then the lines dropped so far.
    pub(super) fn queue_exits(&mut self, reaped: Vec<(crate::core::Pid, ExitStatus)>) {
        for (pid, status) in reaped {
            let registry = self.poll.registry();
            let now = SystemTime::now();
            let server = self.control.as_mut();
            if let Some((service, lines)) = self.logs.exited(pid, now, server, registry) {
                self.queue.push_back(Event::LastLines { service, lines });
            }
            let event = self.alert_hooks.reaped(pid, status);
            self.queue.push_back(event);
        }
        for (service, dropped) in self.logs.take_dropped() {
            self.queue
                .push_back(Event::LogLinesDropped { service, dropped });
        }
    }

    /// Stale files first, then the spawn with what the shell adds: `NOTIFY_SOCKET`, and
    /// the watching of the readiness pipe and of the notify socket's senders.
    pub(super) fn spawn(&mut self, token: SpawnToken, mut spec: ProcessSpec) {
        for removal in clear_stale_files(&spec) {
            self.record(removal);
        }
        if let Some(dir) = &spec.s6_service_dir {
            self.s6.claim(&spec.name, dir);
        }
        let registry = self.poll.registry();
        if let Some(path) = self
            .notify
            .prepare(&spec.name, spec.notify_socket, registry)
        {
            set_notify_socket(&mut spec, &path);
        }
        let output = match &spec.output {
            Output::Inherit => None,
            Output::SystemDefault => self.host.log_default.clone(),
            Output::Capture(config) => Some(config.clone()),
        };
        let ends = output
            .and_then(|config| {
                let stdout = spec.stdout_pipe.is_none();
                self.logs
                    .prepare(&spec.name, config, stdout, self.poll.registry())
            })
            .unwrap_or_default();
        let signals = self.signals.child_signals();
        let event = match spawn::spawn_with_output(&spec, signals, &mut self.pipes, ends) {
            Ok(started) => {
                self.notify.spawned(&spec.name, token, started.pid);
                self.logs.spawned(&spec.name, started.pid);
                if let Some(read_end) = started.readiness {
                    let registry = self.poll.registry();
                    self.readiness.watch(&spec.name, token, read_end, registry);
                }
                Event::Spawned {
                    token,
                    pid: started.pid,
                }
            }
            Err(error) => Event::SpawnFailed { token, error },
        };
        self.queue.push_back(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process_spec::Placement;

    #[test]
    fn a_removal_is_a_transition_of_the_starting_service() {
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join("LOCK");
        std::fs::write(&lock, "").unwrap();
        let mut spec = ProcessSpec::command("web", vec!["web".into()], Placement::NewSession);
        spec.stale_files = vec![lock.clone(), dir.path().join("missing.pid")];
        let removals = clear_stale_files(&spec);
        assert_eq!(
            removals,
            [Transition {
                service: "web".into(),
                from: State::Starting,
                to: State::Starting,
                reason: format!("removed stale lock {} (nobody held it)", lock.display()),
                exit: None,
                restarts: 0,
                next_attempt: None,
                health: None,
                step: None,
            }]
        );
    }

    #[test]
    fn the_notify_socket_is_set_over_an_inherited_one() {
        let mut spec = ProcessSpec::command("web", vec!["web".into()], Placement::NewSession);
        spec.environment = vec![("NOTIFY_SOCKET".into(), Some("/elsewhere".into()))];
        set_notify_socket(&mut spec, Path::new("/run/phoenix/notify/web.sock"));
        let environment = crate::sys::environment::build_environment(&spec, None).unwrap();
        let values: Vec<_> = environment
            .iter()
            .filter(|(key, _)| key == "NOTIFY_SOCKET")
            .map(|(_, value)| value.clone())
            .collect();
        assert_eq!(values, ["/run/phoenix/notify/web.sock"]);
    }
}
