//! The control plane: a pure protocol; in the shell the socket server (its socket file and
//! its connections), the event log and the paths both ends agree on; and `phoenixctl`'s
//! side: its command line, its socket client with `--wait`, `check`'s verdict, and what it
//! prints.

pub mod check;
pub mod client;
mod connection;
pub mod ctl_cli;
pub mod event_log;
pub mod paths;
pub mod protocol;
pub mod render;
pub mod server;
mod socket_file;
pub mod wait;

#[cfg(test)]
#[path = "tests/fake_server.rs"]
mod fake_server;
