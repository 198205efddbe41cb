//! Phoenix as a machine's init (DESIGN.md §10), proven by booting Debian's kernel under
//! qemu with Phoenix as `/init` (`machine.rs`): stage 1 and the power paths (`power.rs`),
//! `phoenix.rescue=shell` (`rescue.rs`), a hardware watchdog resetting a wedged machine
//! (`watchdog.rs`), the log on `/dev/kmsg` without a console (`console.rs`), nothing to run
//! logged and never an exit (`nothing_to_run.rs`); and, in the usual PID-namespace tier,
//! that none of it happens in a container and what the power verbs mean there
//! (`container.rs`).

mod console;
mod container;
mod machine;
mod nothing_to_run;
mod power;
mod rescue;
mod watchdog;
