//! Reference tables the README shows — signals and exit statuses — kept next to the code
//! they describe, and checked against README.md by a test so the two cannot drift.

/// (signal, tini mode, services mode, a machine's init: DESIGN.md §10)
pub const SIGNALS: &[(&str, &str, &str, &str)] = &[
    (
        "TERM, INT",
        "forwarded to the child",
        "orderly shutdown",
        "orderly shutdown, then reboot (INT: Ctrl-Alt-Del; TERM: busybox `reboot`)",
    ),
    (
        "HUP",
        "forwarded",
        "reload units (start new, stop removed, restart changed)",
        "as services mode",
    ),
    (
        "USR1, USR2",
        "forwarded",
        "forwarded to the main service, if any",
        "orderly shutdown, then halt (USR1) or power off (USR2), as busybox's `halt` and `poweroff` ask",
    ),
    (
        "WINCH, QUIT, …",
        "forwarded",
        "forwarded to the main service, if any",
        "as services mode",
    ),
    (
        "PWR, RTMIN+3",
        "forwarded",
        "orderly shutdown",
        "orderly shutdown, then power off (PWR) or halt (RTMIN+3)",
    ),
    ("CHLD", "reap", "reap", "reap"),
    ("TTIN, TTOU", "ignored", "ignored", "ignored"),
];

/// (exit status, when)
pub const EXIT_CODES: &[(&str, &str)] = &[
    ("the child's code", "the command (or main service) exited"),
    ("128+N", "it was killed by signal N"),
    ("127", "the command was not found"),
    ("126", "the command could not be executed"),
    (
        "0",
        "the status was listed with `-e`, or services mode ended in an orderly shutdown",
    ),
    (
        "the failing service's status",
        "a service's exhausted recovery escalated (`on-exhausted = \"escalate\"`)",
    ),
    (
        "1",
        "usage error, nothing to run (no command and no units), or a services directory that does not exist or cannot be read; nothing was started",
    ),
    ("0 / 1", "`--check`: valid / invalid"),
    (
        "133",
        "`phoenixctl reboot` or `on-critical-failure = \"reboot\"` in a container: start me again (systemd-nspawn's convention; `poweroff` and `halt` exit 0)",
    ),
];

/// The markdown tables as they appear in README.md.
pub fn signal_table() -> String {
    let mut out = String::from(
        "| signal | tini mode (COMMAND only) | services mode | a machine's init |\n|---|---|---|---|\n",
    );
    for (signal, tini, services, machine) in SIGNALS {
        out.push_str(&format!("| {signal} | {tini} | {services} | {machine} |\n"));
    }
    out
}

pub fn exit_code_table() -> String {
    let mut out = String::from("| exit status | when |\n|---|---|\n");
    for (code, when) in EXIT_CODES {
        out.push_str(&format!("| {code} | {when} |\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const README: &str = include_str!("../README.md");

    #[test]
    fn readme_shows_the_help_text_verbatim() {
        assert!(
            README.contains(crate::cli::HELP),
            "README.md must contain `phoenix --help` output verbatim"
        );
    }

    #[test]
    fn readme_shows_the_signal_and_exit_tables() {
        assert!(
            README.contains(&signal_table()),
            "README.md signal table differs from src/reference.rs:\n{}",
            signal_table()
        );
        assert!(
            README.contains(&exit_code_table()),
            "README.md exit table differs from src/reference.rs:\n{}",
            exit_code_table()
        );
    }
}
