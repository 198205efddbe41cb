//! The diagnosis: why rescue runs, who it is, the mounts, the runtime and state
//! directories and their disk space, which units can be read (and why not), what is
//! running. Reads `/proc` and the filesystem; changes nothing. A problem is whatever
//! stops the rescue path or Phoenix from doing its job; everything else is a fact.

use std::fs;
use std::io::ErrorKind;
use std::path::Path;

use crate::cli::Options;
use crate::services::Directory;
use crate::{procfs, sys};

/// How many processes the report lists before it only counts them.
const MAX_PROCESSES: usize = 50;

/// A filesystem with less than this available is full.
const FULL_BELOW_BYTES: u64 = 1 << 20;

#[derive(Debug, Default)]
pub struct Report {
    pub lines: Vec<String>,
    pub problems: usize,
}

impl Report {
    fn fact(&mut self, line: String) {
        self.lines.push(line);
    }

    fn problem(&mut self, line: String) {
        self.problems += 1;
        self.lines.push(format!("problem: {line}"));
    }

    fn detail(&mut self, line: String) {
        self.lines.push(format!("  {line}"));
    }

    fn detail_problem(&mut self, line: String) {
        self.problems += 1;
        self.lines.push(format!("  problem: {line}"));
    }
}

pub fn diagnose(options: &Options, services: &Directory) -> Report {
    let mut report = Report::default();
    if let Some(reason) = &options.reason {
        report.fact(format!("reason: {reason}"));
    }
    let pid = std::process::id();
    let role = if pid == 1 { "PID 1" } else { "not PID 1" };
    report.fact(format!("pid: {pid} ({role})"));
    check_mounts(&mut report);
    check_directory(&mut report, "runtime dir", &options.runtime_dir);
    check_directory(&mut report, "state dir", &options.state_dir);
    check_services(&mut report, services);
    list_processes(&mut report);
    match report.problems {
        0 => report.fact("no problems found".into()),
        n => report.fact(format!("{n} problem(s) found")),
    }
    report
}

fn check_mounts(report: &mut Report) {
    let mountinfo = match fs::read_to_string("/proc/self/mountinfo") {
        Ok(text) => text,
        Err(error) => {
            let why = format!("/proc is not mounted (/proc/self/mountinfo: {error})");
            return report.problem(why);
        }
    };
    let mounts: Vec<Mount> = mountinfo.lines().filter_map(Mount::parse).collect();
    let root = match mounts.iter().rev().find(|mount| mount.point == "/") {
        Some(root) if root.is_read_only => format!("/ is read-only ({})", root.kind),
        Some(root) => format!("/ is read-write ({})", root.kind),
        None => "/ is not in the mount table".into(),
    };
    let proc_state = if mounts.iter().any(|mount| mount.point == "/proc") {
        "/proc is mounted"
    } else {
        "/proc is not a mount point"
    };
    report.fact(format!("mounts: {}; {root}; {proc_state}", mounts.len()));
}

/// One line of `/proc/self/mountinfo`: `36 35 98:0 /mnt1 /mnt2 rw,noatime - ext3 ...`.
struct Mount<'a> {
    point: &'a str,
    kind: &'a str,
    is_read_only: bool,
}

impl<'a> Mount<'a> {
    fn parse(line: &'a str) -> Option<Mount<'a>> {
        let (before, after) = line.split_once(" - ")?;
        let mut fields = before.split(' ');
        let point = fields.nth(4)?;
        let options = fields.next()?;
        Some(Mount {
            point,
            kind: after.split(' ').next()?,
            is_read_only: options.split(',').any(|option| option == "ro"),
        })
    }
}

fn check_directory(report: &mut Report, label: &str, path: &Path) {
    let shown = path.display();
    match fs::metadata(path) {
        Err(error) if error.kind() == ErrorKind::NotFound => {
            // The space it would be created in: that of the nearest existing parent.
            let absolute = std::path::absolute(path).unwrap_or(path.to_path_buf());
            let parent = absolute.ancestors().skip(1).find(|parent| parent.is_dir());
            let space = parent
                .and_then(|parent| Some((parent, sys::disk_space(parent).ok()?)))
                .map(|(parent, space)| {
                    format!("; {} on {}", describe_space(&space), parent.display())
                })
                .unwrap_or_default();
            report.fact(format!(
                "{label} {shown}: missing (rescue recreates it){space}"
            ));
        }
        Err(error) => report.problem(format!("{label} {shown}: {error}")),
        Ok(metadata) if !metadata.is_dir() => {
            report.problem(format!("{label} {shown}: not a directory"));
        }
        Ok(_) => {
            let space = sys::disk_space(path);
            let described = match &space {
                Ok(space) => describe_space(space),
                Err(error) => format!("disk space unknown ({error})"),
            };
            let is_full = space.is_ok_and(|space| space.available_bytes < FULL_BELOW_BYTES);
            if !sys::is_writable(path) {
                report.problem(format!("{label} {shown}: not writable; {described}"));
            } else if is_full {
                report.problem(format!(
                    "{label} {shown}: the filesystem is full; {described}"
                ));
            } else {
                report.fact(format!("{label} {shown}: writable; {described}"));
            }
        }
    }
}

fn describe_space(space: &sys::DiskSpace) -> String {
    let used = space.total_bytes.saturating_sub(space.free_bytes);
    let percent = used
        .saturating_mul(100)
        .checked_div(space.total_bytes)
        .unwrap_or(0);
    format!(
        "{} available of {} ({percent}% used)",
        human_bytes(space.available_bytes),
        human_bytes(space.total_bytes)
    )
}

fn human_bytes(bytes: u64) -> String {
    let units = ["KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = "B";
    for next in units {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = next;
    }
    if unit == "B" {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {unit}")
    }
}

fn check_services(report: &mut Report, services: &Directory) {
    let shown = services.path.display();
    if let Some(error) = &services.error {
        return report.problem(format!("services {shown}: {error}"));
    }
    let readable = services.units.len();
    let unreadable = services.unreadable.len();
    report.fact(format!(
        "services {shown}: {readable} readable unit(s), {unreadable} unreadable"
    ));
    for unit in &services.units {
        let mut line = format!("{}: {}, {}", unit.name, unit.source, unit.command);
        if !unit.is_enabled {
            line.push_str("; not started (disabled)");
        }
        if !unit.skipped.is_empty() {
            line.push_str(&format!("; skipped: {}", unit.skipped.join(", ")));
        }
        report.detail(line);
        for note in &unit.notes {
            report.detail(format!("{}: note: {note}", unit.name));
        }
    }
    for unit in &services.unreadable {
        report.detail_problem(unit.to_string());
    }
}

fn list_processes(report: &mut Report) {
    let Ok(entries) = fs::read_dir("/proc") else {
        return report.fact("processes: unknown (no /proc)".into());
    };
    // Kernel threads (kthreadd, pid 2, and its children) are no business of an init.
    let mut processes: Vec<(u32, procfs::Process)> = entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
        .filter_map(|pid| Some((pid, procfs::process(pid)?)))
        .filter(|(pid, process)| *pid != 2 && process.parent != 2)
        .collect();
    processes.sort_unstable_by_key(|(pid, _)| *pid);
    report.fact(format!("processes: {} (pid, state, name)", processes.len()));
    for (pid, process) in processes.iter().take(MAX_PROCESSES) {
        report.detail(format!("{pid:>7} {} {}", process.state, process.name));
    }
    if processes.len() > MAX_PROCESSES {
        report.detail(format!("… and {} more", processes.len() - MAX_PROCESSES));
    }
}

#[cfg(test)]
mod tests {
    use super::{Mount, human_bytes};

    #[test]
    fn mountinfo_lines() {
        let line = "36 35 98:0 / / ro,noatime master:1 - ext4 /dev/root rw,errors=continue";
        let mount = Mount::parse(line).unwrap();
        assert_eq!(
            (mount.point, mount.kind, mount.is_read_only),
            ("/", "ext4", true)
        );
        let line = "40 36 0:5 / /proc rw,nosuid - proc proc rw";
        let mount = Mount::parse(line).unwrap();
        assert_eq!(
            (mount.point, mount.kind, mount.is_read_only),
            ("/proc", "proc", false)
        );
        assert!(Mount::parse("garbage").is_none());
    }

    #[test]
    fn sizes() {
        let rows = [
            (0, "0 B"),
            (1023, "1023 B"),
            (1536, "1.5 KiB"),
            (5 << 30, "5.0 GiB"),
        ];
        for (bytes, text) in rows {
            assert_eq!(human_bytes(bytes), text);
        }
    }
}
