//! Phoenix as PID 1 of a real OCI container under `runc` (DESIGN.md §3, §6): exit status
//! as the runtime reports it, signals sent with `runc kill`, reaping, services driven with
//! `phoenixctl` through `runc exec`, an orderly stop inside Docker's grace period, a
//! read-only root, and the rule that decides between tini and services mode in an image.

mod exit_status;
mod mode;
mod phoenixctl;
mod read_only;
mod reaping;
mod rootfs;
mod runtime;
mod shutdown;
mod signals;
