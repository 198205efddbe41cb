//! Phoenix as PID 1 of a real OCI container under `runc` (DESIGN.md §3, §6): exit status
//! as the runtime reports it, signals sent with `runc kill`, reaping, services driven with
//! `phoenixctl` through `runc exec`, and an orderly stop inside Docker's grace period.

mod exit_status;
mod phoenixctl;
mod reaping;
mod rootfs;
mod runtime;
mod shutdown;
mod signals;
