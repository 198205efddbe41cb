//! The kernel command line's `phoenix.*` options (DESIGN.md §10). The kernel keeps options
//! with a dot for itself (module parameters), so Phoenix reads them from `/proc/cmdline`.
//! Pure: the text comes in, the options and one warning per option it cannot use come
//! out; an unknown or malformed `phoenix.*` option is warned about and ignored.

use std::path::PathBuf;

/// `phoenix.rescue`: boot straight into `phoenix-rescue`, with a console shell or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RescueBoot {
    Plain,
    Shell,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KernelOptions {
    /// `phoenix.services=DIR`: below `--services`, above `$PHOENIX_SERVICES`.
    pub services: Option<PathBuf>,
    /// `phoenix.log=LEVEL`: `error`, `warn`, `info`, `debug`, `trace` or `off`.
    pub log: Option<log::LevelFilter>,
    pub rescue: Option<RescueBoot>,
    pub warnings: Vec<String>,
}

pub fn parse(cmdline: &str) -> KernelOptions {
    let mut options = KernelOptions::default();
    for word in cmdline.split_whitespace() {
        if !word.starts_with("phoenix.") {
            continue;
        }
        let (key, value) = match word.split_once('=') {
            Some((key, value)) => (key, Some(value)),
            None => (word, None),
        };
        match (key, value) {
            ("phoenix.services", Some(dir)) if dir.starts_with('/') => {
                options.services = Some(PathBuf::from(dir));
            }
            ("phoenix.log", Some(level)) if level.parse::<log::LevelFilter>().is_ok() => {
                options.log = level.parse().ok();
            }
            ("phoenix.rescue", None) => options.rescue = Some(RescueBoot::Plain),
            ("phoenix.rescue", Some("shell")) => options.rescue = Some(RescueBoot::Shell),
            ("phoenix.services", _) => options.warnings.push(format!(
                "kernel command line: {word}: expected phoenix.services=/ABSOLUTE/DIR, ignored"
            )),
            ("phoenix.log", _) => options.warnings.push(format!(
                "kernel command line: {word}: expected phoenix.log=error|warn|info|debug|trace|off, ignored"
            )),
            ("phoenix.rescue", _) => options.warnings.push(format!(
                "kernel command line: {word}: expected phoenix.rescue or phoenix.rescue=shell, ignored"
            )),
            _ => options.warnings.push(format!(
                "kernel command line: unknown option {word} (known: phoenix.services, phoenix.log, phoenix.rescue), ignored"
            )),
        }
    }
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_options() {
        let options = parse(
            "console=ttyS0 quiet phoenix.services=/srv/units phoenix.log=debug phoenix.rescue=shell",
        );
        assert_eq!(options.services, Some(PathBuf::from("/srv/units")));
        assert_eq!(options.log, Some(log::LevelFilter::Debug));
        assert_eq!(options.rescue, Some(RescueBoot::Shell));
        assert!(options.warnings.is_empty(), "{:?}", options.warnings);
        assert_eq!(parse("phoenix.rescue").rescue, Some(RescueBoot::Plain));
        assert_eq!(parse("ro root=/dev/sda1\n"), KernelOptions::default());
    }

    #[test]
    fn unknown_and_malformed_options_are_warned_about_and_ignored() {
        let options = parse(
            "phoenix.bogus=1 phoenix.services=relative phoenix.log=loud phoenix.rescue=maybe phoenix.services",
        );
        assert_eq!(options.services, None);
        assert_eq!(options.log, None);
        assert_eq!(options.rescue, None);
        let warnings = options.warnings.join("\n");
        for expected in [
            "unknown option phoenix.bogus=1",
            "phoenix.services=relative: expected phoenix.services=/ABSOLUTE/DIR",
            "phoenix.log=loud: expected",
            "phoenix.rescue=maybe: expected",
            "phoenix.services: expected",
        ] {
            assert!(warnings.contains(expected), "{expected} in {warnings}");
        }
        assert_eq!(options.warnings.len(), 5);
    }
}
