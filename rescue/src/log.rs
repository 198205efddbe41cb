//! Log lines: stderr, one line each, prefixed `[phoenix-rescue]`. A log line that cannot
//! be written (stderr closed, a full pipe) is dropped: the rescue path never stops, let
//! alone panics, because nobody reads its output.

use std::io::Write;

/// Writes one line; see `say!`.
pub fn say(message: std::fmt::Arguments) {
    let _ = writeln!(std::io::stderr().lock(), "[phoenix-rescue] {message}");
}

/// `say!("web: started (pid {pid})")`: one log line.
macro_rules! say {
    ($($argument:tt)*) => {
        $crate::log::say(format_args!($($argument)*))
    };
}
