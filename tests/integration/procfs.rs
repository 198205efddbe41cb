//! What the tests read from `/proc` about processes: parents, children, states. Read-only.

use std::fs;

/// The children of `pid`, from `/proc` (empty if it is gone).
pub fn children(pid: i32) -> Vec<i32> {
    fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|word| word.parse().ok())
        .collect()
}

/// Every descendant of `pid`, children before grandchildren.
pub fn descendants(pid: i32) -> Vec<i32> {
    let mut found = children(pid);
    let mut next = 0;
    while next < found.len() {
        let grandchildren = children(found[next]);
        found.extend(grandchildren);
        next += 1;
    }
    found
}

/// A field of `/proc/<pid>/status` (`"PPid"`, `"State"`, …), if the process exists.
pub fn status_field(pid: i32, field: &str) -> Option<String> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key == field).then(|| value.trim().to_string())
    })
}

/// The one-letter state of a process (`R`, `S`, `Z`, `T`, …), if it exists.
pub fn state(pid: i32) -> Option<char> {
    status_field(pid, "State")?.chars().next()
}

/// Asleep in `epoll_wait`: blocked in the event loop, not in a step of starting up (a
/// short sleep on a spawn's pipe is an `S` too, and the wake-up after it would count).
pub fn is_blocked_in_epoll(pid: i32) -> bool {
    state(pid) == Some('S')
        && fs::read_to_string(format!("/proc/{pid}/wchan"))
            .is_ok_and(|wchan| wchan.contains("epoll_wait"))
}

/// Every process of the test's namespace whose parent is `parent` and which is a zombie.
pub fn zombie_children(parent: i32) -> Vec<i32> {
    let parent = parent.to_string();
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| status_field(pid, "PPid").as_deref() == Some(parent.as_str()))
        .filter(|&pid| state(pid) == Some('Z'))
        .collect()
}

/// The pid a process has inside its own (innermost) PID namespace, from `NSpid`.
pub fn namespace_pid(pid: i32) -> Option<i32> {
    status_field(pid, "NSpid")?
        .split_whitespace()
        .last()?
        .parse()
        .ok()
}

/// The outer pid of the descendant of `ancestor` whose namespace pid is `inner`.
pub fn outer_pid(ancestor: i32, inner: i32) -> Option<i32> {
    descendants(ancestor)
        .into_iter()
        .find(|&pid| namespace_pid(pid) == Some(inner))
}
