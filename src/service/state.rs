//! The states a service can be in, named as DESIGN.md §5 and `phoenixctl status` name them.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Not wanted, or waiting for its dependencies.
    Down,
    /// Being spawned.
    Starting,
    Running,
    /// Asked to stop; SIGKILL follows at the stop timeout.
    Stopping,
    /// Waiting out a restart delay.
    Backoff,
    /// On a recovery ladder step: its hook runs, or its start waits for `verify`. Up, for
    /// dependents and probes, once ready.
    Recovering,
    /// Finished and not restarting (a oneshot that succeeded, or policy says no).
    Exited,
    /// Circuit open after the budget ran out; one trial start when it ends.
    Cooldown,
    /// Budget exhausted with `on-exhausted = "stop"`, a permanent failure, or a unit that
    /// cannot start; cleared by `reset` or `start`.
    Failed,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::Down => "down",
            State::Starting => "starting",
            State::Running => "running",
            State::Stopping => "stopping",
            State::Backoff => "backoff",
            State::Recovering => "recovering",
            State::Exited => "exited",
            State::Cooldown => "cooldown",
            State::Failed => "failed",
        }
    }

    /// Every state, for tables and tests.
    pub const ALL: [State; 9] = [
        State::Down,
        State::Starting,
        State::Running,
        State::Stopping,
        State::Backoff,
        State::Recovering,
        State::Exited,
        State::Cooldown,
        State::Failed,
    ];
}

impl State {
    pub fn from_name(name: &str) -> Option<State> {
        State::ALL.into_iter().find(|state| state.name() == name)
    }

    /// Running, or recovering (a ladder step's run, ready or not yet): probes, the
    /// watchdog and failures apply as to a running service.
    pub fn is_up(self) -> bool {
        matches!(self, State::Running | State::Recovering)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
