//! Tini mode: one command, every signal forwarded to it, every zombie reaped, and — unlike
//! tini — leftovers ended when the command is gone: SIGTERM, `grace`, SIGKILL, exit.
//! Pure: decisions only; the event loop performs them.

use std::time::{Duration, Instant};

use crate::core::{Action, Core, Event, Pid, SpawnToken, Target};
use crate::exit_status::remap_exit_code;
use crate::process_spec::ProcessSpec;
use crate::shutdown::Leftovers;
use crate::unit::Signal;

const SPAWN_MAIN: SpawnToken = 1;

#[derive(Clone, Debug, PartialEq)]
pub struct InitConfig {
    pub spec: ProcessSpec,
    /// `-g`: forward to the child's process group, not just the child.
    pub signal_group: bool,
    /// `-e`: exit codes reported as 0.
    pub success_codes: Vec<u8>,
    /// `-w`: warn for each reaped orphan.
    pub warn_on_reap: bool,
    pub grace: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Starting,
    Running {
        pid: Pid,
    },
    /// The command is gone; `leftovers` takes it from here.
    Finished,
}

pub struct Init {
    config: InitConfig,
    phase: Phase,
    leftovers: Leftovers,
}

impl Init {
    pub fn new(config: InitConfig) -> Init {
        let leftovers = Leftovers::new(config.grace);
        Init {
            config,
            phase: Phase::Starting,
            leftovers,
        }
    }

    fn forward(&mut self, pid: Pid, signal: Signal) -> Vec<Action> {
        let target = if self.config.signal_group {
            if signal == Signal::TERM {
                self.leftovers.spare_group(pid);
            }
            Target::Group(pid)
        } else {
            Target::Process(pid)
        };
        log::debug!("{}: forwarding {signal}", self.config.spec.name);
        vec![Action::Signal { target, signal }]
    }

    fn finish(&mut self, code: u8) {
        self.phase = Phase::Finished;
        self.leftovers.begin(code);
    }
}

impl Core for Init {
    fn start(&mut self, _now: Instant) -> Vec<Action> {
        vec![Action::Spawn {
            token: SPAWN_MAIN,
            spec: self.config.spec.clone(),
        }]
    }

    fn step(&mut self, event: Event, now: Instant) -> Vec<Action> {
        match (event, self.phase) {
            (Event::Spawned { pid, .. }, Phase::Starting) => {
                log::debug!("{}: started as pid {pid}", self.config.spec.name);
                self.phase = Phase::Running { pid };
                Vec::new()
            }
            (Event::SpawnFailed { error, .. }, Phase::Starting) => {
                log::error!(
                    "unable to spawn '{}': {}",
                    self.config.spec.name,
                    error.message
                );
                self.finish(error.exit_code());
                Vec::new()
            }
            (Event::Exited { pid, status }, Phase::Running { pid: main }) if pid == main => {
                log::debug!("{}: {status}", self.config.spec.name);
                self.finish(remap_exit_code(status, &self.config.success_codes));
                Vec::new()
            }
            (Event::Exited { pid, status }, _) => {
                if self.config.warn_on_reap {
                    log::warn!("{}", crate::exit_status::reaped_orphan_line(pid, status));
                }
                Vec::new()
            }
            (Event::Drained { children_remain }, _) => {
                self.leftovers.on_drained(children_remain, now)
            }
            (Event::TimerFired { timer }, _) => self.leftovers.on_timer(timer, now),
            (Event::Signal { signal, from_self }, Phase::Running { pid }) => {
                if signal == Signal::CHLD || (from_self && signal == Signal::PIPE) {
                    return Vec::new();
                }
                self.forward(pid, signal)
            }
            (Event::Signal { signal, .. }, phase) => {
                log::debug!("ignoring {signal} while {phase:?}");
                Vec::new()
            }
            (event, phase) => {
                log::debug!("ignoring {event:?} while {phase:?}");
                Vec::new()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::SpawnError;
    use crate::exit_status::ExitStatus;
    use crate::process_spec::Placement;

    fn init(signal_group: bool, success_codes: Vec<u8>) -> Init {
        let spec = ProcessSpec::command("sh", vec!["sh".into()], Placement::ForegroundGroup);
        let mut init = Init::new(InitConfig {
            spec,
            signal_group,
            success_codes,
            warn_on_reap: false,
            grace: Duration::from_secs(5),
        });
        assert_eq!(init.start(crate::testing::now()).len(), 1);
        init
    }

    fn running(signal_group: bool) -> (Init, Instant) {
        let mut init = init(signal_group, vec![]);
        let now = crate::testing::now();
        assert!(
            init.step(
                Event::Spawned {
                    token: SPAWN_MAIN,
                    pid: 42
                },
                now
            )
            .is_empty()
        );
        (init, now)
    }

    fn signal(signal: Signal) -> Event {
        Event::Signal {
            signal,
            from_self: false,
        }
    }

    #[test]
    fn forwards_signals_to_the_child_or_its_group() {
        let (mut init, now) = running(false);
        let sent = init.step(signal(Signal::USR1), now);
        assert_eq!(
            sent,
            vec![Action::Signal {
                target: Target::Process(42),
                signal: Signal::USR1
            }]
        );
        let (mut init, now) = running(true);
        let sent = init.step(signal(Signal::TERM), now);
        assert_eq!(
            sent,
            vec![Action::Signal {
                target: Target::Group(42),
                signal: Signal::TERM
            }]
        );
    }

    #[test]
    fn never_forwards_chld_or_its_own_sigpipe() {
        let (mut init, now) = running(false);
        assert!(init.step(signal(Signal::CHLD), now).is_empty());
        let own_pipe = Event::Signal {
            signal: Signal::PIPE,
            from_self: true,
        };
        assert!(init.step(own_pipe, now).is_empty());
        assert_eq!(init.step(signal(Signal::PIPE), now).len(), 1);
    }

    #[test]
    fn exits_at_once_when_nothing_is_left() {
        let (mut init, now) = running(false);
        let exited = Event::Exited {
            pid: 42,
            status: ExitStatus::Code(7),
        };
        assert!(init.step(exited, now).is_empty());
        let actions = init.step(
            Event::Drained {
                children_remain: false,
            },
            now,
        );
        assert_eq!(actions, vec![Action::Exit { code: 7 }]);
    }

    #[test]
    fn terminates_then_kills_leftovers() {
        let (mut init, now) = running(false);
        let killed = Event::Exited {
            pid: 42,
            status: ExitStatus::Signal(Signal::KILL),
        };
        init.step(killed, now);
        let actions = init.step(
            Event::Drained {
                children_remain: true,
            },
            now,
        );
        assert_eq!(
            actions[0],
            Action::Signal {
                target: Target::Everything,
                signal: Signal::TERM
            }
        );
        let deadline = now + Duration::from_secs(5);
        assert_eq!(
            actions[2],
            Action::ArmTimer {
                timer: crate::shutdown::GRACE_TIMER,
                deadline
            }
        );
        let actions = init.step(
            Event::TimerFired {
                timer: crate::shutdown::GRACE_TIMER,
            },
            deadline,
        );
        assert!(actions.contains(&Action::Signal {
            target: Target::Everything,
            signal: Signal::KILL
        }));
        let actions = init.step(
            Event::Drained {
                children_remain: false,
            },
            deadline,
        );
        assert_eq!(actions, vec![Action::Exit { code: 137 }]);
    }

    #[test]
    fn issue_8_a_group_that_got_the_forwarded_term_is_not_terminated_again() {
        for (signal_group, expected) in [
            (true, Target::EverythingOutside(42)),
            (false, Target::Everything),
        ] {
            let (mut init, now) = running(signal_group);
            init.step(signal(Signal::TERM), now);
            let exited = Event::Exited {
                pid: 42,
                status: ExitStatus::Code(0),
            };
            init.step(exited, now);
            let actions = init.step(
                Event::Drained {
                    children_remain: true,
                },
                now,
            );
            assert_eq!(
                actions[0],
                Action::Signal {
                    target: expected,
                    signal: Signal::TERM
                },
                "-g {signal_group}"
            );
        }
    }

    #[test]
    fn leftovers_that_leave_early_end_the_wait() {
        let (mut init, now) = running(false);
        init.step(
            Event::Exited {
                pid: 42,
                status: ExitStatus::Code(0),
            },
            now,
        );
        init.step(
            Event::Drained {
                children_remain: true,
            },
            now,
        );
        init.step(
            Event::Exited {
                pid: 43,
                status: ExitStatus::Signal(Signal::TERM),
            },
            now,
        );
        let actions = init.step(
            Event::Drained {
                children_remain: false,
            },
            now,
        );
        assert_eq!(actions, vec![Action::Exit { code: 0 }]);
    }

    #[test]
    fn remaps_listed_codes() {
        let mut init = init(false, vec![143]);
        let now = crate::testing::now();
        init.step(
            Event::Spawned {
                token: SPAWN_MAIN,
                pid: 9,
            },
            now,
        );
        init.step(
            Event::Exited {
                pid: 9,
                status: ExitStatus::Signal(Signal::TERM),
            },
            now,
        );
        let actions = init.step(
            Event::Drained {
                children_remain: false,
            },
            now,
        );
        assert_eq!(actions, vec![Action::Exit { code: 0 }]);
    }

    #[test]
    fn spawn_failure_exits_with_shell_codes() {
        for (errno, code) in [(2, 127), (13, 126)] {
            let mut init = init(false, vec![]);
            let now = crate::testing::now();
            let error = SpawnError {
                pid: None,
                errno,
                message: "exec".into(),
            };
            init.step(
                Event::SpawnFailed {
                    token: SPAWN_MAIN,
                    error,
                },
                now,
            );
            let actions = init.step(
                Event::Drained {
                    children_remain: false,
                },
                now,
            );
            assert_eq!(actions, vec![Action::Exit { code }]);
        }
    }

    #[test]
    fn orphans_do_not_end_the_run() {
        let (mut init, now) = running(false);
        init.step(
            Event::Exited {
                pid: 77,
                status: ExitStatus::Code(0),
            },
            now,
        );
        assert!(
            init.step(
                Event::Drained {
                    children_remain: true
                },
                now
            )
            .is_empty()
        );
        assert!(
            init.step(
                Event::Drained {
                    children_remain: false
                },
                now
            )
            .is_empty()
        );
    }
}
