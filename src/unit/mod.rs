//! What a service is: its unit, read from TOML files and s6-style directories, plus the
//! small value types units are written in (durations, signals). Pure: no system calls
//! beyond reading the services directory; nothing here runs, signals or waits.

pub mod checks;
#[cfg(test)]
#[path = "tests/docs.rs"]
mod docs_tests;
pub mod duration;
pub mod error;
pub mod graph;
pub mod limits;
pub mod load;
pub mod log;
pub mod model;
pub mod parse;
pub mod recovery;
pub mod s6dir;
pub mod settings;
pub mod signal;
pub mod value;

pub use checks::{HealthConfig, OnUnhealthy, Probe, ReadyCheck, ReadyConfig, WatchdogConfig};
pub use duration::{ParseDurationError, format_duration, parse_duration};
pub use error::UnitError;
pub use graph::{Cycle, find_cycles, start_order};
pub use limits::{Limits, Resource, Rlimit};
pub use load::{LoadReport, holds_units, load_dir};
pub use log::LogConfig;
pub use model::{
    Command, EnvironmentFile, Kind, OnExhausted, RestartConfig, RestartPolicy, S6Extras,
    StopConfig, StopMode, Unit, is_valid_name,
};
pub use parse::parse_unit;
pub use recovery::{GroupConfig, RecoveryConfig, RecoveryStep, SafeMode, Strategy};
pub use settings::{
    AlertFormat, AlertSettings, CriticalAction, DiskSettings, ExitCodeSetting,
    HardwareWatchdogSettings, HttpSettings, LevelPolicy, Settings, parse_settings,
};
pub use signal::{ParseSignalError, Signal};
