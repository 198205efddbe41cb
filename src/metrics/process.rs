//! Phoenix's own `process_*` series, the names every Prometheus client library uses. Only
//! the shell can read them (`/proc/self`), so it fills a `ProcessStats` and appends this
//! block to the core's scrape; the rendering itself is pure.

use super::{Kind, Writer};

/// What `sys::process_stats::read` found; a value it could not read is `None` and its
/// series is left out.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProcessStats {
    pub resident_memory_bytes: Option<u64>,
    pub virtual_memory_bytes: Option<u64>,
    /// User plus system time.
    pub cpu_seconds: Option<f64>,
    pub open_fds: Option<u64>,
    pub max_fds: Option<u64>,
    /// Since the Unix epoch.
    pub start_time_seconds: Option<f64>,
}

/// The `process_*` block for one scrape.
pub fn render_process(stats: &ProcessStats) -> String {
    let mut out = String::with_capacity(1024);
    let mut writer = Writer::new(&mut out);
    let as_f64 = |value: Option<u64>| value.map(|v| v as f64);
    let series = [
        (
            "process_cpu_seconds_total",
            Kind::Counter,
            "Total user and system CPU time spent in seconds.",
            stats.cpu_seconds,
        ),
        (
            "process_open_fds",
            Kind::Gauge,
            "Number of open file descriptors.",
            as_f64(stats.open_fds),
        ),
        (
            "process_max_fds",
            Kind::Gauge,
            "Maximum number of open file descriptors.",
            as_f64(stats.max_fds),
        ),
        (
            "process_resident_memory_bytes",
            Kind::Gauge,
            "Resident memory size in bytes.",
            as_f64(stats.resident_memory_bytes),
        ),
        (
            "process_virtual_memory_bytes",
            Kind::Gauge,
            "Virtual memory size in bytes.",
            as_f64(stats.virtual_memory_bytes),
        ),
        (
            "process_start_time_seconds",
            Kind::Gauge,
            "Start time of the process since unix epoch in seconds.",
            stats.start_time_seconds,
        ),
    ];
    for (name, kind, help, value) in series {
        if let Some(value) = value {
            writer.family(name, kind, help);
            writer.sample(name, &[], value);
        }
    }
    out
}
