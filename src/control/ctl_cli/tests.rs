//! Tests of `ctl_cli.rs`.

use super::*;

fn args(line: &str) -> Vec<String> {
    line.split_whitespace().map(String::from).collect()
}

fn no_env(_: &str) -> Option<String> {
    None
}

fn run(line: &str) -> Invocation {
    match parse(&args(line), &no_env) {
        Ok(Parsed::Run(invocation)) => invocation,
        other => panic!("{line}: {other:?}"),
    }
}

fn error(line: &str) -> String {
    parse(&args(line), &no_env).unwrap_err().0
}

fn name(text: &str) -> String {
    text.to_string()
}

#[test]
fn every_command() {
    for (line, expected) in [
        ("status", Request::Status { name: None }),
        (
            "status web",
            Request::Status {
                name: Some(name("web")),
            },
        ),
        ("start web", Request::Start { name: name("web") }),
        ("stop web", Request::Stop { name: name("web") }),
        ("restart web", Request::Restart { name: name("web") }),
        ("reset web", Request::Reset { name: name("web") }),
        (
            "signal web HUP",
            Request::Signal {
                name: name("web"),
                signal: name("HUP"),
            },
        ),
        ("reload", Request::Reload),
        ("shutdown", Request::Shutdown),
        ("reexec", Request::Reexec),
        ("reboot", Request::Reboot),
        ("poweroff", Request::Poweroff),
        ("halt", Request::Halt),
        ("events", Request::Events { follow: false }),
        ("events --follow", Request::Events { follow: true }),
        ("events -f", Request::Events { follow: true }),
        ("-f events", Request::Events { follow: true }),
        ("incidents", Request::Incidents { name: None }),
        (
            "incidents web",
            Request::Incidents {
                name: Some(name("web")),
            },
        ),
        ("heal web", Request::Heal { name: name("web") }),
    ] {
        let invocation = run(line);
        assert_eq!(invocation.request, expected, "{line}");
        assert_eq!(invocation.wait, None, "{line}");
        assert!(!invocation.json, "{line}");
        assert_eq!(invocation.socket, None, "{line}");
    }
}

#[test]
fn global_options_anywhere() {
    for line in [
        "--json status",
        "status --json",
        "--socket /tmp/p.sock --json status",
        "--socket=/tmp/p.sock status --json",
    ] {
        let invocation = run(line);
        assert!(invocation.json, "{line}");
        assert_eq!(invocation.request, Request::Status { name: None });
    }
    for (line, expected) in [
        ("incidents --json", None),
        ("--json incidents web", Some(name("web"))),
    ] {
        let invocation = run(line);
        assert!(invocation.json, "{line}");
        assert_eq!(invocation.request, Request::Incidents { name: expected });
    }
    assert_eq!(
        run("--socket=/tmp/p.sock status").socket,
        Some(PathBuf::from("/tmp/p.sock"))
    );
    assert_eq!(
        run("status --socket /tmp/q.sock").socket,
        Some(PathBuf::from("/tmp/q.sock"))
    );
}

#[test]
fn socket_from_the_environment_unless_the_flag_says_otherwise() {
    let env = |key: &str| (key == "PHOENIX_SOCKET").then(|| "/env.sock".to_string());
    let parsed = |line: &str| match parse(&args(line), &env) {
        Ok(Parsed::Run(invocation)) => invocation.socket,
        other => panic!("{other:?}"),
    };
    assert_eq!(parsed("status"), Some(PathBuf::from("/env.sock")));
    assert_eq!(
        parsed("--socket /flag.sock status"),
        Some(PathBuf::from("/flag.sock"))
    );
    let empty = |_: &str| Some(String::new());
    let invocation = parse(&args("status"), &empty).unwrap();
    assert_eq!(
        invocation,
        Parsed::Run(Invocation {
            socket: None,
            json: false,
            request: Request::Status { name: None },
            wait: None,
            check: false,
        })
    );
}

#[test]
fn wait_and_timeout() {
    for (line, expected) in [
        ("start web --wait", Duration::from_secs(30)),
        ("--wait stop web", Duration::from_secs(30)),
        ("restart --wait --timeout 5s web", Duration::from_secs(5)),
        (
            "start web --wait --timeout=250ms",
            Duration::from_millis(250),
        ),
        ("start web --timeout 2m --wait", Duration::from_secs(120)),
    ] {
        assert_eq!(run(line).wait, Some(expected), "{line}");
    }
}

#[test]
fn help() {
    for line in ["-h", "--help", "help", "status --help", "-h --bogus"] {
        assert_eq!(parse(&args(line), &no_env), Ok(Parsed::Help), "{line}");
    }
}

#[test]
fn usage_errors_name_the_problem() {
    for (line, expected) in [
        ("", "no command given"),
        ("--json", "no command given"),
        ("frobnicate", "unknown command 'frobnicate'"),
        ("start", "'start' needs a service name: start NAME"),
        ("stop", "'stop' needs a service name"),
        ("restart", "'restart' needs a service name"),
        ("reset", "'reset' needs a service name"),
        ("start a b", "too many arguments for 'start': start NAME"),
        ("status a b", "too many arguments for 'status'"),
        ("signal web", "'signal' needs a service name and a signal"),
        ("signal", "'signal' needs a service name and a signal"),
        ("signal a b c", "too many arguments for 'signal'"),
        ("reload now", "too many arguments for 'reload'"),
        ("shutdown now", "too many arguments for 'shutdown'"),
        ("events web", "too many arguments for 'events'"),
        (
            "incidents a b",
            "too many arguments for 'incidents': incidents [NAME]",
        ),
        ("heal", "'heal' needs a service name: heal NAME"),
        ("heal a b", "too many arguments for 'heal': heal NAME"),
        (
            "heal web --wait",
            "--wait applies to start, stop and restart only",
        ),
        ("heal web --json", "--json applies to status and incidents"),
        (
            "incidents --follow",
            "--follow applies to events and logs only",
        ),
        (
            "incidents --wait",
            "--wait applies to start, stop and restart",
        ),
        ("--bogus status", "unknown option '--bogus'"),
        ("status -x", "unknown option '-x'"),
        ("status --socket", "--socket needs a value"),
        ("start web --wait --timeout", "--timeout needs a value"),
        (
            "start web --wait --timeout 10",
            "invalid duration '10': expected a number with a unit",
        ),
        ("start web --timeout 5s", "--timeout needs --wait"),
        (
            "status --wait",
            "--wait applies to start, stop and restart only",
        ),
        (
            "reset web --wait",
            "--wait applies to start, stop and restart only",
        ),
        (
            "status --follow",
            "--follow applies to events and logs only",
        ),
        ("start web --json", "--json applies to status and incidents"),
        ("--wait=1 start web", "--wait takes no value"),
        ("--json= status", "--json takes no value"),
    ] {
        let message = error(line);
        assert!(message.starts_with(expected), "{line}: {message}");
    }
}

#[test]
fn double_dash_ends_options() {
    let invocation = run("signal web -- -9");
    assert_eq!(
        invocation.request,
        Request::Signal {
            name: name("web"),
            signal: name("-9"),
        }
    );
}

#[test]
fn usage_error_points_at_help() {
    assert_eq!(
        UsageError("no command given".into()).to_string(),
        "no command given (see 'phoenixctl --help')"
    );
}

#[test]
fn help_lists_every_command_and_option() {
    for word in [
        "status [NAME]",
        "start NAME",
        "stop NAME",
        "restart NAME",
        "reset NAME",
        "signal NAME SIGNAL",
        "reload",
        "shutdown",
        "reexec",
        "events [--follow]",
        "incidents [NAME]",
        "heal NAME",
        "check",
        "--socket PATH",
        "--json",
        "--wait",
        "--timeout DURATION",
        "--follow",
        "--help",
        "PHOENIX_SOCKET",
    ] {
        assert!(HELP.contains(word), "help misses {word}");
    }
    let default = crate::unit::format_duration(DEFAULT_WAIT_TIMEOUT);
    assert!(HELP.contains(&format!("(default {default})")));
}

#[test]
fn check_asks_for_every_status_and_takes_nothing_else() {
    let invocation = run("check");
    assert!(invocation.check);
    assert_eq!(invocation.request, Request::Status { name: None });
    assert!(!run("status").check);
    assert_eq!(error("check web"), "too many arguments for 'check': check");
    assert_eq!(error("--json check"), "--json does not apply to check");
}

#[test]
fn logs_takes_a_name_a_count_follow_and_json() {
    let parsed = parse(&args("logs web -n 5 --follow --json"), &no_env).unwrap();
    let Parsed::Run(invocation) = parsed else {
        panic!("{parsed:?}");
    };
    assert_eq!(
        invocation.request,
        Request::Logs {
            name: "web".into(),
            lines: 5,
            follow: true
        }
    );
    assert!(invocation.json);
    let error = parse(&args("logs web -n many"), &no_env).unwrap_err();
    assert!(error.0.contains("invalid -n 'many'"), "{error}");
    let error = parse(&args("status -n 3"), &no_env).unwrap_err();
    assert!(error.0.contains("--lines applies to logs only"), "{error}");
}
