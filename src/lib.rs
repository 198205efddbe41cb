//! Phoenix: a PID-1 init and process supervisor.
//!
//! # Theory of operation
//!
//! One thread, one loop. Every input — a signal, a child's exit, a timer — becomes an
//! [`core::Event`]; a pure core decides what to do and answers with [`core::Action`]s; only
//! the event loop and [`sys`] perform them. The core never reads the clock (time is passed
//! in) and never makes a system call, so every decision is a unit test. Signals are read
//! from a signalfd, zombies are reaped by draining `waitpid` on every wake-up, and the poll
//! timeout is the earliest deadline, so an idle Phoenix makes no system calls at all.
//! What outlives a run is the shell's to write, in the state directory: restart records
//! ([`state_file`]), the event and incident histories (one [`json_lines`] file type, used by
//! [`control::event_log`] and [`incident_log`]) and last-known-good snapshots
//! ([`known_good`]), each degrading to memory with one warning when the disk fails. The
//! directory belongs to one Phoenix at a time ([`state_dir`]); a file found corrupt at
//! start is moved aside ([`corrupt_file`]); a record applies only to the unit definition
//! and services directory it was kept for ([`service::record`]); the last valid
//! `phoenix.toml` is kept there too, for a start whose file is broken ([`config_file`]).
//! The read-only HTTP endpoint ([`http`], `[http] listen`) is one more input source: a
//! well-formed `GET` becomes an event and the core's answer an action, like a control
//! request.
//!
//! As a machine's PID 1 (not a container's) Phoenix first makes its system ([`boot`]:
//! mounts, console, hostname, the kernel command line) and ends it with the final
//! sequence and a [`power`] action instead of an exit.
//!
//! Dependencies point inward: `main → run → event_loop → {init, sys} → core → unit`.
//! `unit`, `core`, `init` and `cli` import neither `nix`, `libc`, `mio` nor
//! `std::process`.

pub mod alert_state;
pub mod alerts;
pub mod atomic_file;
pub mod boot;
pub mod cli;
pub mod clocks;
pub mod config_file;
pub mod control;
pub mod core;
pub mod corrupt_file;
pub mod disk_check;
pub mod envfile;
pub mod event_loop;
pub mod exit_status;
pub mod fault;
pub mod health;
pub mod http;
pub mod incident_log;
pub mod init;
pub mod json_lines;
pub mod known_good;
pub mod logging;
pub mod metrics;
pub mod mode;
pub mod notify;
pub mod output;
pub mod power;
pub mod probe_target;
pub mod probes;
pub mod process_spec;
pub mod recovery;
pub mod reexec;
pub mod reference;
pub mod run;
pub mod service;
pub mod shutdown;
pub mod state_dir;
pub mod state_file;
pub mod supervisor;
pub mod sys;
pub mod timers;
pub mod token_slots;
pub mod unit;

#[cfg(test)]
#[path = "tests/architecture.rs"]
mod architecture_tests;

#[cfg(test)]
#[path = "tests/notify_sender.rs"]
pub(crate) mod notify_sender;

/// A clock for tests of the pure core, which may not read one itself.
#[cfg(test)]
pub(crate) mod testing {
    pub fn now() -> std::time::Instant {
        std::time::Instant::now()
    }
}
