//! Starting a unit's process: its argv, environment and directory, in a session of its
//! own with an empty signal mask (the rescue loop blocks every signal; the mask survives
//! exec). Only the loop reaps, with `waitpid(-1)`: the `Child` std hands back is dropped
//! unwaited.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::sys;
use crate::unit::{self, Unit};

/// Starts `unit`: its pid, or why not, naming what failed (`exec /usr/bin/web: No such
/// file or directory`; std reports the child's exec errno).
pub fn spawn_unit(unit: &Unit) -> Result<i32, String> {
    let (program, args): (&Path, Vec<&str>) = match &unit.command {
        unit::Command::Shell(script) => (Path::new("/bin/sh"), vec!["-c", script]),
        unit::Command::Argv(argv) => match argv.split_first() {
            Some((program, args)) => (
                Path::new(program),
                args.iter().map(String::as_str).collect(),
            ),
            None => return Err("the command is empty".into()),
        },
        unit::Command::Run(run) => (run.as_path(), Vec::new()),
    };
    let mut command = Command::new(program);
    command.args(args);
    for (name, value) in &unit.environment {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
    if let Some(directory) = &unit.working_directory {
        if !directory.is_dir() {
            return Err(format!(
                "working directory {}: not a directory",
                directory.display()
            ));
        }
        command.current_dir(directory);
    }
    if !unit.is_console {
        // Services do not read the console; only the rescue shell does.
        command.stdin(Stdio::null());
    }
    let is_console = unit.is_console;
    // SAFETY: the closure runs between fork and exec and calls only async-signal-safe
    // functions (sigprocmask, setsid, isatty, ioctl); it allocates nothing.
    unsafe {
        command.pre_exec(move || sys::prepare_child(is_console));
    }
    let child = command
        .spawn()
        .map_err(|error| format!("exec {}: {error}", program.display()))?;
    i32::try_from(child.id()).map_err(|_| format!("pid {} out of range", child.id()))
}
