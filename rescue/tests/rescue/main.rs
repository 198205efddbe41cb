//! The rescue crate's one integration test binary: the built `phoenix-rescue` as PID 1 of
//! a fresh PID namespace (root needed, as in CI) or as a plain subreaper, observed from
//! outside. `harness` starts and ends it; each module is one behaviour of DESIGN.md §9.

mod adopt;
mod diagnose;
mod harness;
mod lifecycle;
mod shutdown;
mod tree;
mod units;
