//! Which Phoenix runs: tini mode (one command) or services mode (a directory of units, with
//! the command, if any, as the main service). The rule (README, "As a container's init"):
//!
//! - `--services DIR` or `$PHOENIX_SERVICES`: services mode over DIR.
//! - No COMMAND: the default directory `/etc/phoenix/services.d` applies, and must hold
//!   units (`ENTRYPOINT ["/sbin/phoenix"]`, or a kernel's `/init`); otherwise there is
//!   nothing to run, which is an error.
//! - A COMMAND: tini mode, unless the default directory holds units. An empty or absent
//!   default directory (a runtime's bind-mount point) never turns tini mode into services
//!   mode.
//!
//! Pure: whether a directory holds units is asked of the caller.

use std::path::{Path, PathBuf};

use crate::cli::Options;

/// Where units are looked for when neither `--services` nor `$PHOENIX_SERVICES` says.
pub const DEFAULT_SERVICES: &str = "/etc/phoenix/services.d";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// One command, as tini runs it.
    Tini,
    /// Supervise the units in this directory.
    Services(PathBuf),
}

/// Nothing to run: no command and no units in the default directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NothingToRun(pub String);

/// Decides the mode; `holds_units` says whether a directory defines any unit.
pub fn choose(
    options: &Options,
    holds_units: &dyn Fn(&Path) -> bool,
) -> Result<Mode, NothingToRun> {
    if let Some(dir) = &options.services {
        return Ok(Mode::Services(dir.clone()));
    }
    let default = Path::new(DEFAULT_SERVICES);
    if holds_units(default) {
        return Ok(Mode::Services(default.to_path_buf()));
    }
    if options.command.is_empty() && !options.check {
        return Err(NothingToRun(format!(
            "no command given and {DEFAULT_SERVICES} holds no units: give a command, \
             --services DIR, or units in {DEFAULT_SERVICES}"
        )));
    }
    Ok(Mode::Tini)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(command: &[&str], services: Option<&str>) -> Options {
        Options {
            command: command.iter().map(|s| s.to_string()).collect(),
            services: services.map(PathBuf::from),
            ..Options::default()
        }
    }

    #[test]
    fn the_mode_rule() {
        let default = || Some(Mode::Services(PathBuf::from(DEFAULT_SERVICES)));
        let given = || Some(Mode::Services(PathBuf::from("/srv/units")));
        // (command, --services, default directory holds units, mode; None: nothing to run)
        type Row<'a> = (&'a [&'a str], Option<&'a str>, bool, Option<Mode>);
        let rows: [Row; 6] = [
            (&["sh"], None, false, Some(Mode::Tini)),
            (&["sh"], None, true, default()),
            (&[], None, true, default()),
            (&[], None, false, None),
            (&["sh"], Some("/srv/units"), false, given()),
            (&[], Some("/srv/units"), true, given()),
        ];
        for (command, services, has_units, expected) in rows {
            let chosen = choose(&options(command, services), &|_| has_units).ok();
            assert_eq!(chosen, expected, "{command:?} {services:?} {has_units}");
        }
    }

    #[test]
    fn nothing_to_run_names_the_default_directory() {
        let error = choose(&options(&[], None), &|_| false).unwrap_err();
        assert!(error.0.contains(DEFAULT_SERVICES), "{error:?}");
    }

    #[test]
    fn check_without_units_validates_the_settings_alone() {
        let mut check = options(&[], None);
        check.check = true;
        assert_eq!(choose(&check, &|_| false), Ok(Mode::Tini));
    }
}
