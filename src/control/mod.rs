//! The control plane: a pure protocol, and in the shell the socket server, the event log
//! and the paths both ends agree on.

pub mod event_log;
pub mod paths;
pub mod protocol;
