//! The command line: tini's flags (`-s -p -g -e -v -w`, and its environment variables) plus
//! Phoenix's own. Pure: arguments and environment come in as values, so every rule is a
//! unit test. Option parsing stops at the first non-option, as tini's does, so
//! `phoenix sh -c 'exit 7'` never mistakes the command's `-c` for ours.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::unit::{Signal, parse_duration};

/// Everything the command line asked for.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Options {
    /// `-s` / `TINI_SUBREAPER`: register as a child subreaper.
    pub subreaper: bool,
    /// `-p SIGNAL`: the signal Phoenix gets when its parent dies.
    pub parent_death_signal: Option<Signal>,
    /// `-g` / `TINI_KILL_PROCESS_GROUP`: forward signals to the child's process group.
    pub signal_group: bool,
    /// `-e CODE`: exit codes reported as 0.
    pub success_codes: Vec<u8>,
    /// tini's verbosity: 0 errors, 1 warnings (default), 2 info, 3 debug, 4 trace.
    pub verbosity: u8,
    /// `-w`: warn for each reaped orphan.
    pub warn_on_reap: bool,
    /// `-d/--services DIR` or `$PHOENIX_SERVICES`.
    pub services: Option<PathBuf>,
    /// `-c/--config FILE`.
    pub config: Option<PathBuf>,
    /// `--check`: validate and exit.
    pub check: bool,
    /// `--grace DURATION`.
    pub grace: Option<Duration>,
    /// `--resume=FD`: carry on from the handoff a re-exec left on this descriptor
    /// (internal: Phoenix passes it to itself).
    pub resume: Option<i32>,
    /// The command and its arguments.
    pub command: Vec<String>,
    /// Problems with cosmetic settings (a malformed `TINI_VERBOSITY`): logged once logging
    /// is up, never a reason not to start.
    pub warnings: Vec<String>,
}

/// What the command line asks Phoenix to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    Run(Options),
    Help,
    Version,
}

/// A usage error: one line, and Phoenix exits [`USAGE_EXIT`] without starting anything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (see 'phoenix --help')", self.0)
    }
}

/// The exit status of a usage error, as tini's, dumb-init's and catatonit's.
pub const USAGE_EXIT: u8 = 1;

/// Default verbosity, as tini's: warnings and errors.
const DEFAULT_VERBOSITY: u8 = 1;

pub const HELP: &str = "\
phoenix - PID 1 for containers and appliances: reaps zombies, forwards signals, supervises services

Usage: phoenix [OPTIONS] [--] COMMAND [ARGS...]
       phoenix [OPTIONS] --services DIR [--] [COMMAND [ARGS...]]

Options:
  -s                 register as a child subreaper (automatic when not PID 1)
  -p SIGNAL          signal Phoenix receives when its parent dies
  -g                 forward signals to the child's process group
  -e CODE            report exit code CODE as 0 (repeatable)
  -v                 more verbose (repeatable)
  -w                 warn each time an orphan is reaped
  -d, --services DIR supervise every unit in DIR
  -c, --config FILE  system settings (default /etc/phoenix/phoenix.toml)
      --check        validate config and units, print every problem, start nothing
      --grace DURATION  how long leftovers get between SIGTERM and SIGKILL (default 5s)
  -V, --version      print the version
  -h, --help         print this help

Environment: TINI_SUBREAPER, TINI_KILL_PROCESS_GROUP, TINI_VERBOSITY, PHOENIX_SERVICES,
PHOENIX_LOG (then RUST_LOG) for log filters.
";

/// Parses `args` (without the program name) with `env` looking up environment variables.
pub fn parse(args: &[String], env: &dyn Fn(&str) -> Option<String>) -> Result<Request, UsageError> {
    let mut options = options_from_env(env);
    let mut index = 0;
    while let Some(arg) = args.get(index) {
        index += 1;
        if arg == "--" {
            break;
        }
        if let Some(long) = arg.strip_prefix("--") {
            match parse_long(long, args, &mut index, &mut options)? {
                Some(request) => return Ok(request),
                None => continue,
            }
        }
        if arg.len() < 2 || !arg.starts_with('-') {
            index -= 1;
            break;
        }
        if let Some(request) = parse_short_cluster(&arg[1..], args, &mut index, &mut options)? {
            return Ok(request);
        }
    }
    options.command = args.get(index..).unwrap_or_default().to_vec();
    // As tini's: the variable, read after the flags, overrides `-v`.
    if let Some(verbosity) = verbosity_from_env(env, &mut options.warnings) {
        options.verbosity = verbosity;
    }
    Ok(Request::Run(options))
}

fn options_from_env(env: &dyn Fn(&str) -> Option<String>) -> Options {
    // tini tests presence, not value: `ENV TINI_KILL_PROCESS_GROUP=` turns it on.
    let is_present = |name: &str| env(name).is_some();
    Options {
        subreaper: is_present("TINI_SUBREAPER"),
        signal_group: is_present("TINI_KILL_PROCESS_GROUP"),
        services: env("PHOENIX_SERVICES")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from),
        verbosity: DEFAULT_VERBOSITY,
        ..Options::default()
    }
}

/// `TINI_VERBOSITY`, when set and not empty. A value that is not a number is a warning and
/// leaves the verbosity alone: a cosmetic variable never keeps PID 1 from starting.
fn verbosity_from_env(
    env: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Vec<String>,
) -> Option<u8> {
    let value = env("TINI_VERBOSITY").filter(|value| !value.trim().is_empty())?;
    match value.trim().parse::<u64>() {
        Ok(number) => Some(u8::try_from(number).unwrap_or(u8::MAX)),
        Err(_) => {
            warnings.push(format!(
                "ignoring TINI_VERBOSITY '{value}': expected a number from 0 to 4"
            ));
            None
        }
    }
}

/// One `-xyz` cluster; a flag taking a value takes the rest of the cluster or the next arg.
fn parse_short_cluster(
    cluster: &str,
    args: &[String],
    index: &mut usize,
    options: &mut Options,
) -> Result<Option<Request>, UsageError> {
    for (position, flag) in cluster.char_indices() {
        let attached = &cluster[position + flag.len_utf8()..];
        match flag {
            's' => options.subreaper = true,
            'g' => options.signal_group = true,
            'w' => options.warn_on_reap = true,
            'v' => options.verbosity = options.verbosity.saturating_add(1),
            'h' => return Ok(Some(Request::Help)),
            'V' => return Ok(Some(Request::Version)),
            'p' | 'e' | 'd' | 'c' => {
                let value = if attached.is_empty() {
                    next_value(&format!("-{flag}"), args, index)?
                } else {
                    attached.to_string()
                };
                apply_value(flag, &value, options)?;
                return Ok(None);
            }
            other => return Err(UsageError(format!("unknown option '-{other}'"))),
        }
    }
    Ok(None)
}

fn parse_long(
    long: &str,
    args: &[String],
    index: &mut usize,
    options: &mut Options,
) -> Result<Option<Request>, UsageError> {
    let (name, inline) = match long.split_once('=') {
        Some((name, value)) => (name, Some(value.to_string())),
        None => (long, None),
    };
    let flag = match name {
        "help" => return Ok(Some(Request::Help)),
        "version" => return Ok(Some(Request::Version)),
        "check" => {
            options.check = true;
            return Ok(None);
        }
        "services" => 'd',
        "config" => 'c',
        "grace" => 'G',
        "resume" => 'R',
        _ => return Err(UsageError(format!("unknown option '--{name}'"))),
    };
    let value = match inline {
        Some(value) => value,
        None => next_value(&format!("--{name}"), args, index)?,
    };
    apply_value(flag, &value, options)?;
    Ok(None)
}

fn next_value(flag: &str, args: &[String], index: &mut usize) -> Result<String, UsageError> {
    let value = args
        .get(*index)
        .cloned()
        .ok_or_else(|| UsageError(format!("option '{flag}' needs a value")))?;
    *index += 1;
    Ok(value)
}

fn apply_value(flag: char, value: &str, options: &mut Options) -> Result<(), UsageError> {
    match flag {
        'p' => {
            let signal = value
                .parse::<Signal>()
                .map_err(|e| UsageError(format!("-p: {e}")))?;
            options.parent_death_signal = Some(signal);
        }
        'e' => {
            let code = value.parse::<u8>().map_err(|_| {
                UsageError(format!(
                    "-e: invalid exit code '{value}': expected a number from 0 to 255"
                ))
            })?;
            options.success_codes.push(code);
        }
        'd' => options.services = Some(PathBuf::from(value)),
        'c' => options.config = Some(PathBuf::from(value)),
        'R' => {
            let fd = value.parse::<i32>().ok().filter(|fd| *fd >= 0);
            options.resume =
                Some(fd.ok_or_else(|| {
                    UsageError(format!("--resume: invalid descriptor '{value}'"))
                })?);
        }
        _ => {
            let grace = parse_duration(value).map_err(|e| UsageError(format!("--grace: {e}")))?;
            options.grace = Some(grace);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &[&str]) -> Vec<String> {
        line.iter().map(|s| s.to_string()).collect()
    }

    fn run(line: &[&str]) -> Options {
        match parse(&args(line), &|_| None) {
            Ok(Request::Run(options)) => options,
            other => panic!("{line:?}: {other:?}"),
        }
    }

    fn error(line: &[&str]) -> String {
        parse(&args(line), &|_| None).unwrap_err().to_string()
    }

    #[test]
    fn stops_at_the_first_non_option() {
        let options = run(&["sh", "-c", "exit 7"]);
        assert_eq!(options.command, args(&["sh", "-c", "exit 7"]));
        assert_eq!(options.config, None);
        let options = run(&["-g", "--", "-weird-name", "-v"]);
        assert!(options.signal_group);
        assert_eq!(options.command, args(&["-weird-name", "-v"]));
    }

    #[test]
    fn tini_flags() {
        let options = run(&[
            "-s", "-g", "-w", "-vvv", "-p", "SIGKILL", "-e", "143", "-e3", "--", "x",
        ]);
        assert!(options.subreaper && options.signal_group && options.warn_on_reap);
        assert_eq!(options.verbosity, 4);
        assert_eq!(options.parent_death_signal, Some(Signal::KILL));
        assert_eq!(options.success_codes, vec![143, 3]);
        assert_eq!(
            run(&["-sgp", "TERM", "x"]).parent_death_signal,
            Some(Signal::TERM)
        );
    }

    #[test]
    fn long_options() {
        let options = run(&["--services", "/srv", "--grace=250ms", "-c", "/p.toml", "x"]);
        assert_eq!(options.services, Some(PathBuf::from("/srv")));
        assert_eq!(options.grace, Some(Duration::from_millis(250)));
        assert_eq!(options.config, Some(PathBuf::from("/p.toml")));
        assert!(run(&["--check", "-d", "dir"]).check);
        assert_eq!(run(&["--services=/a"]).command, Vec::<String>::new());
    }

    #[test]
    fn help_and_version() {
        assert_eq!(parse(&args(&["-h"]), &|_| None), Ok(Request::Help));
        assert_eq!(
            parse(&args(&["--version"]), &|_| None),
            Ok(Request::Version)
        );
        assert_eq!(parse(&args(&["-V", "x"]), &|_| None), Ok(Request::Version));
    }

    #[test]
    fn usage_errors_name_the_problem() {
        assert_eq!(
            error(&["-x", "sh"]),
            "unknown option '-x' (see 'phoenix --help')"
        );
        assert!(error(&["--frobnicate", "sh"]).contains("unknown option '--frobnicate'"));
        assert!(error(&["-e", "300", "sh"]).contains("invalid exit code '300'"));
        assert!(error(&["-p", "NOTASIGNAL", "sh"]).contains("invalid signal 'NOTASIGNAL'"));
        assert!(error(&["--grace", "5", "sh"]).contains("invalid duration '5'"));
        assert!(error(&["-e"]).contains("option '-e' needs a value"));
    }

    #[test]
    fn no_command_is_left_to_the_mode_rule() {
        assert_eq!(run(&[]).command, Vec::<String>::new());
        assert_eq!(run(&["-v", "--"]).command, Vec::<String>::new());
    }

    fn run_with_env(line: &[&str], env: &[(&str, &str)]) -> Options {
        let lookup = |name: &str| {
            env.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        };
        match parse(&args(line), &lookup) {
            Ok(Request::Run(options)) => options,
            other => panic!("{line:?} {env:?}: {other:?}"),
        }
    }

    #[test]
    fn environment_variables() {
        let options = run_with_env(
            &["-v", "x"],
            &[
                ("TINI_SUBREAPER", "1"),
                ("TINI_KILL_PROCESS_GROUP", "1"),
                ("TINI_VERBOSITY", "3"),
                ("PHOENIX_SERVICES", "/etc/svc"),
            ],
        );
        assert!(options.subreaper && options.signal_group);
        assert_eq!(options.services, Some(PathBuf::from("/etc/svc")));
        let options = run_with_env(&["x"], &[]);
        assert!(!options.subreaper && !options.signal_group);
        assert_eq!(options.verbosity, DEFAULT_VERBOSITY);
    }

    /// tini tests presence: `ENV TINI_KILL_PROCESS_GROUP=` in a Dockerfile turns it on.
    #[test]
    fn issue_8_empty_tini_variables_count_as_set() {
        let options = run_with_env(
            &["x"],
            &[("TINI_SUBREAPER", ""), ("TINI_KILL_PROCESS_GROUP", "")],
        );
        assert!(options.subreaper && options.signal_group);
        assert_eq!(
            run_with_env(&["x"], &[("PHOENIX_SERVICES", "")]).services,
            None
        );
    }

    /// As tini's, the variable overrides `-v`, and a malformed one never stops Phoenix.
    #[test]
    fn issue_8_tini_verbosity_overrides_flags_and_never_fails() {
        let verbosity =
            |line: &[&str], value: &str| run_with_env(line, &[("TINI_VERBOSITY", value)]).verbosity;
        assert_eq!(verbosity(&["-vvv", "x"], "0"), 0);
        assert_eq!(verbosity(&["x"], "2"), 2);
        assert_eq!(verbosity(&["x"], " 3 "), 3);
        assert_eq!(verbosity(&["x"], "900"), u8::MAX);
        assert_eq!(verbosity(&["-v", "x"], ""), DEFAULT_VERBOSITY + 1);
        let options = run_with_env(&["-v", "x"], &[("TINI_VERBOSITY", "abc")]);
        assert_eq!(options.verbosity, DEFAULT_VERBOSITY + 1);
        assert_eq!(options.command, args(&["x"]));
        assert_eq!(
            options.warnings,
            vec!["ignoring TINI_VERBOSITY 'abc': expected a number from 0 to 4".to_string()]
        );
    }

    #[test]
    fn help_lists_every_flag() {
        for flag in [
            "-s ",
            "-p ",
            "-g ",
            "-e ",
            "-v ",
            "-w ",
            "--services",
            "--config",
            "--check",
            "--grace",
            "--version",
            "--help",
        ] {
            assert!(HELP.contains(flag), "{flag}");
        }
    }
}
