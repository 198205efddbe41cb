//! From a unit to the `ProcessSpec` the shell spawns: the program itself, and the s6
//! `finish` script with its four arguments.

use crate::exit_status::ExitStatus;
use crate::process_spec::{EnvironmentFileSpec, Placement, ProcessSpec};
use crate::unit::Command;

use super::Service;

pub fn process_spec(service: &Service) -> ProcessSpec {
    let unit = &service.unit;
    let argv = match &unit.command {
        Command::Argv(argv) => argv.clone(),
        Command::Shell(line) => vec!["/bin/sh".to_string(), "-c".to_string(), line.clone()],
    };
    let placement = if service.foreground {
        Placement::ForegroundGroup
    } else {
        Placement::NewSession
    };
    let mut spec = ProcessSpec::command(&unit.name, argv, placement);
    spec.working_directory = unit.working_directory.clone();
    spec.user = unit.user.clone();
    spec.group = unit.group.clone();
    spec.umask = unit.umask;
    spec.stdin_null = !service.foreground;
    spec.environment_files = unit
        .environment_files
        .iter()
        .map(|file| EnvironmentFileSpec {
            path: file.path.clone(),
            optional: file.optional,
        })
        .collect();
    spec.stdout_pipe = unit.s6.as_ref().and_then(|s6| s6.logger.clone());
    spec.stdin_pipe = service.logger_for.as_ref().map(|_| unit.name.clone());
    if let Some(s6) = &unit.s6 {
        spec.environment
            .extend(s6.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    spec.environment.extend(
        unit.environment
            .iter()
            .map(|(k, v)| (k.clone(), Some(v.clone()))),
    );
    spec
}

/// The `finish` script, if the unit has one: `finish CODE SIGNAL NAME PGID`, where CODE is
/// 256 when the program was killed by a signal and SIGNAL is 0 when it was not.
pub fn finish_spec(service: &Service, status: ExitStatus) -> Option<ProcessSpec> {
    let finish = service.unit.s6.as_ref()?.finish.as_ref()?;
    let (code, signal) = match status {
        ExitStatus::Code(code) => (u32::from(code), 0),
        ExitStatus::Signal(signal) => (256, signal.number()),
    };
    let argv = vec![
        finish.to_string_lossy().into_owned(),
        code.to_string(),
        signal.to_string(),
        service.unit.name.clone(),
        service.last_pgid.to_string(),
    ];
    let mut spec = process_spec(service);
    spec.name = format!("{}/finish", service.unit.name);
    spec.stdin_pipe = None;
    spec.argv = argv;
    spec.placement = Placement::NewSession;
    Some(spec)
}
