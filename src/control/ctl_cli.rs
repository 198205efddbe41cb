//! `phoenixctl`'s command line: global options, one command and its arguments, turned into
//! the protocol [`Request`] it will send. Pure: arguments and environment come in as values,
//! so every rule is a unit test; nothing here opens a socket.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::protocol::Request;
use crate::unit::parse_duration;

/// How long `--wait` waits when `--timeout` does not say.
pub const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(30);

/// Everything one `phoenixctl` run asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invocation {
    /// `--socket PATH` or `$PHOENIX_SOCKET`; `None` means the default path.
    pub socket: Option<PathBuf>,
    /// `--json`: machine-readable output (status, incidents).
    pub json: bool,
    pub request: Request,
    /// `--wait [--timeout DURATION]` (start, stop, restart): how long to wait.
    pub wait: Option<Duration>,
    /// `check`: the `status` of every service, judged by `check::check_reasons`.
    pub check: bool,
}

/// What the command line asks `phoenixctl` to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed {
    Run(Invocation),
    Help,
}

/// A usage error: one line on stderr and exit 2, nothing sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (see 'phoenixctl --help')", self.0)
    }
}

pub const HELP: &str = "\
phoenixctl - control a running Phoenix over its control socket

Usage: phoenixctl [--socket PATH] [--json] COMMAND [ARGS...]

Commands:
  status [NAME]        every service as a table; with NAME, one service and its deaths
  start NAME           start a service now, bypassing backoff and the restart budget
  stop NAME            stop a service and keep it down
  restart NAME         stop then start a service
  reset NAME           clear a service's death tally and close its circuit
  signal NAME SIGNAL   send SIGNAL (TERM, SIGHUP, 9...) to a service's process
  reload               re-read the unit directory
  shutdown             stop every service and end Phoenix
  reboot, poweroff, halt
                       stop every service, then reboot, power off or halt the machine (in a
                       container: end Phoenix, with status 133 for reboot, 0 otherwise)
  reexec               re-execute Phoenix's binary (a live upgrade); every service keeps running
  events [--follow]    the recorded events as JSON lines, newest last; --follow streams new ones
  incidents [NAME]     the recorded incidents as a table, newest last; with NAME, one service's
                       incidents with every recovery step tried
  logs NAME [-n N]     the last N (default 20) lines a captured service wrote, with their time
                       and stream; --follow keeps printing new ones
  heal NAME            climb a service's recovery ladder to its next step now
  check                exit 0 when every wanted service is ready and none is unhealthy, else 1
                       with the reasons (a Docker HEALTHCHECK)

Options:
      --socket PATH       the control socket (default $PHOENIX_SOCKET, then /run/phoenix/control.sock
                          for root, $XDG_RUNTIME_DIR/phoenix/control.sock for others)
      --json              status or incidents as one JSON document, logs as JSON lines
      --wait              start, stop, restart: wait until the service is running (or down)
      --timeout DURATION  how long --wait waits, like 250ms, 5s or 2m (default 30s)
  -f, --follow            events, logs: keep streaming until interrupted
  -n, --lines N           logs: how many recent lines (default 20)
  -h, --help              print this help

Exit status: 0 ok, 1 refused or failed, 2 usage error, 3 Phoenix not reachable.
";

/// Flags seen anywhere on the line; checked against the command once it is known.
#[derive(Default)]
struct Flags {
    socket: Option<PathBuf>,
    json: bool,
    wait: bool,
    timeout: Option<Duration>,
    follow: bool,
    lines: Option<usize>,
}

/// How many lines `logs` shows when `-n` does not say.
pub const DEFAULT_LOG_LINES: usize = 20;

/// Parses `args` (without the program name); `env` looks up environment variables.
pub fn parse(args: &[String], env: &dyn Fn(&str) -> Option<String>) -> Result<Parsed, UsageError> {
    let mut flags = Flags::default();
    let mut words = Vec::new();
    let mut index = 0;
    while let Some(arg) = args.get(index) {
        index += 1;
        if arg == "--" {
            words.extend(args.get(index..).unwrap_or_default().iter().cloned());
            break;
        }
        if arg == "-h" || arg == "--help" {
            return Ok(Parsed::Help);
        }
        if arg.len() > 1 && arg.starts_with('-') {
            parse_flag(arg, args, &mut index, &mut flags)?;
        } else {
            words.push(arg.clone());
        }
    }
    let Some((command, operands)) = words.split_first() else {
        return Err(UsageError("no command given".to_string()));
    };
    if command == "help" {
        return Ok(Parsed::Help);
    }
    let request = parse_request(command, operands)?;
    let check = command == "check";
    if check && flags.json {
        return Err(UsageError("--json does not apply to check".to_string()));
    }
    check_flags(&request, &flags)?;
    let socket = flags.socket.or_else(|| {
        env("PHOENIX_SOCKET")
            .filter(|value| !value.is_empty())
            .map(PathBuf::from)
    });
    let wait = flags
        .wait
        .then(|| flags.timeout.unwrap_or(DEFAULT_WAIT_TIMEOUT));
    Ok(Parsed::Run(Invocation {
        socket,
        json: flags.json,
        request: with_follow(request, flags.follow, flags.lines),
        wait,
        check,
    }))
}

fn parse_flag(
    arg: &str,
    args: &[String],
    index: &mut usize,
    flags: &mut Flags,
) -> Result<(), UsageError> {
    let (name, inline) = match arg.split_once('=') {
        Some((name, value)) if name.starts_with("--") => (name, Some(value.to_string())),
        _ => (arg, None),
    };
    let mut value = || match inline.clone().or_else(|| next_value(args, index)) {
        Some(value) => Ok(value),
        None => Err(UsageError(format!("{name} needs a value"))),
    };
    match name {
        "--socket" => flags.socket = Some(PathBuf::from(value()?)),
        "--timeout" => {
            let text = value()?;
            let timeout = parse_duration(&text).map_err(|error| UsageError(error.to_string()))?;
            flags.timeout = Some(timeout);
        }
        "--json" | "--wait" | "--follow" | "-f" if inline.is_some() => {
            return Err(UsageError(format!("{name} takes no value")));
        }
        "--lines" | "-n" => {
            let text = value()?;
            let lines = text.parse().map_err(|_| {
                UsageError(format!(
                    "invalid {name} '{text}': expected a number of lines"
                ))
            })?;
            flags.lines = Some(lines);
        }
        "--json" => flags.json = true,
        "--wait" => flags.wait = true,
        "--follow" | "-f" => flags.follow = true,
        _ => return Err(UsageError(format!("unknown option '{arg}'"))),
    }
    Ok(())
}

fn next_value(args: &[String], index: &mut usize) -> Option<String> {
    let value = args.get(*index)?.clone();
    *index += 1;
    Some(value)
}

fn parse_request(command: &str, operands: &[String]) -> Result<Request, UsageError> {
    let name = |usage: &str| match operands {
        [name] => Ok(name.clone()),
        [] => Err(UsageError(format!(
            "'{command}' needs a service name: {usage}"
        ))),
        _ => Err(too_many(command, usage)),
    };
    let nothing = |usage: &str| match operands {
        [] => Ok(()),
        _ => Err(too_many(command, usage)),
    };
    Ok(match command {
        "status" => match operands {
            [] => Request::Status { name: None },
            [name] => Request::Status {
                name: Some(name.clone()),
            },
            _ => return Err(too_many(command, "status [NAME]")),
        },
        "start" => Request::Start {
            name: name("start NAME")?,
        },
        "stop" => Request::Stop {
            name: name("stop NAME")?,
        },
        "restart" => Request::Restart {
            name: name("restart NAME")?,
        },
        "reset" => Request::Reset {
            name: name("reset NAME")?,
        },
        "signal" => match operands {
            [name, signal] => Request::Signal {
                name: name.clone(),
                signal: signal.clone(),
            },
            [_, _, ..] => return Err(too_many(command, "signal NAME SIGNAL")),
            _ => {
                return Err(UsageError(
                    "'signal' needs a service name and a signal: signal NAME SIGNAL".to_string(),
                ));
            }
        },
        "reload" => nothing("reload").map(|()| Request::Reload)?,
        "shutdown" => nothing("shutdown").map(|()| Request::Shutdown)?,
        "reexec" => nothing("reexec").map(|()| Request::Reexec)?,
        "reboot" => nothing("reboot").map(|()| Request::Reboot)?,
        "poweroff" => nothing("poweroff").map(|()| Request::Poweroff)?,
        "halt" => nothing("halt").map(|()| Request::Halt)?,
        "events" => nothing("events [--follow]").map(|()| Request::Events { follow: false })?,
        "incidents" => match operands {
            [] => Request::Incidents { name: None },
            [name] => Request::Incidents {
                name: Some(name.clone()),
            },
            _ => return Err(too_many(command, "incidents [NAME]")),
        },
        "heal" => Request::Heal {
            name: name("heal NAME")?,
        },
        "logs" => Request::Logs {
            name: name("logs NAME [-n N] [--follow]")?,
            lines: DEFAULT_LOG_LINES,
            follow: false,
        },
        "check" => nothing("check").map(|()| Request::Status { name: None })?,
        _ => {
            return Err(UsageError(format!(
                "unknown command '{command}': expected status, start, stop, restart, reset, \
                 signal, reload, shutdown, reboot, poweroff, halt, events, incidents, logs, heal or check"
            )));
        }
    })
}

fn too_many(command: &str, usage: &str) -> UsageError {
    UsageError(format!("too many arguments for '{command}': {usage}"))
}

fn check_flags(request: &Request, flags: &Flags) -> Result<(), UsageError> {
    let waitable = matches!(
        request,
        Request::Start { .. } | Request::Stop { .. } | Request::Restart { .. }
    );
    if flags.wait && !waitable {
        return Err(UsageError(
            "--wait applies to start, stop and restart only".to_string(),
        ));
    }
    if flags.timeout.is_some() && !flags.wait {
        return Err(UsageError("--timeout needs --wait".to_string()));
    }
    let is_logs = matches!(request, Request::Logs { .. });
    if flags.follow && !is_logs && !matches!(request, Request::Events { .. }) {
        return Err(UsageError(
            "--follow applies to events and logs only".to_string(),
        ));
    }
    if flags.lines.is_some() && !is_logs {
        return Err(UsageError("--lines applies to logs only".to_string()));
    }
    let has_json = is_logs
        || matches!(
            request,
            Request::Status { .. } | Request::Incidents { .. } | Request::Events { .. }
        );
    if flags.json && !has_json {
        return Err(UsageError(
            "--json applies to status and incidents (events are always JSON)".to_string(),
        ));
    }
    Ok(())
}

fn with_follow(request: Request, follow: bool, count: Option<usize>) -> Request {
    match request {
        Request::Events { .. } => Request::Events { follow },
        Request::Logs { name, lines, .. } => Request::Logs {
            name,
            lines: count.unwrap_or(lines),
            follow,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests;
