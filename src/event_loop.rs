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
//! (SIGCHLDs merge), fire due timers; the poll timeout is the next deadline or none. The
//! core relies on that order — control requests, signals and exits ahead of the drain's
//! `Drained`, timers after it — and on answers to its actions (spawns, group checks)
//! being queued behind whatever already waits.

use std::collections::VecDeque;
use std::io::ErrorKind;
use std::time::{Instant, SystemTime};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use crate::control::event_log::{EventLog, format_rfc3339};
use crate::control::protocol::{EventRecord, Reply, Request, format_reply};
use crate::control::server::{ClientId, ControlServer};
use crate::core::{Action, Core, Event};
use crate::service::Transition;
use crate::sys::signals::SignalSource;
use crate::sys::{process, reap, spawn};
use crate::timers::Timers;

const SIGNALS: Token = Token(0);
/// The control server's listener; its clients take the tokens after it.
const CONTROL: usize = 1;

/// An `events` request gets at most this much history, so the reply fits the server's
/// per-client output bound and a long history never disconnects the client.
const HISTORY_BYTES: usize = 512 * 1024;

/// Consecutive poll failures tolerated before giving up on the loop.
const MAX_POLL_FAILURES: u32 = 100;

/// Where the shell finds units to reload, keeps state, listens for `phoenixctl` and keeps
/// the event history; empty in tini mode.
#[derive(Default)]
pub struct Host {
    pub services_dir: Option<std::path::PathBuf>,
    pub state_file: Option<crate::state_file::StateStore>,
    /// Where to listen, best first: the first that binds is used.
    pub control_sockets: Vec<std::path::PathBuf>,
    pub event_log: Option<EventLog>,
}

pub struct EventLoop {
    poll: Poll,
    host: Host,
    signals: SignalSource,
    timers: Timers,
    pipes: crate::sys::pipes::LoggerPipes,
    control: Option<ControlServer>,
    control_ready: Vec<Token>,
    queue: VecDeque<Event>,
    exit_code: Option<u8>,
}

/// Listens on the first of `paths` that works; one warning for every one that did not.
fn bind_control(paths: &[std::path::PathBuf], registry: &mio::Registry) -> Option<ControlServer> {
    let mut failures = Vec::new();
    for path in paths {
        match ControlServer::bind(path, registry, CONTROL) {
            Ok(server) => {
                if !failures.is_empty() {
                    log::warn!(
                        "{}; listening on {} instead",
                        failures.join("; "),
                        path.display()
                    );
                }
                return Some(server);
            }
            Err(error) => failures.push(error.to_string()),
        }
    }
    if !failures.is_empty() {
        log::warn!(
            "no control socket ({}); phoenixctl cannot reach this Phoenix",
            failures.join("; ")
        );
    }
    None
}

impl EventLoop {
    pub fn new(signals: SignalSource, host: Host) -> std::io::Result<EventLoop> {
        let poll = Poll::new()?;
        let fd = signals.raw_fd();
        poll.registry()
            .register(&mut SourceFd(&fd), SIGNALS, Interest::READABLE)?;
        let control = bind_control(&host.control_sockets, poll.registry());
        Ok(EventLoop {
            poll,
            host,
            signals,
            timers: Timers::default(),
            pipes: Default::default(),
            control,
            control_ready: Vec::new(),
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
                if let Some(server) = &mut self.control {
                    server.close(self.poll.registry());
                }
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
            if let Some(server) = &self.control {
                self.control_ready.extend(
                    events
                        .iter()
                        .map(|event| event.token())
                        .filter(|token| server.owns(*token)),
                );
            }
        }
    }

    /// One wake-up's inputs, in order: queued signals, every reaped child, due timers.
    fn collect(&mut self, signals_ready: bool, now: Instant) {
        self.collect_requests();
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

    /// Control requests that arrived; `events` is answered here from the event log, every
    /// other request goes to the core.
    fn collect_requests(&mut self) {
        let Some(server) = &mut self.control else {
            return;
        };
        let mut requests = Vec::new();
        for token in self.control_ready.drain(..) {
            requests.extend(server.handle(token, self.poll.registry()));
        }
        for (client, request) in requests {
            match request {
                Request::Events { follow } => self.serve_events(client, follow),
                request => self.queue.push_back(Event::Control {
                    client: client.to_raw(),
                    request,
                }),
            }
        }
    }

    fn serve_events(&mut self, client: ClientId, follow: bool) {
        let Some(server) = &mut self.control else {
            return;
        };
        let history = self
            .host
            .event_log
            .as_ref()
            .map(EventLog::history)
            .unwrap_or_default();
        let mut budget = HISTORY_BYTES;
        let newest: Vec<Reply> = history
            .into_iter()
            .rev()
            .map(Reply::Event)
            .take_while(|reply| {
                let size = format_reply(reply).len();
                budget = budget.saturating_sub(size);
                budget > 0
            })
            .collect();
        for reply in newest.iter().rev() {
            server.reply(client, reply, self.poll.registry());
        }
        server.reply(client, &Reply::EndOfHistory, self.poll.registry());
        if follow {
            server.follow(client);
        }
    }

    /// A transition: stamped with the wall clock, appended to the event log, streamed.
    fn record(&mut self, transition: Transition) {
        let record = EventRecord {
            time: format_rfc3339(SystemTime::now()),
            service: transition.service,
            from: transition.from.to_string(),
            to: transition.to.to_string(),
            reason: transition.reason,
            exit: transition.exit.map(|status| status.to_string()),
            restarts: transition.restarts,
            next_attempt_ms: transition
                .next_attempt
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        };
        if let Some(log) = &mut self.host.event_log {
            log.append(&record);
        }
        if let Some(server) = &mut self.control {
            server.broadcast(&Reply::Event(record), self.poll.registry());
        }
    }

    /// Feeds queued events to the core; actions may queue more events (spawn results, group
    /// checks).
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
                let event = match spawn::spawn(&spec, self.signals.child_signals(), &mut self.pipes)
                {
                    Ok(started) => Event::Spawned {
                        token,
                        pid: started.pid,
                    },
                    Err(error) => Event::SpawnFailed { token, error },
                };
                self.queue.push_back(event);
            }
            Action::Signal { target, signal } => process::send_signal(target, signal),
            Action::CheckGroup {
                token,
                pgid,
                signal,
            } => {
                let members = process::check_group(pgid, signal);
                self.queue.push_back(Event::GroupChecked {
                    token,
                    pgid,
                    members,
                });
            }
            // Performed by the probe, notify and heartbeat sources (being wired).
            Action::StartProbe { .. }
            | Action::CancelProbe { .. }
            | Action::CheckHeartbeat { .. } => {}
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
                if let Some(server) = &mut self.control {
                    server.reply(ClientId::from_raw(client), &reply, self.poll.registry());
                }
            }
            Action::Record(transition) => self.record(transition),
            Action::SaveState(records) => {
                if let Some(store) = &mut self.host.state_file {
                    store.save(&records);
                }
            }
        }
    }
}
