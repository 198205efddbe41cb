//! What the child reports when a step before exec fails — the step and errno, left in the
//! `vfork::Report` it shares with the parent — and the error the parent makes of it,
//! naming the step and what it was given.

use std::path::Path;

use super::{Prepared, forget_programs};
use crate::core::{Pid, SpawnError};
use crate::process_spec::ProcessSpec;

/// Which step the child failed at, sent with the errno.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub(super) enum Step {
    Chdir = 1,
    Exec = 2,
    Stdin = 3,
    Setgroups = 4,
    Setgid = 5,
    Setuid = 6,
    Readiness = 7,
    Rlimit = 8,
    OomScore = 9,
    NoNewPrivileges = 10,
}

impl Step {
    pub(super) const ALL: [Step; 10] = [
        Step::Chdir,
        Step::Exec,
        Step::Stdin,
        Step::Setgroups,
        Step::Setgid,
        Step::Setuid,
        Step::Readiness,
        Step::Rlimit,
        Step::OomScore,
        Step::NoNewPrivileges,
    ];

    pub(super) fn from_code(code: i32) -> Option<Step> {
        Step::ALL.into_iter().find(|step| *step as i32 == code)
    }
}

pub(super) fn child_failed(
    pid: Pid,
    step: i32,
    errno: i32,
    spec: &ProcessSpec,
    prepared: &Prepared,
) -> SpawnError {
    let text = crate::sys::errno_text(errno);
    let credentials = &prepared.credentials;
    let message = match Step::from_code(step) {
        Some(Step::Stdin) => format!("stdin /dev/null: {text}"),
        Some(Step::Setgroups) => format!(
            "setgroups {:?}: {text}",
            credentials.groups.as_deref().unwrap_or_default()
        ),
        Some(Step::Setgid) => format!("setgid {}: {text}", credentials.gid.unwrap_or_default()),
        Some(Step::Setuid) => format!("setuid {}: {text}", credentials.uid.unwrap_or_default()),
        Some(Step::Chdir) => {
            let dir = spec.working_directory.as_deref().unwrap_or(Path::new(""));
            format!("chdir {}: {text}", dir.display())
        }
        Some(Step::Readiness) => format!(
            "readiness descriptor {}: {text}",
            spec.readiness_fd.unwrap_or_default()
        ),
        Some(Step::Rlimit) => {
            let asked: Vec<String> = spec
                .limits
                .resources
                .iter()
                .map(|(resource, limit)| format!("{} = {limit}", resource.name()))
                .collect();
            format!("setrlimit ([limits] {}): {text}", asked.join(", "))
        }
        Some(Step::OomScore) => format!(
            "oom-score-adjust {}: {text}",
            spec.limits.oom_score_adjust.unwrap_or_default()
        ),
        Some(Step::NoNewPrivileges) => format!("no-new-privileges: {text}"),
        Some(Step::Exec) | None => {
            forget_programs();
            format!("exec {}: {text}", prepared.path.to_string_lossy())
        }
    };
    SpawnError {
        pid: Some(pid),
        errno,
        message,
    }
}
