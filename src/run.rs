//! From parsed options to a running Phoenix: process attributes first (subreaper,
//! parent-death signal), then the signal source, then the mode's core in the event loop.
//! Tini mode runs one command; services mode (a services directory, with or without a
//! command as the main service) runs the supervisor, set up in `run/services.rs`. `--check`
//! validates and exits.
//!
//! A services directory that does not exist or cannot be read is a usage error (exit 1,
//! nothing started), except for the machine's PID 1, whose exit would panic the kernel:
//! it logs the error and runs with no units, reaping, until a SIGHUP finds the directory.

mod services;

use std::path::Path;
use std::time::Duration;

use crate::cli::{Options, USAGE_EXIT};
use crate::config_file;
use crate::core::Core;
use crate::event_loop::{EventLoop, Host, LoopEnd};
use crate::init::{Init, InitConfig};
use crate::process_spec::{Placement, ProcessSpec};
use crate::reexec::{self, Rising};
use crate::supervisor::Supervisor;
use crate::sys::{degraded, process, signals::SignalSource};
use crate::unit::{Settings, load_dir};

/// Leftovers get this long between SIGTERM and SIGKILL unless `--grace` says otherwise.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);

/// Runs Phoenix; returns its exit code. Never returns on a broken loop: that degrades.
/// `options.services` is already resolved by [`crate::mode::choose`].
pub fn run(options: Options) -> u8 {
    let services = options.services.clone();
    if options.check {
        return check(&options, services.as_deref());
    }
    if let Some(problem) = services.as_deref().and_then(services_dir_problem) {
        if !process::is_machine_init() {
            eprintln!("phoenix: {problem}");
            return USAGE_EXIT;
        }
        log::error!("{problem}; running without units until a SIGHUP finds it");
    }
    set_process_attributes(&options);
    // Tini mode's command gets its parent's dispositions back (changed_by_phoenix), so only
    // services, which get every ignored signal reset, need each signal asked about.
    let signals = match SignalSource::install(services.is_some()) {
        Ok(signals) => signals,
        Err(error) => {
            log::error!("unable to take over signals: {error}");
            degraded::reap_forever()
        }
    };
    let mut rising = Rising::at_start();
    let mut kept_pipes = Vec::new();
    let (host, mut core): (Host, Box<dyn Core>) = match services {
        None => (Host::default(), Box::new(Init::new(init_config(&options)))),
        Some(dir) => {
            let config = config_file::load(
                options.config.as_deref(),
                &config_file::fallback_state_dirs(),
            );
            let (host, mut supervisor) = services::set_up(&options, config, dir);
            if let Some(fd) = options.resume {
                (rising.resumed_at, kept_pipes) = resume(&mut supervisor, fd);
            }
            rising.services_dir = host.services_dir.clone();
            rising.state_dir = host
                .state_file
                .as_ref()
                .and_then(|store| store.path().parent().map(Path::to_path_buf));
            rising.runtime_dir = host
                .control_sockets
                .first()
                .and_then(|socket| socket.parent().map(Path::to_path_buf));
            (host, Box::new(supervisor))
        }
    };
    let mut event_loop = match EventLoop::new(signals, host) {
        Ok(event_loop) => event_loop,
        Err(error) => {
            log::error!("unable to create the event loop: {error}");
            degraded::reap_forever()
        }
    };
    event_loop.adopt_logger_pipes(kept_pipes);
    let (reason, deliberate) = match event_loop.run(core.as_mut()) {
        // A machine's PID 1 cannot exit (the kernel would panic): it powers off.
        LoopEnd::Exit(_) if process::is_machine_init() => {
            end_machine(event_loop, crate::power::PowerAction::Poweroff)
        }
        LoopEnd::Exit(code) => {
            event_loop.disarm_watchdog();
            return code;
        }
        LoopEnd::Power(action) => end_machine(event_loop, action),
        LoopEnd::Rescue(reason) => {
            event_loop.disarm_watchdog();
            reexec::hand_to_rescue(core.as_ref(), &reason, &rising)
        }
        LoopEnd::Reexec(reason) => (reason, true),
        LoopEnd::Broken(reason) => (reason, false),
    };
    let pipes = event_loop.logger_pipes();
    reexec::rise(core.as_ref(), &reason, deliberate, &rising, pipes)
}

/// The final sequence, once the loop let go of every file it held (the state directory's
/// lock, the event log): a file open for writing keeps its filesystem from going
/// read-only.
fn end_machine(mut event_loop: EventLoop, action: crate::power::PowerAction) -> ! {
    event_loop.disarm_watchdog();
    drop(event_loop);
    crate::boot::final_sequence(action)
}

/// The handoff a re-exec left on `fd`: the supervisor carries on from it. A refused one
/// (malformed, truncated, another version) means a cold start; the children still running
/// are reaped as they exit. Returns when this image resumed.
fn resume(
    supervisor: &mut Supervisor,
    fd: std::os::fd::RawFd,
) -> (Option<std::time::Instant>, Vec<reexec::KeptPipe>) {
    match reexec::take_handoff(fd) {
        Ok(handoff) => {
            log::warn!(
                "resumed after a re-exec ({}): {} service(s) handed over {}ms ago",
                handoff.reason,
                handoff.core.services.len(),
                reexec::age(&handoff).as_millis()
            );
            supervisor.resume_from(handoff.core);
            (Some(std::time::Instant::now()), handoff.pipes)
        }
        Err(error) => {
            log::error!(
                "refusing the handoff on descriptor {fd}: {error}; starting cold, the children still running are reaped as they exit"
            );
            (None, Vec::new())
        }
    }
}

/// Why the services directory cannot be used, if it cannot: it does not exist, is not a
/// directory, or cannot be read.
fn services_dir_problem(dir: &Path) -> Option<String> {
    std::fs::read_dir(dir).err().map(|error| {
        format!(
            "services directory {}: {}",
            dir.display(),
            crate::sys::io_error_text(&error)
        )
    })
}

/// `--check`: every problem as `path:line:col: message` on stderr; 0 valid, 1 invalid.
fn check(options: &Options, services: Option<&Path>) -> u8 {
    let mut problems = 0;
    // Broken settings run with the defaults (or a last valid copy, which `--check` does not
    // judge), so the units are checked against the defaults.
    let settings = match config_file::read(options.config.as_deref()) {
        Ok(read) => read.map(|(settings, _)| settings).unwrap_or_default(),
        Err(message) => {
            eprintln!("{message}");
            problems += 1;
            Settings::default()
        }
    };
    match services {
        Some(dir) => match services_dir_problem(dir) {
            Some(problem) => {
                eprintln!("{problem}");
                problems += 1;
            }
            None => problems += check_units(dir, &settings, problems),
        },
        None if problems == 0 => println!("settings valid, no services directory"),
        None => {}
    }
    u8::from(problems > 0)
}

/// The units of `dir`, checked: their problems printed and counted (`earlier` problems
/// were found already, so "all valid" is not printed).
fn check_units(dir: &Path, settings: &Settings, earlier: usize) -> usize {
    let report = load_dir(dir, &settings.group_names());
    for error in &report.errors {
        eprintln!("{error}");
    }
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
    if earlier + report.errors.len() == 0 {
        println!(
            "{}: {} unit(s), all valid",
            dir.display(),
            report.units.len()
        );
    }
    report.errors.len()
}

fn init_config(options: &Options) -> InitConfig {
    let name = options.command.first().cloned().unwrap_or_default();
    let mut spec = ProcessSpec::command(&name, options.command.clone(), Placement::ForegroundGroup);
    spec.inherit_signals = true;
    InitConfig {
        spec,
        signal_group: options.signal_group,
        success_codes: options.success_codes.clone(),
        warn_on_reap: options.warn_on_reap,
        grace: options.grace.unwrap_or(DEFAULT_GRACE),
    }
}

fn set_process_attributes(options: &Options) {
    if let Some(signal) = options.parent_death_signal {
        if let Err(error) = process::set_parent_death_signal(signal) {
            log::warn!("unable to set the parent-death signal {signal}: {error}");
        }
    }
    if process::is_pid1() {
        crate::sys::spawn::protect_phoenix();
        return;
    }
    // Under a proxy that already made Phoenix a subreaper (the flag survives exec) there
    // is nothing to do and nothing to warn about.
    if process::is_child_subreaper() {
        return;
    }
    if !options.subreaper {
        log::warn!(
            "not running as PID 1: registering as a child subreaper so orphans are still reaped"
        );
    }
    if let Err(error) = process::set_child_subreaper() {
        log::warn!("unable to register as a child subreaper, orphans will not be reaped: {error}");
    }
}
