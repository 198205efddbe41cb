//! What is left of a service's process group once its main process died (`[stop] mode =
//! "group"`): a daemon that forked and exited, a child that outlived its shell. Like
//! systemd with a unit's control group, Phoenix ends the rest — stop signal (+SIGCONT),
//! `[stop] timeout`, SIGKILL — before the death is judged, `finish` runs or the service
//! restarts, so restarts never pile up orphans. Part of `Service`; pure: the shell counts
//! and signals the group (`CheckGroup`), the count comes back as `GroupChecked`, and every
//! drain of `waitpid` (leftovers re-parent to Phoenix, which reaps them) asks again.

use std::time::Instant;

use crate::core::{Action, CheckToken, Pid};
use crate::unit::{Signal, format_duration};

use super::death::Death;
use super::{Service, State, TimerKind};

/// A sweep under way: how far it got and how many processes the last check counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sweep {
    phase: Phase,
    members: usize,
    /// The death came during a stop, which signalled the group and armed StopKill.
    after_stop: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// The first check is out. Nothing is shown yet: the group is almost always empty.
    Checking,
    /// The leftovers have the stop signal; SIGKILL when the StopKill timer fires.
    Terminating,
    /// SIGKILL sent; when the StopKill timer fires again Phoenix stops waiting.
    Killing,
}

/// Group-check tokens: the index of the service that asked.
pub fn check_token(index: usize) -> CheckToken {
    index as CheckToken
}

pub fn decode_check_token(token: CheckToken) -> Option<usize> {
    usize::try_from(token).ok()
}

impl Service {
    /// Leftovers of its process group are being ended; the death waits in `pending`.
    pub fn is_sweeping(&self) -> bool {
        self.sweep.is_some()
    }

    /// The main process died: check its group before anything else happens. A death on
    /// its own has not signalled the group, so the check carries the stop signal; a stop
    /// has already sent it and armed the StopKill timer, and a stop that reached its
    /// timeout has sent SIGKILL, which the check repeats for whatever came after.
    pub(super) fn begin_sweep(&mut self, death: Death) -> Vec<Action> {
        let after_stop = self.stop_intent.is_some();
        self.pending = Some(death);
        self.sweep = Some(Sweep {
            phase: Phase::Checking,
            members: 0,
            after_stop,
        });
        let signal = match (after_stop, self.killed) {
            (false, _) => Some(self.unit.stop.signal),
            (true, false) => None,
            (true, true) => Some(Signal::KILL),
        };
        vec![self.check_group(signal)]
    }

    fn check_group(&self, signal: Option<Signal>) -> Action {
        Action::CheckGroup {
            token: check_token(self.index),
            pgid: self.last_pgid,
            signal,
        }
    }

    /// After a drain: leftovers may have died, so count again.
    pub fn recheck_group(&self) -> Vec<Action> {
        match self.sweep {
            Some(sweep) if sweep.phase != Phase::Checking => vec![self.check_group(None)],
            _ => Vec::new(),
        }
    }

    pub fn on_group_checked(&mut self, pgid: Pid, members: usize, now: Instant) -> Vec<Action> {
        let Some(sweep) = &mut self.sweep else {
            return Vec::new();
        };
        if pgid != self.last_pgid {
            return Vec::new();
        }
        if members == 0 {
            return self.end_sweep(now);
        }
        sweep.members = members;
        if sweep.phase != Phase::Checking {
            return Vec::new();
        }
        let after_stop = sweep.after_stop;
        self.announce_sweep(members, after_stop, now)
    }

    /// The first check found leftovers: say so, show `stopping`, bound the wait.
    fn announce_sweep(&mut self, members: usize, after_stop: bool, now: Instant) -> Vec<Action> {
        let name = &self.unit.name;
        let signal = self.unit.stop.signal;
        let timeout = format_duration(self.unit.stop.timeout);
        let deadline = Action::ArmTimer {
            timer: self.timer(TimerKind::StopKill),
            deadline: now + self.unit.stop.timeout,
        };
        let (phase, actions) = if !after_stop {
            log::info!(
                "{name}: ending {members} leftover process(es) of its process group ({signal}, SIGKILL after {timeout})"
            );
            (Phase::Terminating, vec![deadline])
        } else if self.killed {
            log::info!(
                "{name}: waiting for {members} leftover process(es) of its process group (SIGKILL sent)"
            );
            (Phase::Killing, vec![deadline])
        } else {
            // The stop's own StopKill timer is still armed and bounds the wait.
            log::info!(
                "{name}: ending {members} leftover process(es) of its process group ({signal} sent, SIGKILL at the stop timeout)"
            );
            (Phase::Terminating, Vec::new())
        };
        self.sweep = Some(Sweep {
            phase,
            members,
            after_stop,
        });
        let status = self
            .pending
            .as_ref()
            .map_or_else(String::new, |death| format!("{}, ", death.status));
        self.set_state(
            State::Stopping,
            &format!("{status}{members} leftover process(es) in its process group"),
        );
        actions
    }

    /// The StopKill timer while sweeping: SIGKILL to the group, then, if even that does
    /// not empty it in time (a process in uninterruptible sleep), carry on without it.
    pub(super) fn on_sweep_timer(&mut self, now: Instant) -> Vec<Action> {
        let Some(sweep) = self.sweep else {
            return Vec::new();
        };
        let name = &self.unit.name;
        let timeout = format_duration(self.unit.stop.timeout);
        match sweep.phase {
            Phase::Checking | Phase::Terminating => {
                log::warn!(
                    "{name}: leftover process(es) of its process group still running {timeout} after the stop signal, sending SIGKILL"
                );
                self.sweep = Some(Sweep {
                    phase: Phase::Killing,
                    ..sweep
                });
                vec![
                    self.check_group(Some(Signal::KILL)),
                    Action::ArmTimer {
                        timer: self.timer(TimerKind::StopKill),
                        deadline: now + self.unit.stop.timeout,
                    },
                ]
            }
            Phase::Killing => {
                log::warn!(
                    "{name}: {} process(es) of its process group outlived SIGKILL by {timeout}, no longer waiting for them",
                    sweep.members
                );
                self.end_sweep(now)
            }
        }
    }

    /// The group is empty (or given up on): the death goes on to `finish` or its verdict.
    fn end_sweep(&mut self, now: Instant) -> Vec<Action> {
        self.sweep = None;
        let mut actions = vec![Action::CancelTimer {
            timer: self.timer(TimerKind::StopKill),
        }];
        if let Some(death) = self.pending.take() {
            actions.extend(self.after_death(death, now));
        }
        actions
    }
}
