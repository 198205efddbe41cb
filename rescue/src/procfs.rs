//! What `/proc` says about a process: its name, state and parent; and this process's
//! children. Read-only; an absent `/proc` or a process gone meanwhile reads as `None` or
//! empty.

use std::fs;

/// One line of `/proc/PID/stat`, the fields the rescue path uses.
pub struct Process {
    pub name: String,
    /// `R`, `S`, `Z`, …
    pub state: char,
    pub parent: u32,
}

/// `PID (NAME) STATE PPID …`, where NAME may hold spaces and parentheses.
pub fn process(pid: u32) -> Option<Process> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (before, after) = stat.rsplit_once(')')?;
    let (_, name) = before.split_once('(')?;
    let mut fields = after.split_whitespace();
    Some(Process {
        name: name.to_string(),
        state: fields.next()?.chars().next()?,
        parent: fields.next()?.parse().ok()?,
    })
}

/// The process group of `pid` (field 5 of `/proc/PID/stat`).
pub fn group(pid: u32) -> Option<i32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, after) = stat.rsplit_once(')')?;
    after.split_whitespace().nth(2)?.parse().ok()
}

/// Every process `/proc` shows.
pub fn all_pids() -> Vec<u32> {
    fs::read_dir("/proc")
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

pub fn parent(pid: u32) -> Option<u32> {
    process(pid).map(|process| process.parent)
}

/// The children of this process (a single thread: its pid is its only task).
pub fn own_children() -> Vec<i32> {
    let pid = std::process::id();
    fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|word| word.parse().ok())
        .collect()
}
