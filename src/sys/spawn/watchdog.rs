//! `WATCHDOG_PID` (DESIGN.md §4.3): the child's own pid, which exists only after the fork,
//! when the child may no longer allocate. The variable is allocated before the fork with
//! room for any pid, and the child writes its digits in place. Nothing here may allocate,
//! lock or fail in the child: `fill` is plain arithmetic on memory that already exists.

use std::ffi::c_char;

const PREFIX: &[u8] = b"WATCHDOG_PID=";

/// Digits of the largest value `fill` is given (`u32::MAX` has 10; 20 is `u64`'s).
const MAX_DIGITS: usize = 20;

/// `WATCHDOG_PID=` and room for the digits and the terminating NUL; until filled it reads
/// as `WATCHDOG_PID=` with an empty value.
pub(super) struct PidVariable {
    bytes: Vec<u8>,
}

impl PidVariable {
    pub(super) fn new() -> PidVariable {
        let mut bytes = PREFIX.to_vec();
        bytes.resize(PREFIX.len() + MAX_DIGITS + 1, 0);
        PidVariable { bytes }
    }

    /// The NUL-terminated `KEY=VALUE` string, for the environment's pointer array. Take it
    /// again after `fill`: a pointer taken before the write must not be used after it.
    pub(super) fn as_ptr(&self) -> *const c_char {
        self.bytes.as_ptr().cast()
    }

    /// Writes `pid`'s decimal digits and a NUL after the prefix. Async-signal-safe: no
    /// allocation, no call at all, and no panic (every access is checked).
    pub(super) fn fill(&mut self, pid: u32) {
        let mut digits = [0u8; MAX_DIGITS];
        let mut count = 0;
        let mut rest = pid;
        loop {
            if let Some(digit) = digits.get_mut(count) {
                // rest % 10 < 10, so the cast keeps it whole.
                *digit = b'0' + (rest % 10) as u8;
            }
            count += 1;
            rest /= 10;
            if rest == 0 || count >= MAX_DIGITS {
                break;
            }
        }
        let Some(value) = self.bytes.get_mut(PREFIX.len()..) else {
            return;
        };
        let reversed = digits.iter().take(count).rev();
        for (slot, digit) in value.iter_mut().zip(reversed) {
            *slot = *digit;
        }
        if let Some(end) = value.get_mut(count) {
            *end = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(variable: &PidVariable) -> String {
        // SAFETY: the buffer always holds a NUL (its last byte is never written).
        let value = unsafe { std::ffi::CStr::from_ptr(variable.as_ptr()) };
        value.to_str().unwrap().to_string()
    }

    #[test]
    fn fills_the_digits_in_place() {
        let mut variable = PidVariable::new();
        assert_eq!(text(&variable), "WATCHDOG_PID=");
        for (pid, expected) in [
            (7, "WATCHDOG_PID=7"),
            (4_194_304, "WATCHDOG_PID=4194304"),
            (10, "WATCHDOG_PID=10"),
            (u32::MAX, "WATCHDOG_PID=4294967295"),
            (0, "WATCHDOG_PID=0"),
        ] {
            let before = variable.as_ptr();
            variable.fill(pid);
            assert_eq!(text(&variable), expected);
            assert_eq!(variable.as_ptr(), before, "the buffer never moves");
        }
    }
}
