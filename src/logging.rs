//! Phoenix's log lines on stderr: `[phoenix] warn: message`. Filters come from
//! `PHOENIX_LOG`, then `RUST_LOG` (env_logger syntax), else from tini-style verbosity.
//! A machine's PID 1 stamps each console line with the time since boot, as the kernel
//! does, takes `phoenix.log=LEVEL` over both, and writes to `/dev/kmsg` when there is no
//! console (one record per line, with its syslog priority).
//!
//! Lines that the console cannot take at once are dropped and counted, never waited for
//! (`sys::log_console`).
//!
//! The loop holds the lines of one step ([`hold`]) and writes them once the step's leading
//! spawns are done ([`release`]): a restart's fork does not wait behind the transition's
//! log line. At most `MAX_HELD` bytes are held; a longer burst is written as it comes.
//! `/dev/kmsg` takes one record per write, and its lines are never held.

use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::sys::log_console::Console;

/// Bytes of log lines held at most before they are written anyway.
const MAX_HELD: usize = 64 * 1024;

static HOLDING: AtomicBool = AtomicBool::new(false);
/// The lines held, and their total length.
static HELD: Mutex<(Vec<String>, usize)> = Mutex::new((Vec::new(), 0));
/// Phoenix's console, written without ever blocking; opened with the logger.
static CONSOLE: Mutex<Option<Console>> = Mutex::new(None);

/// Writes `line` to the console (dropped and counted when it cannot take it now).
fn to_console(line: &str) {
    if let Ok(mut console) = CONSOLE.lock()
        && let Some(console) = console.as_mut()
    {
        let _ = console.write(line.as_bytes());
    }
}

/// How a line looks and where it goes.
enum Style {
    /// `[phoenix] level: message` on stderr.
    Plain,
    /// A machine's console: the time since boot first, as the kernel's lines have it.
    SinceBoot,
    /// `/dev/kmsg`: `<priority>phoenix: level: message`, one record per write.
    Kmsg(Mutex<std::fs::File>),
}

/// env_logger's filters, Phoenix's format, and the holding of lines.
struct PhoenixLogger {
    filters: env_logger::Logger,
    style: Style,
}

fn priority(level: log::Level) -> u8 {
    match level {
        log::Level::Error => 3,
        log::Level::Warn => 4,
        log::Level::Info => 6,
        log::Level::Debug | log::Level::Trace => 7,
    }
}

impl log::Log for PhoenixLogger {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        self.filters.enabled(metadata)
    }

    fn log(&self, record: &log::Record) {
        if !self.filters.matches(record) {
            return;
        }
        let level = record.level().as_str().to_ascii_lowercase();
        let line = match &self.style {
            Style::Plain => format!("[phoenix] {level}: {}\n", record.args()),
            Style::SinceBoot => {
                let uptime = crate::sys::machine_console::since_boot();
                format!(
                    "[{:5}.{:06}] [phoenix] {level}: {}\n",
                    uptime.as_secs(),
                    uptime.subsec_micros(),
                    record.args()
                )
            }
            Style::Kmsg(kmsg) => {
                let line = format!(
                    "<{}>phoenix: {level}: {}\n",
                    priority(record.level()),
                    record.args()
                );
                if let Ok(mut kmsg) = kmsg.lock() {
                    let _ = kmsg.write_all(line.as_bytes());
                }
                return;
            }
        };
        if HOLDING.load(Ordering::Relaxed)
            && let Ok(mut held) = HELD.lock()
        {
            held.1 += line.len();
            held.0.push(line);
            if held.1 < MAX_HELD {
                return;
            }
            let (lines, _) = std::mem::take(&mut *held);
            lines.iter().for_each(|line| to_console(line));
            return;
        }
        to_console(&line);
    }

    fn flush(&self) {}
}

/// From now on, log lines are held until [`release`].
pub fn hold() {
    HOLDING.store(true, Ordering::Relaxed);
}

/// Writes the lines held since [`hold`], and stops holding.
pub fn release() {
    HOLDING.store(false, Ordering::Relaxed);
    let lines = match HELD.lock() {
        Ok(mut held) if !held.0.is_empty() => std::mem::take(&mut *held).0,
        _ => return,
    };
    lines.iter().for_each(|line| to_console(line));
}

/// tini's verbosity scale mapped onto log levels: 0 errors, 1 warnings, 2 info, 3 debug,
/// 4 and above trace.
pub fn level_for_verbosity(verbosity: u8) -> log::LevelFilter {
    match verbosity {
        0 => log::LevelFilter::Error,
        1 => log::LevelFilter::Warn,
        2 => log::LevelFilter::Info,
        3 => log::LevelFilter::Debug,
        _ => log::LevelFilter::Trace,
    }
}

pub fn init(verbosity: u8) {
    install(builder(verbosity), Style::Plain);
}

/// A machine's log: `level` from the kernel command line, `kmsg` when there is no console.
pub fn init_machine(verbosity: u8, level: Option<log::LevelFilter>, kmsg: Option<std::fs::File>) {
    let mut builder = builder(verbosity);
    if let Some(level) = level {
        builder.filter_level(level);
    }
    let style = match kmsg {
        Some(kmsg) => Style::Kmsg(Mutex::new(kmsg)),
        None => Style::SinceBoot,
    };
    install(builder, style);
}

fn install(mut builder: env_logger::Builder, style: Style) {
    if let Ok(mut console) = CONSOLE.lock()
        && console.is_none()
    {
        *console = Some(Console::open());
    }
    let filters = builder.build();
    let max_level = filters.filter();
    // A second init (tests, or a machine's after the first line) keeps the first logger.
    if log::set_boxed_logger(Box::new(PhoenixLogger { filters, style })).is_ok() {
        log::set_max_level(max_level);
    }
}

fn builder(verbosity: u8) -> env_logger::Builder {
    let mut builder = env_logger::Builder::new();
    builder.filter_level(level_for_verbosity(verbosity));
    if let Some(filters) = ["PHOENIX_LOG", "RUST_LOG"]
        .iter()
        .find_map(|name| std::env::var(name).ok())
    {
        builder.parse_filters(&filters);
    }
    builder
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbosity_scale_matches_tini() {
        assert_eq!(level_for_verbosity(0), log::LevelFilter::Error);
        assert_eq!(level_for_verbosity(1), log::LevelFilter::Warn);
        assert_eq!(level_for_verbosity(2), log::LevelFilter::Info);
        assert_eq!(level_for_verbosity(9), log::LevelFilter::Trace);
    }
}
