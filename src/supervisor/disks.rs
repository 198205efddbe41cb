//! The `[[disk]]` checks the supervisor runs: a timer per disk, `Action::CheckDisk` at each
//! tick, the level the answer is at, one log line and one event per change of level, and
//! the cleanup hook at critical (at most once per interval, killed after its timeout, its
//! exit an event). Disks have their own timer ids and spawn tokens, from a base no service
//! reaches, so a hook's exit is never taken for a service's or an orphan's. Pure.
//!
//! Alerts hook in at [`Disks::on_checked`]: each change of level is a `Transition` whose
//! `step` is `(from level, to level)` and whose service is `disk:PATH`.

use std::collections::HashMap;
use std::time::Instant;

use crate::core::{Action, Pid, SpawnError, SpawnToken, Target, TimerId};
use crate::disk_check::{Level, level, may_clean};
use crate::exit_status::ExitStatus;
use crate::process_spec::{Placement, ProcessSpec};
use crate::service::{State, Transition};
use crate::unit::{DiskSettings, Signal};

/// The first disk timer id and spawn token: far above any service's.
pub const DISK_BASE: u64 = crate::service::ids::RESERVED_ABOVE;

/// Disk `index`'s tick timer.
fn tick_timer(index: usize) -> TimerId {
    DISK_BASE + 2 * index as u64
}

/// Disk `index`'s timer that kills a cleanup hook past `cleanup-timeout`.
fn kill_timer(index: usize) -> TimerId {
    DISK_BASE + 2 * index as u64 + 1
}

fn spawn_token(index: usize) -> SpawnToken {
    DISK_BASE + index as u64
}

/// Whether a timer id or spawn token is a disk's.
pub fn is_disk_id(id: u64) -> bool {
    id >= DISK_BASE
}

struct Disk {
    settings: DiskSettings,
    level: Level,
    last_used: f64,
    last_cleanup: Option<Instant>,
    /// The running cleanup hook; `Some(None)` while it is being spawned.
    hook: Option<Option<Pid>>,
}

#[derive(Default)]
pub struct Disks {
    disks: Vec<Disk>,
    /// Live cleanup hooks: their disk.
    pids: HashMap<Pid, usize>,
}

impl Disks {
    pub fn new(settings: &[DiskSettings]) -> Disks {
        Disks {
            disks: settings
                .iter()
                .map(|settings| Disk {
                    settings: settings.clone(),
                    level: Level::Ok,
                    last_used: 0.0,
                    last_cleanup: None,
                    hook: None,
                })
                .collect(),
            pids: HashMap::new(),
        }
    }

    /// A first check of every disk now; the ticks follow every interval.
    pub fn start(&self) -> Vec<Action> {
        self.disks
            .iter()
            .enumerate()
            .map(|(index, disk)| Action::CheckDisk {
                disk: index,
                path: disk.settings.path.clone(),
            })
            .collect()
    }

    pub fn on_timer(&mut self, timer: TimerId) -> Vec<Action> {
        let offset = timer.saturating_sub(DISK_BASE);
        let index = usize::try_from(offset / 2).unwrap_or(usize::MAX);
        let Some(disk) = self.disks.get_mut(index) else {
            return Vec::new();
        };
        if offset % 2 == 0 {
            return vec![Action::CheckDisk {
                disk: index,
                path: disk.settings.path.clone(),
            }];
        }
        match disk.hook {
            Some(Some(pid)) => {
                log::warn!(
                    "disk {}: cleanup still running after {}, killing it",
                    disk.settings.path.display(),
                    crate::unit::format_duration(disk.settings.cleanup_timeout)
                );
                vec![Action::Signal {
                    target: Target::Group(pid),
                    signal: Signal::KILL,
                }]
            }
            _ => Vec::new(),
        }
    }

    /// The answer to `CheckDisk`: a change of level is logged and recorded, a critical
    /// disk may run its cleanup, and the next tick is armed.
    pub fn on_checked(
        &mut self,
        index: usize,
        used: Result<f64, String>,
        now: Instant,
    ) -> Vec<Action> {
        let Some(disk) = self.disks.get_mut(index) else {
            return Vec::new();
        };
        let mut actions = vec![Action::ArmTimer {
            timer: tick_timer(index),
            deadline: now + disk.settings.interval,
        }];
        let path = disk.settings.path.display().to_string();
        let used = match used {
            Ok(used) => used,
            Err(error) => {
                log::warn!("disk {path}: unable to read its usage: {error}");
                return actions;
            }
        };
        disk.last_used = used;
        let new = level(used, disk.settings.warning, disk.settings.critical);
        if new != disk.level {
            let reason = format!(
                "{used:.1}% used (warning at {}%, critical at {}%)",
                disk.settings.warning, disk.settings.critical
            );
            match new {
                Level::Critical => log::error!("disk {path}: critical, {reason}"),
                Level::Warning => log::warn!("disk {path}: warning, {reason}"),
                Level::Ok => log::info!("disk {path}: ok, {reason}"),
            }
            actions.push(record(&path, disk.level, new, reason, None));
            disk.level = new;
        }
        let Some(argv) = disk.settings.cleanup.clone() else {
            return actions;
        };
        if may_clean(
            new,
            disk.hook.is_some(),
            disk.last_cleanup,
            disk.settings.interval,
            now,
        ) {
            log::info!("disk {path}: running cleanup {}", argv.join(" "));
            disk.last_cleanup = Some(now);
            disk.hook = Some(None);
            let mut spec =
                ProcessSpec::command(&format!("disk:{path}/cleanup"), argv, Placement::NewSession);
            spec.stdin_null = true;
            spec.environment.extend([
                ("PHOENIX_DISK_PATH".to_string(), Some(path.clone())),
                ("PHOENIX_DISK_USED".to_string(), Some(format!("{used:.1}"))),
            ]);
            actions.push(Action::Spawn {
                token: spawn_token(index),
                spec,
            });
        }
        actions
    }

    pub fn on_spawn_result(
        &mut self,
        token: SpawnToken,
        result: Result<Pid, SpawnError>,
        now: Instant,
    ) -> Vec<Action> {
        let index = usize::try_from(token.saturating_sub(DISK_BASE)).unwrap_or(usize::MAX);
        let Some(disk) = self.disks.get_mut(index) else {
            return Vec::new();
        };
        match result {
            Ok(pid) => {
                disk.hook = Some(Some(pid));
                self.pids.insert(pid, index);
                vec![Action::ArmTimer {
                    timer: kill_timer(index),
                    deadline: now + disk.settings.cleanup_timeout,
                }]
            }
            Err(error) => {
                disk.hook = None;
                let path = disk.settings.path.display().to_string();
                log::error!("disk {path}: cleanup did not start: {}", error.message);
                if let Some(pid) = error.pid {
                    self.pids.insert(pid, index);
                    disk.hook = Some(Some(pid));
                }
                let reason = format!("cleanup did not start: {}", error.message);
                vec![record(&path, disk.level, disk.level, reason, None)]
            }
        }
    }

    /// A reaped pid that is a cleanup hook's: its exit logged and recorded. `None`: not a
    /// hook.
    pub fn on_exited(&mut self, pid: Pid, status: ExitStatus) -> Option<Vec<Action>> {
        let index = self.pids.remove(&pid)?;
        let disk = self.disks.get_mut(index)?;
        disk.hook = None;
        let path = disk.settings.path.display().to_string();
        log::info!("disk {path}: cleanup ended ({status})");
        Some(vec![
            Action::CancelTimer {
                timer: kill_timer(index),
            },
            record(
                &path,
                disk.level,
                disk.level,
                format!("cleanup ended ({status})"),
                Some(status),
            ),
        ])
    }
}

/// A disk's change of level (or its hook's end, from a level to itself) as an event.
fn record(path: &str, from: Level, to: Level, reason: String, exit: Option<ExitStatus>) -> Action {
    Action::Record(Transition {
        service: format!("disk:{path}"),
        from: State::Running,
        to: State::Running,
        reason,
        exit,
        restarts: 0,
        next_attempt: None,
        health: None,
        step: Some((from.to_string(), to.to_string())),
    })
}

#[cfg(test)]
mod tests;
