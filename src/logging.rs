//! Phoenix's log lines on stderr: `[phoenix] warn: message`. Filters come from
//! `PHOENIX_LOG`, then `RUST_LOG` (env_logger syntax), else from tini-style verbosity.
//! Lines that the console cannot take at once are dropped and counted, never waited for.

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
    let mut builder = env_logger::Builder::new();
    builder.filter_level(level_for_verbosity(verbosity));
    if let Some(filters) = ["PHOENIX_LOG", "RUST_LOG"]
        .iter()
        .find_map(|name| std::env::var(name).ok())
    {
        builder.parse_filters(&filters);
    }
    builder.format(|out, record| {
        let level = record.level().as_str().to_ascii_lowercase();
        writeln!(out, "[phoenix] {level}: {}", record.args())
    });
    // PID 1 must not block on a console nobody reads (sys::console).
    builder.target(env_logger::Target::Pipe(Box::new(
        crate::sys::console::Console::open(),
    )));
    // A second init (tests) is harmless.
    let _ = builder.try_init();
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
