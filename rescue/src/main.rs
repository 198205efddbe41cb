//! `phoenix-rescue`: the emergency supervisor Phoenix hands over to when it cannot carry
//! on (DESIGN.md §9), built on the standard library alone. Arguments → `diagnose` (print
//! the report, exit 0 or 1) or `run` (report, then supervise until SIGTERM). As PID 1 it
//! must never die: a usage error is logged and skipped, and a panic in the loop falls
//! through to `last_resort`, which still reaps.

#[macro_use]
mod log;
mod cli;
mod last_resort;
mod procfs;
mod report;
mod run;
mod services;
mod spawn;
mod supervisor;
mod sys;
mod toml;
mod unit;

use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};

use cli::Request;

/// A command line it cannot use, where exiting harms nobody (not PID 1).
const USAGE_EXIT: i32 = 2;

fn main() {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    // Inside a container /proc/cmdline is the host's, not ours.
    let kernel = match std::env::var_os("container") {
        Some(_) => None,
        None => std::fs::read_to_string("/proc/cmdline").ok(),
    };
    let services_env = std::env::var("PHOENIX_SERVICES").ok();
    let parsed = cli::parse(&args, services_env, kernel.as_deref());
    let mut stdout = std::io::stdout().lock();
    let options = match parsed.request {
        Request::Help => return drop(write!(stdout, "{}", cli::HELP)),
        Request::Version => {
            return drop(writeln!(
                stdout,
                "phoenix-rescue {}",
                env!("CARGO_PKG_VERSION")
            ));
        }
        Request::Run(options) => options,
    };
    for error in &parsed.errors {
        say!("{error}");
    }
    let is_pid1 = std::process::id() == 1;
    if !parsed.errors.is_empty() {
        if !is_pid1 {
            std::process::exit(USAGE_EXIT);
        }
        say!("PID 1 carries on without the argument(s) above");
    }
    if options.is_diagnose {
        let services = services::read_services(&options.services);
        let report = report::diagnose(&options, &services);
        for line in &report.lines {
            let _ = writeln!(stdout, "{line}");
        }
        let _ = stdout.flush();
        std::process::exit(i32::from(report.problems > 0));
    }
    drop(stdout);
    std::panic::set_hook(Box::new(|info| say!("internal error: {info}")));
    let _ = catch_unwind(AssertUnwindSafe(|| -> () { run::run(&options) }));
    last_resort::reap_forever()
}
