//! Phoenix's own process facts for `/metrics` (`process_*`): CPU time, memory and start
//! time from `/proc/self/stat`, open descriptors from `/proc/self/fd`, the descriptor
//! limit from `getrlimit`. A value that cannot be read is left out, never an error: a
//! scrape must not fail because `/proc` is not mounted.

use crate::metrics::ProcessStats;

/// Reads what it can now.
pub fn read() -> ProcessStats {
    let stat = std::fs::read_to_string("/proc/self/stat").ok();
    let fields = stat.as_deref().map(stat_fields).unwrap_or_default();
    // SAFETY: sysconf reads a configuration value and touches no memory of ours.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    // SAFETY: as above.
    let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    let ticks = u64::try_from(ticks).ok().filter(|&t| t > 0);
    let page_size = u64::try_from(page_size).ok().filter(|&p| p > 0);
    let field = |n: usize| fields.get(n).and_then(|f| f.parse::<u64>().ok());
    // Fields counted from 1 in proc(5); `stat_fields` starts at field 3 (state).
    let (utime, stime, start, vsize, rss) = (field(11), field(12), field(19), field(20), field(21));
    let cpu_seconds = match (utime, stime, ticks) {
        (Some(user), Some(system), Some(ticks)) => Some((user + system) as f64 / ticks as f64),
        _ => None,
    };
    let start_time_seconds = match (start, ticks, boot_time()) {
        (Some(start), Some(ticks), Some(boot)) => Some(boot as f64 + start as f64 / ticks as f64),
        _ => None,
    };
    ProcessStats {
        resident_memory_bytes: rss.zip(page_size).map(|(rss, page)| rss * page),
        virtual_memory_bytes: vsize,
        cpu_seconds,
        open_fds: open_fds(),
        max_fds: nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
            .ok()
            .map(|(soft, _)| soft),
        start_time_seconds,
    }
}

/// The fields after the command name (which may hold spaces and parentheses).
fn stat_fields(stat: &str) -> Vec<&str> {
    stat.rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default()
}

/// The boot time (`btime` of /proc/stat), seconds since the epoch.
fn boot_time() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    stat.lines()
        .find_map(|line| line.strip_prefix("btime "))
        .and_then(|value| value.trim().parse().ok())
}

/// Entries of /proc/self/fd, less the one the listing itself holds open.
fn open_fds() -> Option<u64> {
    let entries = std::fs::read_dir("/proc/self/fd").ok()?;
    let count = entries.count() as u64;
    Some(count.saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_name_with_spaces_and_parentheses_is_skipped() {
        let fields = stat_fields("42 (a b) c) S 1 42 42 0 -1");
        assert_eq!(fields.first(), Some(&"S"));
    }

    #[test]
    fn phoenix_reads_its_own_process_facts() {
        let stats = read();
        assert!(stats.resident_memory_bytes.is_some_and(|rss| rss > 0));
        assert!(stats.open_fds.is_some_and(|fds| fds >= 3));
        assert!(stats.cpu_seconds.is_some());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        let start = stats.start_time_seconds.unwrap();
        assert!(
            start <= now + 1.0 && start > now - 86400.0 * 365.0,
            "{start}"
        );
    }
}
