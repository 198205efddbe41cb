//! Phoenix with a COMMAND and no services: the drop-in for tini (DESIGN §3).

mod child;
mod exit_status;
mod forwarding;
mod idle;
mod leftovers;
mod reaping;
mod subreaper;
mod usage;
