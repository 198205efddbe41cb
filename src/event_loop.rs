//! The shell around a pure core: wait for something to happen, turn it into events, perform
//! the actions that come back.
//!
//! Error policy — PID 1 must not die:
//! - A failed action never returns early: a spawn that fails becomes `SpawnFailed`, a kill
//!   of a vanished process is ignored, anything else is logged and the loop goes on.
//! - A poll that keeps failing is the one thing the loop cannot work around; after many
//!   consecutive failures it hands over to the degraded reap-forever loop.
//! - A panic anywhere (caught in `main`) also ends in the degraded loop, never in an exit.
//!
//! Rhythm of one wake-up: read every queued signal, drain `waitpid` until nothing is left
//! (SIGCHLDs merge), fire due timers; the poll timeout is the next deadline or none.

use std::collections::VecDeque;
use std::io::ErrorKind;
use std::time::Instant;

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use crate::core::{Action, Core, Event};
use crate::sys::signals::SignalSource;
use crate::sys::{process, reap, spawn};
use crate::timers::Timers;

const SIGNALS: Token = Token(0);

/// Consecutive poll failures tolerated before giving up on the loop.
const MAX_POLL_FAILURES: u32 = 100;

/// Where the shell finds units to reload and keeps state; empty in tini mode.
#[derive(Clone, Debug, Default)]
pub struct Host {
    pub services_dir: Option<std::path::PathBuf>,
    pub state_file: Option<std::path::PathBuf>,
}

pub struct EventLoop {
    poll: Poll,
    host: Host,
    signals: SignalSource,
    timers: Timers,
    pipes: crate::sys::pipes::LoggerPipes,
    queue: VecDeque<Event>,
    exit_code: Option<u8>,
}

impl EventLoop {
    pub fn new(signals: SignalSource, host: Host) -> std::io::Result<EventLoop> {
        let poll = Poll::new()?;
        let fd = signals.raw_fd();
        poll.registry()
            .register(&mut SourceFd(&fd), SIGNALS, Interest::READABLE)?;
        Ok(EventLoop {
            poll,
            host,
            signals,
            timers: Timers::default(),
            pipes: Default::default(),
            queue: VecDeque::new(),
            exit_code: None,
        })
    }

    /// Runs `core` until it asks to exit; returns the exit code, or `None` when the loop
    /// itself broke down and the caller must degrade.
    pub fn run(&mut self, core: &mut dyn Core) -> Option<u8> {
        let actions = core.start(Instant::now());
        self.perform_all(actions);
        let mut events = Events::with_capacity(64);
        let mut failures = 0;
        // The first round runs without waiting: a spawn that failed before forking has no
        // child whose exit would wake us.
        let mut signals_ready = true;
        loop {
            self.collect(signals_ready, Instant::now());
            self.dispatch(core, Instant::now());
            if self.exit_code.is_some() {
                return self.exit_code;
            }
            let timeout = self
                .timers
                .next_deadline()
                .map(|d| d.saturating_duration_since(Instant::now()));
            if let Err(error) = self.poll.poll(&mut events, timeout) {
                if error.kind() != ErrorKind::Interrupted {
                    failures += 1;
                    log::error!("poll: {error}");
                    if failures >= MAX_POLL_FAILURES {
                        return None;
                    }
                }
                signals_ready = false;
                continue;
            }
            failures = 0;
            log::trace!("wake-up: {} event(s)", events.iter().count());
            signals_ready = events.iter().any(|event| event.token() == SIGNALS);
        }
    }

    /// One wake-up's inputs, in order: queued signals, every reaped child, due timers.
    fn collect(&mut self, signals_ready: bool, now: Instant) {
        let mut received = Vec::new();
        if signals_ready {
            self.signals.read_all(&mut received);
        }
        for signal in received {
            self.queue.push_back(Event::Signal {
                signal: signal.signal,
                from_self: signal.from_self,
            });
        }
        let mut reaped = Vec::new();
        let children_remain = reap::reap_children(&mut reaped);
        for (pid, status) in reaped {
            self.queue.push_back(Event::Exited { pid, status });
        }
        self.queue.push_back(Event::Drained { children_remain });
        for timer in self.timers.take_due(now) {
            self.queue.push_back(Event::TimerFired { timer });
        }
    }

    /// Feeds queued events to the core; actions may queue more events (spawn results).
    fn dispatch(&mut self, core: &mut dyn Core, now: Instant) {
        while let Some(event) = self.queue.pop_front() {
            log::debug!("event: {event:?}");
            let actions = core.step(event, now);
            self.perform_all(actions);
        }
    }

    fn perform_all(&mut self, actions: Vec<Action>) {
        for action in actions {
            self.perform(action);
        }
    }

    fn perform(&mut self, action: Action) {
        match action {
            Action::Spawn { token, spec } => {
                let event = match spawn::spawn(&spec, self.signals.original_mask(), &mut self.pipes)
                {
                    Ok(pid) => Event::Spawned { token, pid },
                    Err(error) => Event::SpawnFailed { token, error },
                };
                self.queue.push_back(event);
            }
            Action::Signal { target, signal } => process::send_signal(target, signal),
            Action::ArmTimer { timer, deadline } => self.timers.arm(timer, deadline),
            Action::CancelTimer { timer } => self.timers.cancel(timer),
            Action::Exit { code } => self.exit_code = Some(code),
            Action::LoadUnits => {
                if let Some(dir) = &self.host.services_dir {
                    let report = crate::unit::load_dir(dir);
                    for warning in &report.warnings {
                        log::warn!("{warning}");
                    }
                    self.queue.push_back(Event::UnitsLoaded(Box::new(report)));
                }
            }
            Action::Reply { client, reply } => {
                log::debug!("no control server for client {client}: {reply:?}")
            }
            Action::Record(transition) => log::trace!("transition: {transition:?}"),
            Action::SaveState(records) => {
                if let Some(path) = &self.host.state_file {
                    crate::state_file::save(path, &records);
                }
            }
        }
    }
}
