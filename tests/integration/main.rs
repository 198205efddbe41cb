//! Phoenix's integration tests: one test binary (`cargo test --test integration`) that runs
//! the built `phoenix` as PID 1 of a fresh PID namespace per test and asserts on effects
//! only: exit status, files the children write, `/proc`. Needs root (`unshare --pid`).
//!
//! `PHOENIX_TEST_BIN=/usr/bin/tini` runs the tini-compatible tests against tini itself.

// Test code: a panic here is a failed test, so helpers may index as tests do.
#![allow(clippy::indexing_slicing)]

mod alerts;
mod boot;
mod container;
mod contrib;
mod control;
mod disk;
mod faults;
mod harness;
mod http;
mod logs;
mod procfs;
mod recovery;
mod rising;
mod security;
mod services;
mod tini_mode;
mod upward;
mod wait;
mod watch;
