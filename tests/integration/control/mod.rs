//! `phoenixctl` and the control socket against a live Phoenix as PID 1 (issue 4): every
//! verb, `--wait`, `check`, the event stream and its log, access control, and a socket that no
//! client can use to hurt PID 1 or its services.

mod access;
mod budget;
mod check;
pub mod ctl;
mod events;
mod history;
mod robustness;
mod verbs;
