//! The HTTP endpoint of a live PID-1 Phoenix (issue 12), with real `curl` and raw sockets:
//! every path and error status, and floods — slow, many, pipelined — during which a
//! crashing service is still restarted at once.

pub mod client;
mod endpoints;
mod flood;
mod metrics;
