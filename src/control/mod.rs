//! The control plane: a pure protocol, and in the shell the socket server, the event log
//! and the paths both ends agree on; and `phoenixctl`'s side: its command line, its socket
//! client with `--wait`, and the rendering of what it prints.

pub mod client;
pub mod ctl_cli;
pub mod paths;
pub mod protocol;
pub mod render;
pub mod wait;

#[cfg(test)]
mod fake_server;
