//! Phoenix's log lines on stderr: `[phoenix] warn: message`. Filters come from
//! `PHOENIX_LOG`, then `RUST_LOG` (env_logger syntax), else from tini-style verbosity.
//! A machine's PID 1 stamps each console line with the time since boot, as the kernel
//! does, takes `phoenix.log=LEVEL` over both, and writes to `/dev/kmsg` when there is no
//! console (one record per line, with its syslog priority).

use std::io::Write;

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
    let mut builder = builder(verbosity);
    builder.format(|out, record| {
        let level = record.level().as_str().to_ascii_lowercase();
        writeln!(out, "[phoenix] {level}: {}", record.args())
    });
    // A second init (tests) is harmless.
    let _ = builder.try_init();
}

/// A machine's log: `level` from the kernel command line, `kmsg` when there is no console.
pub fn init_machine(verbosity: u8, level: Option<log::LevelFilter>, kmsg: Option<std::fs::File>) {
    let mut builder = builder(verbosity);
    if let Some(level) = level {
        builder.filter_level(level);
    }
    match kmsg {
        Some(kmsg) => {
            builder.target(env_logger::Target::Pipe(Box::new(kmsg)));
            builder.format(|out, record| {
                let priority = match record.level() {
                    log::Level::Error => 3,
                    log::Level::Warn => 4,
                    log::Level::Info => 6,
                    log::Level::Debug | log::Level::Trace => 7,
                };
                let level = record.level().as_str().to_ascii_lowercase();
                writeln!(out, "<{priority}>phoenix: {level}: {}", record.args())
            });
        }
        None => {
            builder.format(|out, record| {
                let uptime = crate::sys::console::since_boot();
                let level = record.level().as_str().to_ascii_lowercase();
                writeln!(
                    out,
                    "[{:5}.{:06}] [phoenix] {level}: {}",
                    uptime.as_secs(),
                    uptime.subsec_micros(),
                    record.args()
                )
            });
        }
    }
    let _ = builder.try_init();
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
