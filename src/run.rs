//! From parsed options to a running Phoenix: process attributes first (subreaper,
//! parent-death signal), then the signal source, then the mode's core in the event loop.

use std::time::Duration;

use crate::cli::Options;
use crate::event_loop::EventLoop;
use crate::init::{Init, InitConfig};
use crate::process_spec::{Placement, ProcessSpec};
use crate::sys::{degraded, process, signals::SignalSource};

/// Leftovers get this long between SIGTERM and SIGKILL unless `--grace` says otherwise.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);

/// Runs Phoenix; returns its exit code. Never returns on a broken loop: that degrades.
pub fn run(options: Options) -> u8 {
    set_process_attributes(&options);
    let signals = match SignalSource::install() {
        Ok(signals) => signals,
        Err(error) => {
            log::error!("unable to take over signals: {error}");
            degraded::reap_forever()
        }
    };
    let mut event_loop = match EventLoop::new(signals) {
        Ok(event_loop) => event_loop,
        Err(error) => {
            log::error!("unable to create the event loop: {error}");
            degraded::reap_forever()
        }
    };
    if options.services.is_some() || options.check {
        log::error!("services mode is not available in this build");
        return 2;
    }
    let mut core = Init::new(init_config(&options));
    match event_loop.run(&mut core) {
        Some(code) => code,
        None => degraded::reap_forever(),
    }
}

fn init_config(options: &Options) -> InitConfig {
    let name = options.command.first().cloned().unwrap_or_default();
    InitConfig {
        spec: ProcessSpec::command(&name, options.command.clone(), Placement::ForegroundGroup),
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
