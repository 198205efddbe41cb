//! `phoenix`: parse the command line, choose the mode, start logging, run; a panic
//! degrades, never exits.
//!
//! The entry point is C's `main`, not Rust's: std's start-up before `main` costs a dozen
//! system calls on every start that PID 1 has no use for; `sys::start` keeps what it did
//! that Phoenix needs. The arguments still come through `std::env::args` (std reads them
//! from glibc's start-up on Linux).

#![no_main]

use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};

use phoenix::boot::{self, cmdline::RescueBoot};
use phoenix::cli::{self, Request, USAGE_EXIT};
use phoenix::mode::{self, Mode};
use phoenix::{logging, reexec, run, sys, unit};

/// C's `main`.
#[unsafe(no_mangle)]
extern "C" fn main(_argc: libc::c_int, _argv: *const *const libc::c_char) -> libc::c_int {
    sys::start::prepare_process();
    phoenix();
    // Only --help and --version return: what they printed is still to be flushed.
    let _ = std::io::stdout().flush();
    0
}

fn phoenix() {
    let machine = sys::process::is_machine_init();
    // A machine's PID 1 makes its own system first (DESIGN.md §10); a container's has one.
    let mut stage_one = machine.then(boot::stage_one);
    let args: Vec<String> = std::env::args().skip(1).collect();
    let env = |name: &str| {
        let from_kernel = stage_one.as_ref().and_then(|stage| stage.environment(name));
        from_kernel.or_else(|| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned()))
    };
    let mut options = match cli::parse(&args, &env) {
        Ok(Request::Run(options)) => options,
        Ok(Request::Help) => return print!("{}", cli::HELP),
        Ok(Request::Version) => return println!("phoenix {}", env!("CARGO_PKG_VERSION")),
        Err(error) => {
            eprintln!("phoenix: {error}");
            std::process::exit(i32::from(USAGE_EXIT));
        }
    };
    let chosen = mode::choose(&options, &unit::holds_units);
    options.services = match &chosen {
        Ok(Mode::Services(dir)) => Some(dir.clone()),
        _ => None,
    };
    // Services mode logs every transition (info); tini mode is quiet like tini.
    let services = options.services.is_some() && !options.check;
    let verbosity = options.verbosity.saturating_add(u8::from(services));
    match &mut stage_one {
        Some(stage) => logging::init_machine(verbosity, stage.options.log, stage.kmsg.take()),
        None => logging::init(verbosity),
    }
    for warning in &options.warnings {
        log::warn!("{warning}");
    }
    if let Some(stage) = &stage_one {
        stage.tell();
        if let Some(rescue) = stage.options.rescue {
            reexec::boot_into_rescue(options.services.as_deref(), rescue == RescueBoot::Shell)
        }
    }
    if let Err(nothing) = chosen {
        // As a machine's PID 1 an exit would panic the kernel: stay, reap, wait.
        if !machine {
            eprintln!("phoenix: {}", nothing.0);
            std::process::exit(i32::from(USAGE_EXIT));
        }
        log::error!("{}", nothing.0);
        sys::degraded::reap_forever()
    }
    std::panic::set_hook(Box::new(|info| {
        log::error!("internal error: {info}");
    }));
    match catch_unwind(AssertUnwindSafe(|| run::run(options))) {
        Ok(code) => std::process::exit(i32::from(code)),
        Err(_) => sys::degraded::reap_forever(),
    }
}
