//! `phoenixctl`: parse the command line, talk to Phoenix over its control socket, and turn
//! the outcome into an exit code: 0 ok, 1 refused or failed, 2 usage, 3 not reachable.

use std::process::ExitCode;

use phoenix::control::client::{self, ClientError};
use phoenix::control::ctl_cli::{self, Parsed};
use phoenix::control::paths;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let invocation = match ctl_cli::parse(&args, &|name| std::env::var(name).ok()) {
        Ok(Parsed::Run(invocation)) => invocation,
        Ok(Parsed::Help) => {
            print!("{}", ctl_cli::HELP);
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("phoenixctl: {error}");
            return ExitCode::from(2);
        }
    };
    let socket = match invocation
        .socket
        .clone()
        .map_or_else(paths::find_socket, Ok)
    {
        Ok(socket) => socket,
        Err(looked_at) => {
            let looked_at: Vec<String> =
                looked_at.iter().map(|p| p.display().to_string()).collect();
            eprintln!(
                "phoenixctl: cannot reach Phoenix: no control socket at {} (--socket PATH or $PHOENIX_SOCKET names another)",
                looked_at.join(", ")
            );
            return ExitCode::from(3);
        }
    };
    let mut stdout = std::io::stdout().lock();
    match client::run(&invocation, &socket, &mut stdout) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => report(&error),
    }
}

fn report(error: &ClientError) -> ExitCode {
    if !error.is_quiet() {
        eprintln!("phoenixctl: {error}");
    }
    ExitCode::from(error.exit_code())
}
