//! What the rescue path decides about its services, and nothing it does: which to start
//! now, what a death means (restart after a fixed delay, unless the unit restarted too
//! often in the last minute), which pid belongs to which service. Pure: no system calls,
//! no clock — every instant is passed in — so every rule is a unit test.

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

/// The wait after a death before the next start.
pub const RESTART_DELAY: Duration = Duration::from_secs(1);
/// At most this many restarts …
pub const MAX_RESTARTS: usize = 10;
/// … within this window; one more death and the service stays down.
pub const RESTART_WINDOW: Duration = Duration::from_secs(60);

/// How a process ended, from its wait status.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ExitStatus {
    Code(i32),
    Signal(i32),
}

impl ExitStatus {
    /// Decodes a raw `waitpid` status (only exits and deaths are ever reaped).
    pub fn from_raw(status: i32) -> ExitStatus {
        match status & 0x7f {
            0 => ExitStatus::Code((status >> 8) & 0xff),
            signal => ExitStatus::Signal(signal),
        }
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            ExitStatus::Code(code) => write!(f, "exit {code}"),
            ExitStatus::Signal(signal) => write!(f, "killed by signal {signal}"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum State {
    /// To be started at this instant.
    Due(Instant),
    Running(i32),
    /// Not enabled (`enabled = false`, an s6 `down` file).
    Disabled,
    /// A oneshot that finished cleanly.
    Finished,
    /// Restarted too often within the window: stays down.
    Capped,
    /// Shutdown began.
    Stopped,
}

/// What a death (or a failed start) led to, for the log.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fate {
    RestartAt(Instant),
    Finished,
    Capped,
    Stopped,
}

#[derive(Debug)]
struct Service {
    name: String,
    state: State,
    is_oneshot: bool,
    /// When each restart within the window was decided, oldest first.
    restarts: VecDeque<Instant>,
}

#[derive(Debug, Default)]
pub struct Supervisor {
    services: Vec<Service>,
    is_stopping: bool,
}

/// A service to supervise: its name, whether it starts at all, whether it is a oneshot.
pub struct Plan<'a> {
    pub name: &'a str,
    pub is_enabled: bool,
    pub is_oneshot: bool,
}

impl Supervisor {
    /// Every enabled service is due at `now`, in the order given.
    pub fn new(plans: &[Plan], now: Instant) -> Supervisor {
        let services = plans
            .iter()
            .map(|plan| Service {
                name: plan.name.to_string(),
                state: if plan.is_enabled {
                    State::Due(now)
                } else {
                    State::Disabled
                },
                is_oneshot: plan.is_oneshot,
                restarts: VecDeque::new(),
            })
            .collect();
        Supervisor {
            services,
            is_stopping: false,
        }
    }

    /// `pid` already runs the service `name`: it is supervised without being started.
    pub fn adopt(&mut self, name: &str, pid: i32) -> Result<usize, String> {
        if self.index_of_pid(pid).is_some() {
            return Err(format!("pid {pid} already runs a unit"));
        }
        let index = self
            .services
            .iter()
            .position(|service| service.name == name)
            .ok_or_else(|| format!("no readable unit is called {name}"))?;
        if let Some(State::Running(other)) = self.state(index) {
            return Err(format!("{name} already runs as pid {other}"));
        }
        self.set_state(index, State::Running(pid));
        Ok(index)
    }

    pub fn name(&self, index: usize) -> &str {
        self.services
            .get(index)
            .map_or("?", |service| service.name.as_str())
    }

    pub fn state(&self, index: usize) -> Option<State> {
        self.services.get(index).map(|service| service.state)
    }

    pub fn is_stopping(&self) -> bool {
        self.is_stopping
    }

    /// The services to start now.
    pub fn due(&self, now: Instant) -> Vec<usize> {
        self.indices()
            .filter(|&index| matches!(self.state(index), Some(State::Due(at)) if at <= now))
            .collect()
    }

    /// When the next start is due, if any: the loop's timeout.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.services
            .iter()
            .filter_map(|service| match service.state {
                State::Due(at) => Some(at),
                _ => None,
            })
            .min()
    }

    pub fn started(&mut self, index: usize, pid: i32) {
        self.set_state(index, State::Running(pid));
    }

    /// A start that failed counts as a death.
    pub fn start_failed(&mut self, index: usize, now: Instant) -> Fate {
        self.decide(index, None, now)
    }

    /// `pid` ended: the service it ran and what happens next, or `None` for a process
    /// that was no service's (an orphan).
    pub fn exited(&mut self, pid: i32, status: ExitStatus, now: Instant) -> Option<(usize, Fate)> {
        let index = self.index_of_pid(pid)?;
        Some((index, self.decide(index, Some(status), now)))
    }

    /// Shutdown: nothing starts any more. The running services, to be stopped.
    pub fn begin_stop(&mut self) -> Vec<(usize, i32)> {
        self.is_stopping = true;
        for service in &mut self.services {
            if matches!(service.state, State::Due(_)) {
                service.state = State::Stopped;
            }
        }
        self.running()
    }

    pub fn running(&self) -> Vec<(usize, i32)> {
        self.indices()
            .filter_map(|index| match self.state(index) {
                Some(State::Running(pid)) => Some((index, pid)),
                _ => None,
            })
            .collect()
    }

    fn decide(&mut self, index: usize, status: Option<ExitStatus>, now: Instant) -> Fate {
        let is_stopping = self.is_stopping;
        let Some(service) = self.services.get_mut(index) else {
            return Fate::Stopped;
        };
        let (state, fate) = if is_stopping {
            (State::Stopped, Fate::Stopped)
        } else if service.is_oneshot && status == Some(ExitStatus::Code(0)) {
            (State::Finished, Fate::Finished)
        } else {
            while service
                .restarts
                .front()
                .is_some_and(|&at| now.saturating_duration_since(at) >= RESTART_WINDOW)
            {
                service.restarts.pop_front();
            }
            if service.restarts.len() >= MAX_RESTARTS {
                (State::Capped, Fate::Capped)
            } else {
                service.restarts.push_back(now);
                let at = now + RESTART_DELAY;
                (State::Due(at), Fate::RestartAt(at))
            }
        };
        service.state = state;
        fate
    }

    fn index_of_pid(&self, pid: i32) -> Option<usize> {
        self.indices()
            .find(|&index| self.state(index) == Some(State::Running(pid)))
    }

    fn set_state(&mut self, index: usize, state: State) {
        if let Some(service) = self.services.get_mut(index) {
            service.state = state;
        }
    }

    fn indices(&self) -> std::ops::Range<usize> {
        0..self.services.len()
    }
}

#[cfg(test)]
#[path = "supervisor_tests.rs"]
mod tests;
