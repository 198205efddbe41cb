//! Signal names and numbers as users write them: `SIGTERM`, `TERM`, `term`, `15`,
//! `RTMIN+3`. Pure: the numbers are Linux's, and a test in `sys` checks them against libc so
//! this file never has to import it.

use std::fmt;

/// A signal number, valid on Linux (1..=64).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Signal(i32);

/// The first real-time signal as glibc and musl expose it (the kernel's 32 and 33 are
/// reserved by the C library's threading).
pub const RTMIN: i32 = 34;
/// The last real-time signal on Linux.
pub const RTMAX: i32 = 64;

/// Linux's standard signal names, without the `SIG` prefix.
const NAMES: &[(&str, i32)] = &[
    ("HUP", 1),
    ("INT", 2),
    ("QUIT", 3),
    ("ILL", 4),
    ("TRAP", 5),
    ("ABRT", 6),
    ("BUS", 7),
    ("FPE", 8),
    ("KILL", 9),
    ("USR1", 10),
    ("SEGV", 11),
    ("USR2", 12),
    ("PIPE", 13),
    ("ALRM", 14),
    ("TERM", 15),
    ("STKFLT", 16),
    ("CHLD", 17),
    ("CONT", 18),
    ("STOP", 19),
    ("TSTP", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("URG", 23),
    ("XCPU", 24),
    ("XFSZ", 25),
    ("VTALRM", 26),
    ("PROF", 27),
    ("WINCH", 28),
    ("IO", 29),
    ("PWR", 30),
    ("SYS", 31),
];

/// Aliases accepted on input, never printed.
const ALIASES: &[(&str, i32)] = &[("IOT", 6), ("POLL", 29), ("CLD", 17)];

impl Signal {
    pub const HUP: Signal = Signal(1);
    pub const INT: Signal = Signal(2);
    pub const QUIT: Signal = Signal(3);
    pub const ABRT: Signal = Signal(6);
    pub const KILL: Signal = Signal(9);
    pub const USR1: Signal = Signal(10);
    pub const USR2: Signal = Signal(12);
    pub const PIPE: Signal = Signal(13);
    pub const TERM: Signal = Signal(15);
    pub const CHLD: Signal = Signal(17);
    pub const CONT: Signal = Signal(18);
    pub const STOP: Signal = Signal(19);
    pub const TSTP: Signal = Signal(20);
    pub const TTIN: Signal = Signal(21);
    pub const TTOU: Signal = Signal(22);
    pub const WINCH: Signal = Signal(28);
    pub const PWR: Signal = Signal(30);
    /// systemd's "container, please stop" signal.
    pub const RTMIN_3: Signal = Signal(RTMIN + 3);

    /// The signal with this number, if Linux has one.
    pub fn from_number(number: i32) -> Option<Signal> {
        (1..=RTMAX).contains(&number).then_some(Signal(number))
    }

    pub fn number(self) -> i32 {
        self.0
    }

    /// Every signal number Linux defines, in order.
    pub fn all() -> impl Iterator<Item = Signal> {
        (1..=RTMAX).filter(|n| !(32..RTMIN).contains(n)).map(Signal)
    }

    /// The name without `SIG`, as `kill -l` prints it (`TERM`, `RTMIN+3`).
    pub fn name(self) -> String {
        if let Some((name, _)) = NAMES.iter().find(|(_, n)| *n == self.0) {
            return (*name).to_string();
        }
        match self.0 {
            RTMIN => "RTMIN".to_string(),
            RTMAX => "RTMAX".to_string(),
            n if n > RTMIN && n < RTMAX => format!("RTMIN+{}", n - RTMIN),
            n => n.to_string(),
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            n if (32..RTMIN).contains(&n) => write!(f, "signal {n}"),
            _ => write!(f, "SIG{}", self.name()),
        }
    }
}

/// Why a signal could not be parsed; keeps the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseSignalError {
    pub input: String,
}

impl fmt::Display for ParseSignalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid signal '{}': expected a name like \"SIGTERM\", \"TERM\" or \"RTMIN+3\", or a number from 1 to {RTMAX}",
            self.input
        )
    }
}

impl std::error::Error for ParseSignalError {}

impl std::str::FromStr for Signal {
    type Err = ParseSignalError;

    fn from_str(input: &str) -> Result<Signal, ParseSignalError> {
        let error = || ParseSignalError {
            input: input.to_string(),
        };
        let trimmed = input.trim();
        if let Ok(number) = trimmed.parse::<i32>() {
            return Signal::from_number(number)
                .filter(|s| !(32..RTMIN).contains(&s.0))
                .ok_or_else(error);
        }
        let upper = trimmed.to_ascii_uppercase();
        let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
        if let Some((_, n)) = NAMES.iter().chain(ALIASES).find(|(name, _)| *name == bare) {
            return Ok(Signal(*n));
        }
        parse_realtime(bare).ok_or_else(error)
    }
}

/// `RTMIN`, `RTMIN+N`, `RTMAX`, `RTMAX-N`.
fn parse_realtime(bare: &str) -> Option<Signal> {
    let (base, rest) = if let Some(rest) = bare.strip_prefix("RTMIN") {
        (RTMIN, rest)
    } else if let Some(rest) = bare.strip_prefix("RTMAX") {
        (RTMAX, rest)
    } else {
        return None;
    };
    let number = match rest {
        "" => base,
        _ if base == RTMIN => base + rest.strip_prefix('+')?.parse::<i32>().ok()?,
        _ => base - rest.strip_prefix('-')?.parse::<i32>().ok()?,
    };
    (RTMIN..=RTMAX).contains(&number).then_some(Signal(number))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_with_and_without_prefix() {
        for (input, number) in [
            ("SIGTERM", 15),
            ("TERM", 15),
            ("term", 15),
            ("SigHup", 1),
            ("9", 9),
            ("SIGRTMIN+3", 37),
            ("RTMIN", 34),
            ("RTMAX", 64),
            ("RTMAX-1", 63),
            ("IOT", 6),
            (" USR1 ", 10),
        ] {
            assert_eq!(input.parse::<Signal>(), Ok(Signal(number)), "{input}");
        }
    }

    #[test]
    fn rejects_unknown_and_out_of_range() {
        for input in [
            "",
            "SIG",
            "NOTASIGNAL",
            "0",
            "65",
            "-1",
            "32",
            "33",
            "RTMIN+31",
            "RTMIN-1",
            "RTMAX+1",
            "15x",
        ] {
            let error = input.parse::<Signal>().unwrap_err();
            assert_eq!(error.input, input);
            assert!(error.to_string().contains("expected a name"), "{error}");
        }
    }

    #[test]
    fn names_round_trip() {
        for signal in Signal::all() {
            assert_eq!(signal.name().parse::<Signal>(), Ok(signal));
            assert_eq!(signal.to_string().parse::<Signal>(), Ok(signal));
        }
    }

    #[test]
    fn displays_with_sig_prefix() {
        assert_eq!(Signal::TERM.to_string(), "SIGTERM");
        assert_eq!(Signal::RTMIN_3.to_string(), "SIGRTMIN+3");
    }
}
