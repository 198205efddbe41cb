//! Units as PID 1 reads them: TOML units (array and string commands, environment, skipped
//! keys) and s6 directories (run, down, env/) run; unreadable ones are reported, never
//! stopping the others.

use crate::harness::{Rescue, Scratch, TestResult};

/// A services directory with every kind of unit, readable or not.
pub fn mixed_services(dir: &Scratch) -> TestResult {
    let array = dir.file("array.out");
    dir.unit(
        "array.toml",
        &format!("command = [\"sh\", \"-c\", \"echo array >> {array}; exec sleep 1000\"]\n"),
    )?;
    dir.unit(
        "string.toml",
        &format!(
            r#"description = "a string command, its environment, and keys rescue skips"
command = 'echo "$GREETING" > string.out; pwd >> string.out; exec sleep 1000'
working-directory = "{}"
after = ["array"]

[environment]
GREETING = "hello \"world\"\tagain"

[restart]
delay = "250ms"
max-failures = 3

[health]
check = "exec"
command = ["true"]
interval = "1s"
"#,
            dir.path().display()
        ),
    )?;
    let s6 = dir.file("s6.out");
    dir.run_script(
        "s6",
        &format!("#!/bin/sh\npwd > {s6}\necho \"$FROM_ENVDIR\" >> {s6}\nexec sleep 1000\n"),
        0o755,
    )?;
    dir.unit(
        "s6/env/FROM_ENVDIR",
        "from the envdir  \nsecond line ignored\n",
    )?;
    let downed = dir.file("downed.out");
    dir.run_script(
        "downed",
        &format!("#!/bin/sh\ntouch {downed}\nexec sleep 1000\n"),
        0o755,
    )?;
    dir.unit("downed/down", "")?;
    dir.unit(
        "bad.toml",
        "description = \"broken\"\ncommand = [\"echo\", 'oops\n",
    )?;
    dir.unit("nocommand.toml", "description = \"nothing to run\"\n")?;
    dir.run_script("noexec", "#!/bin/sh\nexec sleep 1000\n", 0o644)?;
    std::fs::write(
        dir.services().join("binary.toml"),
        b"command = \"\xff\xfe\"\n",
    )?;
    dir.unit(".hidden.toml", "this is not toml at all [[[")?;
    dir.unit("README", "not a unit")?;
    Ok(())
}

/// What the log and `diagnose` must say about `mixed_services`' unreadable units.
pub const UNREADABLE: &[&str] = &[
    "problem: bad.toml:2: command: unterminated string: expected `'`",
    "problem: binary.toml: unable to read: stream did not contain valid UTF-8",
    "problem: nocommand.toml: no command",
    "problem: noexec/: run is not executable (mode 0644)",
];

#[test]
fn readable_units_run_as_pid1_and_unreadable_ones_are_reported() -> TestResult {
    let dir = Scratch::new()?;
    mixed_services(&dir)?;
    let rescue = Rescue::pid1(dir, &["--reason", "test: phoenix panicked twice"])?;
    assert_eq!(rescue.wait_for_lines("array.out", 1)?, ["array"]);
    let string = rescue.wait_for_lines("string.out", 2)?;
    let cwd = rescue.dir.path().display().to_string();
    assert_eq!(string, ["hello \"world\"\tagain", cwd.as_str()]);
    let s6 = rescue.wait_for_lines("s6.out", 2)?;
    let s6_dir = rescue.dir.services().join("s6").display().to_string();
    assert_eq!(s6, [s6_dir.as_str(), "from the envdir"]);

    let log = rescue.stderr();
    for line in [
        "[phoenix-rescue] reason: test: phoenix panicked twice",
        "[phoenix-rescue] pid: 1 (PID 1)",
        "string: string.toml, sh -c \"echo \\\"$GREETING\\\" > string.out; pwd >> string.out; exec sleep\" …; skipped: description, after, [restart], [health]",
        "downed: downed/, ./run; not started (disabled)",
        "services ",
        ": 4 readable unit(s), 4 unreadable",
    ]
    .iter()
    .chain(UNREADABLE)
    {
        assert!(log.contains(line), "missing {line:?}{}", rescue.context());
    }
    assert!(
        !log.contains("hidden"),
        "dot-names are skipped{}",
        rescue.context()
    );
    // Idle, it sleeps in sigtimedwait with no timeout: no wake-ups.
    let wchan = format!("/proc/{}/wchan", rescue.pid);
    rescue.eventually("rescue sleeps in sigtimedwait", || {
        std::fs::read_to_string(&wchan).is_ok_and(|wchan| wchan.contains("sigtimedwait"))
    })?;
    assert!(
        !rescue.dir.exists("downed.out"),
        "a unit with `down` is not started"
    );
    Ok(())
}

#[test]
fn with_nothing_readable_it_still_runs_reaps_and_ends_on_sigterm() -> TestResult {
    for has_directory in [true, false] {
        let dir = Scratch::new()?;
        dir.unit("bad.toml", "command = \n")?;
        if !has_directory {
            std::fs::remove_dir_all(dir.services())?;
        }
        let mut rescue = Rescue::pid1(dir, &[])?;
        rescue.wait_for_log("nothing to start: reaping orphans and waiting for signals")?;
        let expected = if has_directory {
            "problem: bad.toml:1: command: expected a value"
        } else {
            "problem: services "
        };
        assert!(
            rescue.stderr().contains(expected),
            "{expected:?}{}",
            rescue.context()
        );
        assert!(rescue.is_running(), "it waits{}", rescue.context());
        rescue.signal(crate::harness::SIGTERM)?;
        let status = rescue.wait_exit(crate::harness::DEADLINE)?;
        assert_eq!(status.code(), Some(0), "{}", rescue.context());
    }
    Ok(())
}

#[test]
fn the_shell_runs_on_the_console_it_was_given() -> TestResult {
    use std::io::Write;
    use std::process::Stdio;
    let dir = Scratch::new()?;
    let out = dir.file("shell.out");
    let mut rescue = Rescue::pid1_with_stdin(dir, &["--shell"], Stdio::piped())?;
    rescue.wait_for_log("console shell: started")?;
    let stdin = rescue.stdin().ok_or("no stdin")?;
    writeln!(stdin, "echo \"from the rescue shell in $(pwd)\" > {out}")?;
    assert_eq!(
        rescue.wait_for_lines("shell.out", 1)?,
        ["from the rescue shell in /"]
    );
    Ok(())
}

#[test]
fn an_s6_unit_runs_from_a_relative_services_dir() -> TestResult {
    let dir = Scratch::new()?;
    let out = dir.file("relative.out");
    dir.run_script(
        "relative",
        &format!("#!/bin/sh\npwd > {out}\nexec sleep 1000\n"),
        0o755,
    )?;
    // The harness starts rescue in the scratch directory; the last --services wins.
    let rescue = Rescue::pid1(dir, &["--services", "services"])?;
    let wanted = rescue.dir.services().join("relative").display().to_string();
    assert_eq!(rescue.wait_for_lines("relative.out", 1)?, [wanted]);
    Ok(())
}
