//! The last phase of every run (DESIGN.md §6): once the command or the services are gone,
//! whatever is left gets SIGTERM (+SIGCONT for the stopped), SIGKILL after `grace`, and
//! Phoenix exits as soon as no child remains (a machine's init powers off instead, with
//! the action it was given). Used by tini mode and services mode alike.
//! Pure: it answers drains and timers with actions.

use std::time::{Duration, Instant};

use crate::core::{Action, Target, TimerId};
use crate::power::PowerAction;
use crate::unit::Signal;

pub const GRACE_TIMER: TimerId = 1;
pub const FINAL_TIMER: TimerId = 2;

/// After SIGKILL, how long to wait for the kernel to deliver the last exits before leaving
/// anyway (a process stuck in uninterruptible sleep must not keep PID 1 alive forever).
pub const AFTER_KILL: Duration = Duration::from_secs(2);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Idle,
    /// Waiting for the next drain to say whether anything is left.
    Pending,
    Terminating,
    Killing,
    Done,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leftovers {
    phase: Phase,
    code: u8,
    grace: Duration,
    /// A process group that already received SIGTERM (forwarded with `-g`): a second one
    /// could cut an application's clean shutdown short, so it only gets the grace period.
    terminated_group: Option<crate::core::Pid>,
    /// A machine's run ends with this power action instead of an exit.
    power: Option<PowerAction>,
}

impl Leftovers {
    pub fn new(grace: Duration) -> Leftovers {
        Leftovers {
            phase: Phase::Idle,
            code: 0,
            grace,
            terminated_group: None,
            power: None,
        }
    }

    pub fn is_active(&self) -> bool {
        self.phase != Phase::Idle
    }

    /// The process group led by `leader` has already received SIGTERM.
    pub fn spare_group(&mut self, leader: crate::core::Pid) {
        self.terminated_group = Some(leader);
    }

    /// The run ends with `action` (the final sequence and `reboot(2)`) instead of an exit.
    pub fn end_with(&mut self, action: PowerAction) {
        self.power = Some(action);
    }

    /// Phoenix will exit with `code` after all (a request that came during the shutdown).
    pub fn exit_with(&mut self, code: u8) {
        self.code = code;
    }

    fn end(&self) -> Action {
        match self.power {
            Some(action) => Action::Power(action),
            None => Action::Exit { code: self.code },
        }
    }

    /// Starts the sequence; Phoenix will exit with `code`.
    pub fn begin(&mut self, code: u8) {
        if self.phase == Phase::Idle {
            self.phase = Phase::Pending;
            self.code = code;
        }
    }

    pub fn on_drained(&mut self, children_remain: bool, now: Instant) -> Vec<Action> {
        match self.phase {
            Phase::Pending | Phase::Terminating | Phase::Killing if !children_remain => {
                self.phase = Phase::Done;
                vec![self.end()]
            }
            Phase::Pending => {
                log::info!(
                    "ending leftover processes (SIGTERM, SIGKILL after {})",
                    crate::unit::format_duration(self.grace)
                );
                self.phase = Phase::Terminating;
                let target = self
                    .terminated_group
                    .map_or(Target::Everything, Target::EverythingOutside);
                vec![
                    Action::Signal {
                        target,
                        signal: Signal::TERM,
                    },
                    Action::Signal {
                        target: Target::Everything,
                        signal: Signal::CONT,
                    },
                    Action::ArmTimer {
                        timer: GRACE_TIMER,
                        deadline: now + self.grace,
                    },
                ]
            }
            _ => Vec::new(),
        }
    }

    pub fn on_timer(&mut self, timer: TimerId, now: Instant) -> Vec<Action> {
        match (self.phase, timer) {
            (Phase::Terminating, GRACE_TIMER) => {
                log::warn!("leftover processes outlived the grace period, sending SIGKILL");
                self.kill_now(now)
            }
            (Phase::Killing, FINAL_TIMER) => {
                log::error!("processes survived SIGKILL (uninterruptible sleep?), exiting anyway");
                self.phase = Phase::Done;
                vec![self.end()]
            }
            _ => Vec::new(),
        }
    }

    /// SIGKILL everything now (the grace or a shutdown cap ran out).
    pub fn kill_now(&mut self, now: Instant) -> Vec<Action> {
        if matches!(self.phase, Phase::Killing | Phase::Done) {
            return Vec::new();
        }
        self.phase = Phase::Killing;
        vec![
            Action::CancelTimer { timer: GRACE_TIMER },
            Action::Signal {
                target: Target::Everything,
                signal: Signal::KILL,
            },
            Action::ArmTimer {
                timer: FINAL_TIMER,
                deadline: now + AFTER_KILL,
            },
        ]
    }
}
