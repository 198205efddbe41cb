//! Phoenix as a machine's init (DESIGN.md §10): stage 1 before anything else runs — the
//! filesystems a system needs, the console, the kernel command line's `phoenix.*`
//! options, the hostname, the loopback interface, Ctrl-Alt-Del — and the final sequence
//! after the last service stopped — sync, unmount deepest first, `reboot(2)`. Only for
//! PID 1 outside a container (`sys::process::is_machine_init`); inside one none of this
//! runs. The decisions are pure (`cmdline`, `hostname`, `mount_table`); the two
//! sequences perform them through `sys`.

pub mod cmdline;
mod final_sequence;
pub mod hostname;
pub mod mount_table;
mod stage_one;

pub use final_sequence::final_sequence;
pub use stage_one::{StageOne, stage_one};
