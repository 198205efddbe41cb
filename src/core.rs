//! The vocabulary between the event loop (the shell) and a pure core: every input becomes
//! an [`Event`], every decision leaves as an [`Action`]. A core is a deterministic function
//! of its state, the event and the time it is given; it never performs I/O or reads a clock.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::control::protocol::{Reply, Request};
use crate::exit_status::ExitStatus;
use crate::health::ProbeOutcome;
use crate::notify::NotifyMessage;
use crate::probe_target::ProbeTarget;
use crate::process_spec::ProcessSpec;
use crate::recovery::Incident;
use crate::service::Transition;
use crate::service::record::ServiceRecord;
use crate::unit::{LoadReport, Signal, Unit};

/// A process id as the kernel gives it (always positive here).
pub type Pid = i32;

/// Names a timer a core armed, so it can tell its timers apart when they fire.
pub type TimerId = u64;

/// Names a control-socket client, so a reply finds its way back.
pub type ClientId = u64;

/// Names a spawn request, so its result can be matched to the service that asked.
pub type SpawnToken = u64;

/// Names the service a probe or heartbeat check is for (its index).
pub type ProbeId = u64;

/// Names a process-group check, so its answer finds the service that asked.
pub type CheckToken = u64;

/// Why a spawn did not produce a running program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpawnError {
    /// The process that was forked and then failed to exec, already on its way to exit.
    pub pid: Option<Pid>,
    /// The `errno` of the failing step.
    pub errno: i32,
    /// Human-readable: "exec /usr/bin/web: No such file or directory".
    pub message: String,
}

impl SpawnError {
    /// The exit code a shell uses for this failure: 127 not found, 126 anything else.
    pub fn exit_code(&self) -> u8 {
        if self.errno == ENOENT {
            crate::exit_status::NOT_FOUND
        } else {
            crate::exit_status::NOT_EXECUTABLE
        }
    }
}

/// Linux's ENOENT; the shell maps errno values, the core only needs this one.
pub const ENOENT: i32 = 2;

#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A signal arrived for Phoenix. `from_self` marks ones Phoenix raised itself (SIGPIPE
    /// from a write to a closed pipe), which are never forwarded.
    Signal {
        signal: Signal,
        from_self: bool,
    },
    /// A spawned program is running (its exec succeeded).
    Spawned {
        token: SpawnToken,
        pid: Pid,
    },
    SpawnFailed {
        token: SpawnToken,
        error: SpawnError,
    },
    /// A child was reaped.
    Exited {
        pid: Pid,
        status: ExitStatus,
    },
    /// Sent after every drain of `waitpid`: whether any child is left.
    Drained {
        children_remain: bool,
    },
    /// The answer to `Action::CheckGroup`: how many processes the group still holds
    /// (zombies not yet reaped included); 0 when it is empty.
    GroupChecked {
        token: CheckToken,
        pgid: Pid,
        members: usize,
    },
    TimerFired {
        timer: TimerId,
    },
    /// Messages from the program started by the spawn `token`: datagrams on its
    /// `NOTIFY_SOCKET` from one of its processes, or `Ready` for a line on its readiness
    /// descriptor.
    Notified {
        token: SpawnToken,
        messages: Vec<NotifyMessage>,
    },
    /// A tcp or http probe (`Action::StartProbe`) ended.
    ProbeFinished {
        probe: ProbeId,
        outcome: ProbeOutcome,
    },
    /// The answer to `Action::CheckHeartbeat`: how long ago the file was last modified,
    /// or why that could not be told.
    HeartbeatChecked {
        probe: ProbeId,
        age: Result<Duration, String>,
    },
    /// The answer to `Action::RestoreFiles`: how many files were put back, or why the
    /// step could not be done (nothing kept, a file unreadable or unwritable).
    FilesRestored {
        probe: ProbeId,
        result: Result<usize, String>,
    },
    /// The answer to `Action::CheckDisk`: the percent of the filesystem used, or why
    /// `statvfs` could not tell.
    DiskChecked {
        disk: usize,
        used_percent: Result<f64, String>,
    },
    /// The services directory was read again (after `Action::LoadUnits`).
    UnitsLoaded(Box<LoadReport>),
    /// A request from the control socket.
    Control {
        client: ClientId,
        request: Request,
    },
    /// A well-formed `GET` on the HTTP endpoint (`[http] listen`), its path without the
    /// query; the shell answers malformed requests, other methods and oversized ones
    /// itself.
    HttpRequest {
        client: ClientId,
        path: String,
    },
    /// An alert (`Action::SendAlert`) was delivered, or given up on.
    AlertDelivered {
        ok: bool,
    },
    /// A captured service's output outran its console buffer or its file: this many
    /// lines were dropped since the last such event (DESIGN.md §4.6).
    LogLinesDropped {
        service: String,
        dropped: u64,
    },
    /// The last lines a captured service wrote, read to the end of its pipes once its
    /// program was reaped; sent just before that program's `Exited`, for the death tally.
    LastLines {
        service: String,
        lines: Vec<String>,
    },
}

/// Who a signal goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Process(Pid),
    /// The process group led by this pid.
    Group(Pid),
    /// Everything Phoenix may end: the whole namespace as PID 1, its descendants otherwise.
    Everything,
    /// Everything but the members of the process group led by this pid (they already
    /// received the signal).
    EverythingOutside(Pid),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Spawn {
        token: SpawnToken,
        spec: ProcessSpec,
    },
    Signal {
        target: Target,
        signal: Signal,
    },
    /// Count the members of a process group and, with `signal`, send it that signal
    /// (and SIGCONT after any signal but SIGKILL); the count comes back as
    /// `GroupChecked`. An empty group costs the shell one `kill(2)`.
    CheckGroup {
        token: CheckToken,
        pgid: Pid,
        signal: Option<Signal>,
    },
    /// Connect to `target` (and, for http, GET it) without blocking; the outcome comes
    /// back as `ProbeFinished`. A second probe with the same id replaces the first.
    StartProbe {
        probe: ProbeId,
        target: ProbeTarget,
        timeout: Duration,
    },
    /// Forget an in-flight probe: no `ProbeFinished` will come for it.
    CancelProbe {
        probe: ProbeId,
    },
    /// Tell the age of a heartbeat file's mtime, as `HeartbeatChecked`.
    CheckHeartbeat {
        probe: ProbeId,
        path: PathBuf,
    },
    /// Tell how full the filesystem holding `path` is (`statvfs`), as `DiskChecked`.
    CheckDisk {
        disk: usize,
        path: PathBuf,
    },
    ArmTimer {
        timer: TimerId,
        deadline: Instant,
    },
    CancelTimer {
        timer: TimerId,
    },
    /// Read the services directory again; the result comes back as `UnitsLoaded`.
    LoadUnits,
    /// Answer a control-socket client.
    Reply {
        client: ClientId,
        reply: Reply,
    },
    /// A service changed state: log it, stream it, keep it in the event log.
    Record(Transition),
    /// Persist restart counts, tallies and circuits (they survive a Phoenix restart).
    SaveState(Vec<ServiceRecord>),
    /// An incident opened or changed: append it to `incidents.jsonl`, stream it.
    RecordIncident(Box<Incident>),
    /// The service was verified good running `unit`: keep the definition and a snapshot of
    /// `files` (its `rollback-files`) in the state directory as its last-known-good.
    SaveKnownGood {
        unit: Box<Unit>,
        files: Vec<PathBuf>,
    },
    /// Put back the last snapshot of `files` kept for `service`, each by atomic rename;
    /// the outcome comes back as `FilesRestored`.
    RestoreFiles {
        probe: ProbeId,
        service: String,
        files: Vec<PathBuf>,
    },
    /// End Phoenix with this status (PID 1's exit ends the namespace).
    Exit {
        code: u8,
    },
    /// End a machine's run with the final sequence of DESIGN.md §10 and this `reboot(2)`
    /// (bare metal only: in a container the core ends with `Exit`).
    Power(crate::power::PowerAction),
    /// Hand over to `phoenix-rescue` now, the services left running for it to adopt
    /// (`on-critical-failure = "rescue"`).
    Rescue {
        reason: String,
    },
    /// A program carried on from a re-exec: watch it as if the shell had just spawned it
    /// (its notify socket bound again, its s6 directory claimed).
    AdoptProgram {
        token: SpawnToken,
        name: String,
        pid: Pid,
        notify_socket: bool,
        s6_service_dir: Option<PathBuf>,
        /// Where its output goes: a captured one is read again from the kept pipes.
        output: crate::process_spec::Output,
    },
    /// Re-execute Phoenix now, handing the core's state over (`phoenixctl reexec`).
    Reexec {
        reason: String,
    },
    /// Answer an HTTP client (`Event::HttpRequest`).
    HttpReply {
        client: ClientId,
        status: u16,
        content_type: String,
        body: String,
    },
    /// Tell the service manager above Phoenix (its own `NOTIFY_SOCKET`, when it has one):
    /// `READY=1`, `STATUS=…`, `STOPPING=1`. `WATCHDOG=1` is the shell's own.
    NotifyManager {
        message: String,
    },
    /// Deliver an alert over the `[alerts]` channels; each delivery's end comes back as
    /// `AlertDelivered`.
    SendAlert(Box<crate::alerts::Alert>),
    /// Tell the receivers that keep alert state (a webhook with `format = "alertmanager"`)
    /// that these alerts are over; a delivery's end comes back as `AlertDelivered`.
    ResolveAlerts(Vec<crate::alerts::Firing>),
    /// Persist the alert bookkeeping (`<state-dir>/alerts.json`).
    SaveAlerts(Box<crate::alerts::AlertsState>),
}

impl Action {
    /// Whether the action only records what happened (the event log, incidents, state and
    /// alert files, alert delivery): the shell may perform it after a step's other
    /// actions, so it never delays a spawn or a signal.
    pub fn is_bookkeeping(&self) -> bool {
        matches!(
            self,
            Action::Record(_)
                | Action::RecordIncident(_)
                | Action::SaveState(_)
                | Action::SaveAlerts(_)
                | Action::SendAlert(_)
                | Action::ResolveAlerts(_)
        )
    }
}

/// A pure decision function driven by the event loop.
pub trait Core {
    /// The first actions, before any event.
    fn start(&mut self, now: Instant) -> Vec<Action>;
    fn step(&mut self, event: Event, now: Instant) -> Vec<Action>;
    /// What a re-exec hands to the next image; `None`: this core cannot be carried over
    /// (tini mode), and a panic degrades instead.
    fn hand_off(&self, _now: Instant) -> Option<crate::supervisor::SupervisorHandoff> {
        None
    }
}
