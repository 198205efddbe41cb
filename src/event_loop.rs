//! The shell around a pure core: wait for something to happen, turn it into events, perform
//! the actions that come back.
//!
//! Error policy — PID 1 must not die:
//! - A failed action never returns early: a spawn that fails becomes `SpawnFailed`, a kill
//!   of a vanished process is ignored, anything else is logged and the loop goes on.
//! - A poll that keeps failing is the one thing the loop cannot work around; after many
//!   consecutive failures the loop ends as broken, and the caller re-executes Phoenix with
//!   the core's state (`reexec.rs`).
//! - A panic in a core step or an action is caught here, with the core still in memory:
//!   the loop ends as broken too. A panic anywhere else (caught in `main`) ends in the
//!   degraded loop, never in an exit.
//!
//! Rhythm of one wake-up: serve every descriptor that became ready (control clients,
//! probes, notify sockets, readiness pipes, HTTP clients, each by its token's owner), read
//! every queued signal, drain `waitpid` until nothing is left (SIGCHLDs merge), fire due
//! timers, expire overdue probes and HTTP connections, ping the service manager's watchdog
//! and pet the hardware one when due (`manager.rs`, `hardware_watchdog.rs`); the poll
//! timeout is the earliest timer, probe, connection or watchdog deadline, or none. The core relies on that order — control requests,
//! notifications, signals and exits ahead of the drain's `Drained`, timers after it — and
//! on answers to its actions (spawns, group checks, heartbeats) being queued behind
//! whatever already waits. Notify sockets must be read before the drain: a sender is
//! checked against `/proc`, where a process Phoenix reaps (an orphan) is gone.
//!
//! Tokens, one range per source: signals 0; the control listener 1 and its clients
//! 2 ..= 1 + `MAX_CLIENTS`; probes from 65536, notify sockets from 131072, readiness
//! pipes from 196608, each range 4096 (probes) or 65536 wide; the HTTP listener 262144 and
//! its `max-connections` clients (at most 65535) after it; 327680 is kept for webhooks
//! (256 tokens); captured output from 393216: the console's two outputs, then two pipes a
//! service. A source that used up its
//! budget in a wake-up is served again in the next round, which then does not wait.

mod alerting;
mod hardware_watchdog;
mod host;
pub use host::Host;
mod control_retry;
mod dispatching;
mod http;
mod logs;
mod manager;
mod notify_sockets;
mod probing;
mod readiness;
mod records;
mod recovery;
mod requests;
mod rising;
mod webhooks;
pub use rising::LoopEnd;
use rising::panic_text;
pub mod scrape;
mod spawning;

use std::collections::VecDeque;
use std::io::ErrorKind;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant, SystemTime};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use crate::control::server::{ClientId, ControlServer, MAX_CLIENTS};
use crate::core::{Action, Core, Event};
use crate::sys::notify_socket::Reading;
use crate::sys::signals::SignalSource;
use crate::sys::{heartbeat, process, reap};
use crate::timers::Timers;
use notify_sockets::NotifySockets;
use probing::ProbeSource;
use readiness::ReadinessPipes;

const SIGNALS: Token = Token(0);
/// The control server's listener; its clients take the `MAX_CLIENTS` tokens after it.
const CONTROL: usize = 1;
/// Tcp and http probes in flight: `PROBES .. PROBES + MAX_PROBES`.
const PROBES: usize = 1 << 16;
const MAX_PROBES: usize = 4096;
/// Notify sockets, one per service: `NOTIFY .. NOTIFY + MAX_SERVICES`.
const NOTIFY: usize = 2 << 16;
/// Readiness pipes, one per service: `READINESS .. READINESS + MAX_SERVICES`.
const READINESS: usize = 3 << 16;
const MAX_SERVICES: usize = 1 << 16;
/// The HTTP listener; its clients take the `max-connections` tokens after it.
const HTTP: usize = 4 << 16;
/// Webhook deliveries in flight: `WEBHOOKS .. WEBHOOKS + MAX_WEBHOOKS`.
const WEBHOOKS: usize = 5 << 16;
const MAX_WEBHOOKS: usize = 64;
/// Captured output: the console's stdout and stderr, then each service's two pipes.
const LOGS: usize = 6 << 16;

// The ranges must not overlap: the owner of a token is found by its range.
const _: () = assert!(CONTROL + MAX_CLIENTS < PROBES);
const _: () = assert!(PROBES + MAX_PROBES <= NOTIFY);
const _: () = assert!(NOTIFY + MAX_SERVICES <= READINESS);
const _: () = assert!(READINESS + MAX_SERVICES <= HTTP);
const _: () =
    assert!(HTTP + 1 + (crate::unit::settings::MAX_HTTP_CONNECTIONS as usize) <= WEBHOOKS);
const _: () = assert!(WEBHOOKS + MAX_WEBHOOKS <= LOGS);
const _: () = assert!(LOGS + 2 + 2 * MAX_SERVICES < usize::MAX);

/// Where notify sockets live, inside the runtime directory (the control socket's).
const NOTIFY_DIRECTORY: &str = "notify";

/// An `events` request gets at most this much history, so the reply fits the server's
/// per-client output bound and a long history never disconnects the client.
const HISTORY_BYTES: usize = 512 * 1024;

/// Consecutive poll failures tolerated before giving up on the loop.
const MAX_POLL_FAILURES: u32 = 100;

pub struct EventLoop {
    poll: Poll,
    host: Host,
    signals: SignalSource,
    timers: Timers,
    pipes: crate::sys::pipes::LoggerPipes,
    control: Option<ControlServer>,
    http: Option<crate::http::HttpServer>,
    probes: ProbeSource,
    notify: NotifySockets,
    readiness: ReadinessPipes,
    s6: crate::sys::s6_supervise::S6Supervise,
    /// Tokens to serve in the next round: those poll reported, and those whose source
    /// used up its budget (served again without waiting: readiness is edge-triggered).
    ready: Vec<Token>,
    queue: VecDeque<Event>,
    exit_code: Option<u8>,
    /// `phoenixctl reexec` asked for a re-exec, for this reason.
    reexec: Option<String>,
    /// The service manager above Phoenix, when it runs under one.
    manager: Option<manager::Manager>,
    /// Running `[alerts] exec` hooks.
    alert_hooks: alerting::AlertHooks,
    /// Captured service output.
    logs: logs::Captures,
    /// `[hardware-watchdog]`, when its device could be opened.
    hardware_watchdog: Option<hardware_watchdog::HardwareWatchdog>,
    /// The core asked for a power action or the rescue binary: how `run` ends.
    finish: Option<LoopEnd>,
}

impl EventLoop {
    pub fn new(signals: SignalSource, mut host: Host) -> std::io::Result<EventLoop> {
        let poll = Poll::new()?;
        let fd = signals.raw_fd();
        poll.registry()
            .register(&mut SourceFd(&fd), SIGNALS, Interest::READABLE)?;
        let control = requests::bind_control(&host.control_sockets, poll.registry());
        // The runtime directory is wherever the control socket could be made.
        let notify_directory = control
            .as_ref()
            .and_then(|server| server.path().parent())
            .map(|runtime| runtime.join(NOTIFY_DIRECTORY));
        let manager = host
            .service_manager
            .take()
            .map(|(socket, watchdog)| manager::Manager::new(socket, watchdog, Instant::now()));
        let http = http::bind_http(host.http.as_ref(), poll.registry(), HTTP);
        let alert_hooks = alerting::AlertHooks::new(host.alerts.clone(), WEBHOOKS, MAX_WEBHOOKS);
        let hardware_watchdog = hardware_watchdog::open(host.hardware_watchdog.as_ref());
        Ok(EventLoop {
            http,
            poll,
            host,
            signals,
            timers: Timers::default(),
            pipes: Default::default(),
            control,
            probes: ProbeSource::new(PROBES, MAX_PROBES),
            notify: NotifySockets::new(notify_directory, NOTIFY, MAX_SERVICES),
            readiness: ReadinessPipes::new(READINESS, MAX_SERVICES),
            s6: Default::default(),
            ready: Vec::new(),
            queue: VecDeque::new(),
            exit_code: None,
            reexec: None,
            manager,
            alert_hooks,
            logs: logs::Captures::new(LOGS, MAX_SERVICES),
            hardware_watchdog,
            finish: None,
        })
    }

    /// Runs `core` until it asks to exit, to be re-executed, or the loop breaks down.
    pub fn run(&mut self, core: &mut dyn Core) -> LoopEnd {
        let started = catch_unwind(AssertUnwindSafe(|| {
            let actions = core.start(Instant::now());
            self.perform_all(actions);
        }));
        if let Err(payload) = started {
            return LoopEnd::Broken(panic_text(payload.as_ref()));
        }
        let mut events = Events::with_capacity(64);
        let mut failures = 0;
        // The first round runs without waiting: a spawn that failed before forking has no
        // child whose exit would wake us.
        let mut signals_ready = true;
        loop {
            self.collect(signals_ready, Instant::now());
            if let Err(reason) = self.dispatch(core, Instant::now()) {
                return LoopEnd::Broken(reason);
            }
            if let Some(reason) = self.reexec.take() {
                return LoopEnd::Reexec(reason);
            }
            if let Some(end) = self.exit_code.map(LoopEnd::Exit).or(self.finish.take()) {
                if let Some(server) = &mut self.control {
                    server.close(self.poll.registry());
                }
                return end;
            }
            if let Err(error) = self.poll.poll(&mut events, self.poll_timeout()) {
                if error.kind() != ErrorKind::Interrupted {
                    failures += 1;
                    log::error!("poll: {error}");
                    if failures >= MAX_POLL_FAILURES {
                        return LoopEnd::Broken(format!("poll failed {failures} times: {error}"));
                    }
                }
                signals_ready = false;
                continue;
            }
            failures = 0;
            log::trace!("wake-up: {} event(s)", events.iter().count());
            signals_ready = events.iter().any(|event| event.token() == SIGNALS);
            self.ready.extend(
                events
                    .iter()
                    .map(|event| event.token())
                    .filter(|token| *token != SIGNALS),
            );
        }
    }

    /// No wait while a source waits to be served again; else until the earliest deadline.
    fn poll_timeout(&self) -> Option<Duration> {
        if !self.ready.is_empty() {
            return Some(Duration::ZERO);
        }
        let watchdog = self
            .manager
            .as_ref()
            .and_then(manager::Manager::next_deadline);
        let http = self
            .http
            .as_ref()
            .and_then(crate::http::HttpServer::next_deadline);
        [
            self.timers.next_deadline(),
            self.probes.next_deadline(),
            watchdog,
            http,
            self.alert_hooks.next_deadline(),
            self.watchdog_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
        .map(|deadline| deadline.saturating_duration_since(Instant::now()))
    }

    /// One wake-up's inputs, in order: ready descriptors, queued signals, every reaped
    /// child, due timers, overdue probes, then the watchdog ping when due.
    fn collect(&mut self, signals_ready: bool, now: Instant) {
        self.serve_ready(now);
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
        self.queue_exits(reaped);
        self.queue.push_back(Event::Drained { children_remain });
        self.alert_hooks
            .expire(now, self.poll.registry(), &mut self.queue);
        for timer in self.timers.take_due(now) {
            self.queue.push_back(Event::TimerFired { timer });
        }
        self.probes
            .expire(now, self.poll.registry(), &mut self.queue);
        if let Some(manager) = &mut self.manager {
            manager.ping_if_due(now);
        }
        self.pet_watchdog(now);
        if let Some(server) = &mut self.http {
            server.expire(now, self.poll.registry());
        }
    }

    /// Every token that is ready, by its owner, in token order (control clients first).
    fn serve_ready(&mut self, now: Instant) {
        let mut ready = std::mem::take(&mut self.ready);
        ready.sort_unstable();
        ready.dedup();
        for token in ready {
            let registry = self.poll.registry();
            let reading = if self.control.as_ref().is_some_and(|s| s.owns(token)) {
                self.serve_control(token);
                Reading::Drained
            } else if self.probes.owns(token) {
                self.probes.handle(token, now, registry, &mut self.queue);
                Reading::Drained
            } else if self.notify.owns(token) {
                self.notify.handle(token, &mut self.queue)
            } else if self.readiness.owns(token) {
                self.readiness.handle(token, registry, &mut self.queue)
            } else if self.http.as_ref().is_some_and(|s| s.owns(token)) {
                self.serve_http(token, now)
            } else if self.alert_hooks.owns(token) {
                self.alert_hooks
                    .handle(token, now, registry, &mut self.queue);
                Reading::Drained
            } else if self.logs.owns(token) {
                let server = self.control.as_mut();
                self.logs.handle(token, SystemTime::now(), server, registry)
            } else {
                Reading::Drained
            };
            if reading == Reading::BudgetSpent {
                self.ready.push(token);
            }
        }
    }

    fn perform(&mut self, action: Action) {
        match action {
            Action::Spawn { token, spec } => self.spawn(token, spec),
            Action::SendAlert(alert) => self.send_alert(&alert),
            Action::ResolveAlerts(firing) => self.resolve_alerts(&firing),
            Action::SaveAlerts(state) => {
                if let Some(store) = &mut self.host.alert_state {
                    store.save(&state);
                }
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
            Action::StartProbe {
                probe,
                target,
                timeout,
            } => {
                let registry = self.poll.registry();
                self.probes
                    .start(probe, &target, timeout, registry, &mut self.queue);
            }
            Action::CancelProbe { probe } => {
                self.probes
                    .cancel(probe, self.poll.registry(), &mut self.queue);
            }
            Action::CheckHeartbeat { probe, path } => {
                let age = heartbeat::file_age(&path, SystemTime::now());
                self.queue.push_back(Event::HeartbeatChecked { probe, age });
            }
            Action::CheckDisk { disk, path } => {
                let used_percent = crate::sys::disk_usage::used_percent(&path);
                self.queue
                    .push_back(Event::DiskChecked { disk, used_percent });
            }
            Action::ArmTimer { timer, deadline } => self.timers.arm(timer, deadline),
            Action::CancelTimer { timer } => self.timers.cancel(timer),
            Action::Exit { code } => self.exit_code = Some(code),
            Action::Power(action) => self.finish = Some(LoopEnd::Power(action)),
            Action::Rescue { reason } => self.finish = Some(LoopEnd::Rescue(reason)),
            Action::Reexec { reason } => self.reexec = Some(reason),
            Action::NotifyManager { message } => {
                if let Some(manager) = &mut self.manager {
                    manager.notify(&message);
                }
            }
            Action::HttpReply {
                client,
                status,
                content_type,
                body,
            } => {
                let mut body = body;
                // A `/metrics` reply gets Phoenix's own process_* series, read here.
                scrape::complete_reply(&content_type, &mut body);
                self.reply_http(client, status, &content_type, &body);
            }
            Action::AdoptProgram {
                token,
                name,
                pid,
                notify_socket,
                s6_service_dir,
                output,
            } => {
                self.adopt_output(&name, pid, &output);
                self.adopt(token, &name, pid, notify_socket, s6_service_dir.as_deref());
            }
            Action::LoadUnits => {
                crate::sys::spawn::forget_programs();
                self.retry_control_socket();
                if let Some(dir) = &self.host.services_dir {
                    let report = crate::unit::load_dir(dir, &self.host.supervision_groups);
                    for warning in &report.warnings {
                        log::warn!("{warning}");
                    }
                    self.note_services(&report);
                    self.queue.push_back(Event::UnitsLoaded(Box::new(report)));
                }
            }
            Action::Reply { client, reply } => {
                if let Some(server) = &mut self.control {
                    server.reply(ClientId::from_raw(client), &reply, self.poll.registry());
                }
            }
            Action::Record(transition) => self.record(transition),
            Action::RecordIncident(incident) => self.record_incident(&incident),
            Action::SaveKnownGood { unit, files } => self.save_known_good(&unit, &files),
            Action::RestoreFiles {
                probe,
                service,
                files,
            } => self.restore_files(probe, &service, &files),
            Action::SaveState(records) => {
                if let Some(store) = &mut self.host.state_file {
                    store.save(&records);
                }
            }
        }
    }
}
