//! Phoenix: a PID-1 init and process supervisor.
pub mod unit;
