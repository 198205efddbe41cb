//! The command line, `$PHOENIX_SERVICES` and the kernel's `phoenix.*` options, into
//! `Options`. Pure: the environment and the kernel command line are passed in. Lenient on
//! purpose: an argument it cannot use is reported and skipped, so that PID 1 can carry on
//! with the rest (a usage error is fatal only where an exit harms nobody).

use std::path::PathBuf;

pub const HELP: &str = "\
Usage: phoenix-rescue [OPTIONS]
       phoenix-rescue diagnose [OPTIONS]

Phoenix's emergency supervisor, built on the standard library alone. It prints a report
of what it finds, recreates the runtime and state directories, starts every unit it can
read, restarts each that dies after 1s (at most 10 times a minute), reaps every process
and shuts down in order on SIGTERM, SIGINT or SIGPWR. `diagnose` prints the report to
stdout and exits 0 when it found no problem, 1 when it did.

Options:
      --services DIR     the units ($PHOENIX_SERVICES, else /etc/phoenix/services.d)
      --runtime-dir DIR  recreated when missing [default: /run/phoenix]
      --state-dir DIR    recreated when missing [default: /var/lib/phoenix]
      --reason TEXT      why it was started, the report's first line
      --adopt NAME=PID   PID already runs unit NAME: supervise it, do not start it again
                         (repeatable)
      --shell            also run /bin/sh on the console, restarted when it exits
  -h, --help             print this help
  -V, --version          print the version

Kernel command line, read when $container is unset: phoenix.services=DIR sets the
services directory (below --services, above $PHOENIX_SERVICES), phoenix.rescue=shell
means --shell.
";

pub const DEFAULT_SERVICES: &str = "/etc/phoenix/services.d";
pub const DEFAULT_RUNTIME_DIR: &str = "/run/phoenix";
pub const DEFAULT_STATE_DIR: &str = "/var/lib/phoenix";

#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub is_diagnose: bool,
    pub services: PathBuf,
    pub runtime_dir: PathBuf,
    pub state_dir: PathBuf,
    pub reason: Option<String>,
    pub adopt: Vec<(String, i32)>,
    pub has_shell: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    Run(Options),
    Help,
    Version,
}

/// What the command line asks for, and every argument that could not be used.
#[derive(Clone, Debug, PartialEq)]
pub struct Parsed {
    pub request: Request,
    pub errors: Vec<String>,
}

/// `args` without the program name; `services_env` is `$PHOENIX_SERVICES`; `kernel` the
/// kernel command line, when it applies.
pub fn parse(args: &[String], services_env: Option<String>, kernel: Option<&str>) -> Parsed {
    let mut options = Options {
        is_diagnose: false,
        services: PathBuf::from(DEFAULT_SERVICES),
        runtime_dir: PathBuf::from(DEFAULT_RUNTIME_DIR),
        state_dir: PathBuf::from(DEFAULT_STATE_DIR),
        reason: None,
        adopt: Vec::new(),
        has_shell: false,
    };
    if let Some(dir) = services_env.filter(|dir| !dir.is_empty()) {
        options.services = PathBuf::from(dir);
    }
    for word in kernel.unwrap_or_default().split_whitespace() {
        match word.split_once('=') {
            Some(("phoenix.services", dir)) if !dir.is_empty() => options.services = dir.into(),
            Some(("phoenix.rescue", "shell")) => options.has_shell = true,
            _ => {}
        }
    }
    let mut errors = Vec::new();
    let mut words = args.iter().peekable();
    if words.peek().is_some_and(|word| *word == "diagnose") {
        options.is_diagnose = true;
        words.next();
    }
    while let Some(word) = words.next() {
        let (flag, inline) = match word.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_string())),
            _ => (word.as_str(), None),
        };
        let takes_value = [
            "--services",
            "--runtime-dir",
            "--state-dir",
            "--reason",
            "--adopt",
        ];
        let value = if takes_value.contains(&flag) {
            match inline.or_else(|| words.next().cloned()) {
                Some(value) => value,
                None => {
                    errors.push(format!("{flag} needs a value"));
                    continue;
                }
            }
        } else {
            String::new()
        };
        match flag {
            "-h" | "--help" => return done(Request::Help, errors),
            "-V" | "--version" => return done(Request::Version, errors),
            "--services" => options.services = value.into(),
            "--runtime-dir" => options.runtime_dir = value.into(),
            "--state-dir" => options.state_dir = value.into(),
            "--reason" => options.reason = Some(value),
            "--shell" => options.has_shell = true,
            "--adopt" => match parse_adopt(&value) {
                Some(pair) => options.adopt.push(pair),
                None => errors.push(format!("--adopt {value:?}: expected NAME=PID")),
            },
            other => errors.push(format!("unknown argument {other:?}")),
        }
    }
    done(Request::Run(options), errors)
}

fn done(request: Request, errors: Vec<String>) -> Parsed {
    Parsed { request, errors }
}

fn parse_adopt(value: &str) -> Option<(String, i32)> {
    let (name, pid) = value.split_once('=')?;
    let pid: i32 = pid.parse().ok().filter(|&pid| pid > 0)?;
    (!name.is_empty()).then(|| (name.to_string(), pid))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str], env: Option<&str>, kernel: Option<&str>) -> (Options, Vec<String>) {
        let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
        let parsed = parse(&args, env.map(str::to_string), kernel);
        match parsed.request {
            Request::Run(options) => (options, parsed.errors),
            other => panic!("{args:?}: {other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let (options, errors) = run(&[], None, None);
        assert!(errors.is_empty());
        assert_eq!(options.services, PathBuf::from(DEFAULT_SERVICES));
        assert_eq!(options.runtime_dir, PathBuf::from(DEFAULT_RUNTIME_DIR));
        assert_eq!(options.state_dir, PathBuf::from(DEFAULT_STATE_DIR));
        assert!(!options.is_diagnose && !options.has_shell);
    }

    #[test]
    fn flags_then_kernel_then_environment() {
        // (arguments, $PHOENIX_SERVICES, kernel command line) → services directory
        type Row<'a> = (&'a [&'a str], Option<&'a str>, Option<&'a str>, &'a str);
        let rows: &[Row] = &[
            (&[], Some("/env"), None, "/env"),
            (&[], Some(""), None, DEFAULT_SERVICES),
            (
                &[],
                Some("/env"),
                Some("quiet phoenix.services=/kernel ro"),
                "/kernel",
            ),
            (
                &["--services", "/flag"],
                Some("/env"),
                Some("phoenix.services=/k"),
                "/flag",
            ),
            (&["--services=/inline"], None, None, "/inline"),
        ];
        for (args, env, kernel, services) in rows {
            let (options, _) = run(args, *env, *kernel);
            assert_eq!(
                options.services,
                PathBuf::from(services),
                "{args:?} {env:?} {kernel:?}"
            );
        }
    }

    #[test]
    fn every_option() {
        let (options, errors) = run(
            &[
                "diagnose",
                "--runtime-dir",
                "/r",
                "--state-dir=/s",
                "--reason",
                "it broke",
                "--adopt",
                "web=12",
                "--adopt=db=13",
                "--shell",
            ],
            None,
            None,
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert!(options.is_diagnose && options.has_shell);
        assert_eq!(options.runtime_dir, PathBuf::from("/r"));
        assert_eq!(options.state_dir, PathBuf::from("/s"));
        assert_eq!(options.reason.as_deref(), Some("it broke"));
        assert_eq!(options.adopt, vec![("web".into(), 12), ("db".into(), 13)]);
        let (kernel, _) = run(&[], None, Some("console=ttyS0 phoenix.rescue=shell"));
        assert!(kernel.has_shell);
    }

    #[test]
    fn bad_arguments_are_reported_and_skipped() {
        let (options, errors) = run(
            &[
                "--bogus", "--adopt", "web", "--adopt", "web=-1", "--shell", "--reason",
            ],
            None,
            None,
        );
        assert!(options.has_shell && options.adopt.is_empty());
        assert_eq!(
            errors,
            vec![
                "unknown argument \"--bogus\"",
                "--adopt \"web\": expected NAME=PID",
                "--adopt \"web=-1\": expected NAME=PID",
                "--reason needs a value",
            ]
        );
    }

    #[test]
    fn help_and_version() {
        let args = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        assert_eq!(parse(&args(&["-h"]), None, None).request, Request::Help);
        assert_eq!(
            parse(&args(&["diagnose", "--version"]), None, None).request,
            Request::Version
        );
    }

    #[test]
    fn the_readme_shows_this_help() {
        let readme = include_str!("../../README.md");
        assert!(
            readme.contains(HELP),
            "README.md must contain `phoenix-rescue --help` verbatim"
        );
    }
}
