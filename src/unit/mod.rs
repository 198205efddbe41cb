//! What a service is: its unit, read from TOML files and s6-style directories, plus the
//! small value types units are written in (durations, signals). Pure: no system calls.

pub mod duration;
pub mod signal;

pub use duration::{ParseDurationError, format_duration, parse_duration};
pub use signal::{ParseSignalError, Signal};
