//! The control plane: a pure protocol and (in the shell) the socket server and event log.

pub mod protocol;
