//! Judging a death: success or failure, and why. A death while Phoenix is stopping the
//! service is a success; so is a listed exit code — unless a daemon died before
//! `min-uptime`, which is a failure whatever its code (a crash loop that exits 0 is still a
//! crash loop).

use std::time::{Duration, Instant};

use crate::exit_status::ExitStatus;
use crate::unit::{Kind, Unit, format_duration};

/// s6's `finish` exit code for "do not restart".
pub const PERMANENT_FAILURE: u8 = 125;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Success,
    Failure,
    /// Never restart (s6 `finish` exited 125).
    Permanent,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Success => "success",
            Verdict::Failure => "failure",
            Verdict::Permanent => "permanent",
        }
    }

    pub fn from_name(name: &str) -> Option<Verdict> {
        [Verdict::Success, Verdict::Failure, Verdict::Permanent]
            .into_iter()
            .find(|verdict| verdict.name() == name)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Death {
    pub at: Instant,
    pub status: ExitStatus,
    pub uptime: Duration,
    pub verdict: Verdict,
    pub reason: String,
    /// What the program wrote last before it died, when its output is captured.
    pub last_lines: Vec<String>,
}

impl Death {
    pub fn describe(&self) -> String {
        if self.reason.is_empty() {
            self.status.to_string()
        } else {
            format!("{}, {}", self.status, self.reason)
        }
    }
}

pub fn classify(
    unit: &Unit,
    status: ExitStatus,
    uptime: Duration,
    stopping: bool,
    now: Instant,
) -> Death {
    let listed =
        matches!(status, ExitStatus::Code(code) if unit.restart.success_exit_codes.contains(&code));
    let too_soon = unit.kind == Kind::Daemon && uptime < unit.restart.min_uptime;
    let (verdict, reason) = if stopping {
        (Verdict::Success, "stopped".to_string())
    } else if listed && too_soon {
        let reason = format!(
            "after {}, before min-uptime {}",
            format_millis(uptime),
            format_duration(unit.restart.min_uptime)
        );
        (Verdict::Failure, reason)
    } else if listed {
        (Verdict::Success, String::new())
    } else {
        (Verdict::Failure, String::new())
    };
    Death {
        at: now,
        status,
        uptime,
        verdict,
        reason,
        last_lines: Vec::new(),
    }
}

fn format_millis(duration: Duration) -> String {
    format_duration(Duration::from_millis(duration.as_millis() as u64))
}
