//! `phoenix`: parse the command line, start logging, run; a panic degrades, never exits.

use std::panic::{AssertUnwindSafe, catch_unwind};

use phoenix::cli::{self, Request};
use phoenix::{logging, run, sys};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match cli::parse(&args, &|name| std::env::var(name).ok()) {
        Ok(Request::Run(options)) => options,
        Ok(Request::Help) => {
            print!("{}", cli::HELP);
            return;
        }
        Ok(Request::Version) => {
            println!("phoenix {}", env!("CARGO_PKG_VERSION"));
            return;
        }
        Err(error) => {
            eprintln!("phoenix: {error}");
            std::process::exit(2);
        }
    };
    // Services mode logs every transition (info); tini mode is quiet like tini.
    let mut options = options;
    options.services = run::services_dir(&options);
    let services = options.services.is_some() && !options.check;
    logging::init(options.verbosity + u8::from(services));
    std::panic::set_hook(Box::new(|info| {
        log::error!("internal error: {info}");
    }));
    match catch_unwind(AssertUnwindSafe(|| run::run(options))) {
        Ok(code) => std::process::exit(i32::from(code)),
        Err(_) => sys::degraded::reap_forever(),
    }
}
