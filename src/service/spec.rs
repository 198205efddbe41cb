//! From a unit to the `ProcessSpec` the shell spawns: the program itself (with what its
//! readiness and watchdog need), the s6 `finish` script with its four arguments, and exec
//! probes.

use crate::exit_status::ExitStatus;
use crate::process_spec::{EnvironmentFileSpec, Output, Placement, ProcessSpec};
use crate::recovery::Mode;
use crate::unit::{Command, ReadyCheck};

use super::Service;

fn argv_of(command: &Command) -> Vec<String> {
    match command {
        Command::Argv(argv) => argv.clone(),
        Command::Shell(line) => vec!["/bin/sh".to_string(), "-c".to_string(), line.clone()],
    }
}

pub fn process_spec(service: &Service) -> ProcessSpec {
    let mut spec = common_spec(service);
    let unit = &service.unit;
    if let (Mode::SafeMode, Some(safe)) = (service.ladder.mode, &unit.recovery.safe_mode) {
        if let Some(command) = &safe.command {
            spec.argv = argv_of(command);
        }
        spec.environment.extend(
            safe.environment
                .iter()
                .map(|(k, v)| (k.clone(), Some(v.clone()))),
        );
    }
    spec.notify_socket = unit.ready.check == ReadyCheck::Notify || unit.watchdog.is_some();
    spec.readiness_fd = match unit.ready.check {
        ReadyCheck::Fd(fd) => Some(fd),
        _ => None,
    };
    spec.watchdog_usec = unit
        .watchdog
        .as_ref()
        .map(|watchdog| u64::try_from(watchdog.timeout.as_micros()).unwrap_or(u64::MAX));
    spec.stale_files = unit.stale_files.clone();
    spec.limits = unit.limits.clone();
    spec.output = output_of(service);
    spec.s6_service_dir = unit.s6.as_ref().map(|_| unit.source.clone());
    spec
}

/// Where the program's output goes. Only the service's own program is captured; tini
/// mode's command and s6 loggers keep what they had unless their unit asks.
pub fn output_of(service: &Service) -> Output {
    match &service.unit.log {
        Some(config) => Output::Capture(config.clone()),
        None if service.foreground || service.logger_for.is_some() => Output::Inherit,
        None => Output::SystemDefault,
    }
}

/// A recovery hook (`restore`): run as the service is, in a session of its own, told
/// which service, incident and step it runs for.
pub fn hook_spec(
    service: &Service,
    command: &Command,
    incident: u64,
    step: crate::unit::RecoveryStep,
) -> ProcessSpec {
    let mut spec = probe_spec(service, command);
    spec.name = format!("{}/{step}", service.unit.name);
    spec.environment.extend([
        (
            "PHOENIX_SERVICE".to_string(),
            Some(service.unit.name.clone()),
        ),
        ("PHOENIX_INCIDENT".to_string(), Some(incident.to_string())),
        ("PHOENIX_STEP".to_string(), Some(step.name().to_string())),
    ]);
    spec
}

/// An exec probe: the probe's command, run as the service is (user, directory,
/// environment), in a session of its own, with nothing of the service's pipes.
pub fn probe_spec(service: &Service, command: &Command) -> ProcessSpec {
    let mut spec = common_spec(service);
    spec.name = format!("{}/probe", service.unit.name);
    spec.argv = argv_of(command);
    spec.placement = Placement::NewSession;
    spec.stdin_null = true;
    spec.stdout_pipe = None;
    spec.stdin_pipe = None;
    spec
}

/// What every process of a service shares: argv, credentials, directory, environment.
fn common_spec(service: &Service) -> ProcessSpec {
    let unit = &service.unit;
    let argv = argv_of(&unit.command);
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
    // Phoenix's own notify socket and watchdog (from a systemd above it) are not the
    // services': one that notified there would speak for Phoenix.
    spec.environment.extend(
        ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"].map(|name| (name.to_string(), None)),
    );
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
    let mut spec = common_spec(service);
    spec.name = format!("{}/finish", service.unit.name);
    spec.stdin_pipe = None;
    spec.argv = argv;
    spec.placement = Placement::NewSession;
    Some(spec)
}
