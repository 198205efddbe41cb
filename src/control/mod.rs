//! The control plane: a pure protocol, and in the shell the socket server (its socket file
//! and its connections), the event log and the paths both ends agree on.

mod connection;
pub mod event_log;
pub mod paths;
pub mod protocol;
pub mod server;
mod socket_file;
