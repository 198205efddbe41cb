//! Seeing what a crash does not show (DESIGN.md §4.1–§4.3, §4.7), with Phoenix as PID 1
//! and the clients users have: readiness by `systemd-notify`, s6's `s6-notifyoncheck` and
//! polled exec, tcp and http checks against a real `python3 -m http.server`; health checks
//! that turn unhealthy, degraded and healthy again; hangs found by missing `WATCHDOG=1`
//! pings and a still heartbeat file; stale files cleared before a start; probe timers as
//! the only wake-ups; and the repository's demo units doing what the README shows.

mod demo;
mod health;
mod idle;
mod readiness;
pub mod servers;
mod stale_files;
mod watchdog;
