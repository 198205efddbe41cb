//! Signalling processes and Phoenix's own process attributes (subreaper, parent-death
//! signal). "Everything" means the whole PID namespace when Phoenix is its PID 1, and only
//! Phoenix's descendants otherwise — `kill(-1)` from a subreaper would hit the whole host.

use std::collections::HashMap;

use crate::core::{Pid, Target};
use crate::unit::Signal;

pub fn is_pid1() -> bool {
    std::process::id() == 1
}

/// PID 1 of a machine rather than of a container: no `container` variable (systemd-nspawn,
/// podman and LXC set it), and either no `/proc` mounted at start (every container runtime
/// mounts one; a kernel starts its init without) or a `/proc` of the initial PID
/// namespace, as an initramfs that switched root to Phoenix leaves it. Decided once, at
/// the first call.
pub fn is_machine_init() -> bool {
    static MACHINE_INIT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *MACHINE_INIT.get_or_init(|| {
        is_pid1()
            && std::env::var_os("container").is_none()
            && (!std::path::Path::new("/proc/self").exists() || is_initial_pid_namespace())
    })
}

/// `/proc` is this PID namespace's (`/proc/self` is 1: a host's `/proc` seen from a
/// container names Phoenix by its pid out there) and shows the kernel's threads (`kthreadd`
/// is PID 2, child of PID 0), which only the initial PID namespace sees.
fn is_initial_pid_namespace() -> bool {
    let is_own_proc = std::fs::read_link("/proc/self").is_ok_and(|pid| pid.as_os_str() == "1");
    let has_kthreadd = std::fs::read_to_string("/proc/2/stat").is_ok_and(|stat| is_kthreadd(&stat));
    is_own_proc && has_kthreadd
}

/// A `/proc/PID/stat` line of the kernel's thread daemon: pid 2, parent 0.
fn is_kthreadd(stat: &str) -> bool {
    stat.split_once(") ")
        .is_some_and(|(name, rest)| name == "2 (kthreadd" && rest.split(' ').nth(1) == Some("0"))
}

pub fn set_child_subreaper() -> nix::Result<()> {
    nix::sys::prctl::set_child_subreaper(true)
}

/// Whether Phoenix already is a child subreaper (`PR_GET_CHILD_SUBREAPER`).
pub fn is_child_subreaper() -> bool {
    nix::sys::prctl::get_child_subreaper().unwrap_or(false)
}

pub fn set_parent_death_signal(signal: Signal) -> nix::Result<()> {
    // SAFETY: PR_SET_PDEATHSIG takes a signal number and touches no memory.
    let result = unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, signal.number() as libc::c_ulong) };
    nix::errno::Errno::result(result).map(drop)
}

/// Sends `signal`; a target that is already gone is not an error.
pub fn send_signal(target: Target, signal: Signal) {
    let pids = match target {
        Target::Process(pid) => vec![pid],
        Target::Group(pid) => vec![-pid],
        Target::Everything if is_pid1() => vec![-1],
        Target::Everything => descendants_of(std::process::id() as Pid),
        Target::EverythingOutside(group) => outside_group(group),
    };
    for pid in pids {
        // SAFETY: kill(2) takes plain integers.
        if unsafe { libc::kill(pid, signal.number()) } != 0 {
            let errno = nix::errno::Errno::last();
            if errno != nix::errno::Errno::ESRCH {
                log::warn!("unable to send {signal} to {pid}: {errno}");
            }
        }
    }
}

/// What `Target::Everything` reaches, less the members of the group led by `group`.
fn outside_group(group: Pid) -> Vec<Pid> {
    let table = process_table();
    let reachable: Vec<Pid> = if is_pid1() {
        table
            .iter()
            .map(|entry| entry.pid)
            .filter(|&pid| pid != 1)
            .collect()
    } else {
        descendants_in(&table, std::process::id() as Pid)
    };
    reachable
        .into_iter()
        .filter(|pid| {
            table
                .iter()
                .find(|entry| entry.pid == *pid)
                .is_some_and(|entry| entry.group != group)
        })
        .collect()
}

/// How many processes the group `pgid` holds (zombies included: a process leaves its
/// group only when reaped); with `signal`, also sends it to the group, then SIGCONT for
/// the stopped (not after SIGKILL, which needs none). An empty group, the common case,
/// costs one `kill(2)` and no `/proc` scan.
pub fn check_group(pgid: Pid, signal: Option<Signal>) -> usize {
    // kill(0) and kill(-1) mean Phoenix's own group and everything: never a service's.
    if pgid <= 1 {
        return 0;
    }
    // SAFETY: kill(2) with signal 0 only checks that the group exists.
    if unsafe { libc::kill(-pgid, 0) } != 0 && nix::errno::Errno::last() == nix::errno::Errno::ESRCH
    {
        return 0;
    }
    // The group exists, so at least one member, even if the scan raced its last exit.
    let members = process_table()
        .iter()
        .filter(|entry| entry.group == pgid)
        .count()
        .max(1);
    if let Some(signal) = signal {
        send_signal(Target::Group(pgid), signal);
        if signal != Signal::KILL {
            send_signal(Target::Group(pgid), Signal::CONT);
        }
    }
    members
}

/// Every process below `root`, from `/proc/*/stat`.
pub fn descendants_of(root: Pid) -> Vec<Pid> {
    descendants_in(&process_table(), root)
}

fn descendants_in(table: &[ProcessEntry], root: Pid) -> Vec<Pid> {
    let mut children: HashMap<Pid, Vec<Pid>> = HashMap::new();
    for entry in table {
        children.entry(entry.parent).or_default().push(entry.pid);
    }
    let mut found = Vec::new();
    let mut queue = vec![root];
    while let Some(parent) = queue.pop() {
        if let Some(kids) = children.get(&parent) {
            found.extend(kids);
            queue.extend(kids);
        }
    }
    found
}

/// One process as `/proc/PID/stat` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ProcessEntry {
    pid: Pid,
    parent: Pid,
    group: Pid,
}

/// Every process visible in `/proc`.
fn process_table() -> Vec<ProcessEntry> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<Pid>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let (parent, group) = parent_and_group(&stat)?;
            Some(ProcessEntry { pid, parent, group })
        })
        .collect()
}

/// The parent pid and process group from a `/proc/PID/stat` line (fields 4 and 5); the
/// command name may contain spaces and parentheses, so parse after the last ')'.
fn parent_and_group(stat: &str) -> Option<(Pid, Pid)> {
    let after_name = stat.get(stat.rfind(')')? + 1..)?;
    let mut fields = after_name.split_whitespace().skip(1);
    let parent = fields.next()?.parse().ok()?;
    let group = fields.next()?.parse().ok()?;
    Some((parent, group))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_kernels_thread_daemon_is_kthreadd() {
        assert!(is_kthreadd("2 (kthreadd) S 0 0 0 0 -1 2129984 0 0"));
        // A container's PID 2 is one of its own processes, child of its PID 1.
        assert!(!is_kthreadd("2 (sh) S 1 2 2 0 -1 4194560 0 0"));
        assert!(!is_kthreadd("2 (kthreadd) S 1 2 2 0"));
        assert!(!is_kthreadd(""));
    }

    #[test]
    fn parses_parent_and_group_after_odd_names() {
        assert_eq!(parent_and_group("12 (sh) S 7 12 12 0"), Some((7, 12)));
        assert_eq!(parent_and_group("12 (a) b) (c) R 99 1 1"), Some((99, 1)));
        assert_eq!(parent_and_group("12 (sh) S 7"), None);
        assert_eq!(parent_and_group("garbage"), None);
    }

    #[test]
    fn finds_its_own_children() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let found = descendants_of(std::process::id() as Pid);
        let pid = child.id() as Pid;
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(found.contains(&pid));
    }

    #[test]
    fn counts_and_signals_a_process_group() {
        use std::os::unix::process::CommandExt;
        let mut leader = std::process::Command::new("sleep")
            .arg("30")
            .process_group(0)
            .spawn()
            .unwrap();
        let pgid = leader.id() as Pid;
        let mut member = std::process::Command::new("sleep")
            .arg("30")
            .process_group(pgid)
            .spawn()
            .unwrap();
        assert_eq!(check_group(pgid, None), 2);
        assert_eq!(check_group(pgid, Some(Signal::KILL)), 2);
        leader.wait().unwrap();
        member.wait().unwrap();
        assert_eq!(check_group(pgid, None), 0, "reaped, the group is gone");
        assert_eq!(check_group(0, None), 0, "never Phoenix's own group");
    }
}
