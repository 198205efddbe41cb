//! The last line of defence, when the rescue loop itself failed (a panic): reap and pass
//! signals on, nothing else, with nothing that could fail again; after a SIGTERM, exit
//! once no child is left. Until then, as PID 1, it never exits.

use crate::procfs;
use crate::sys::{self, Reaped};

pub fn reap_forever() -> ! {
    say!("the rescue loop failed: only reaping and passing signals on from now");
    let signals = sys::catchable_signals();
    let _ = sys::block_signals(&signals);
    let everything = if std::process::id() == 1 {
        vec![-1]
    } else {
        Vec::new()
    };
    let mut is_stopping = false;
    loop {
        let has_children = loop {
            match sys::reap_one() {
                Reaped::Child(..) => continue,
                Reaped::NoneEnded => break true,
                Reaped::NoChildren => break false,
            }
        };
        if is_stopping && !has_children {
            std::process::exit(0);
        }
        let signal = match sys::wait_signal(&signals, None) {
            None | Some(sys::SIGCHLD) => continue,
            Some(sys::SIGTERM | sys::SIGINT | sys::SIGPWR | sys::SIGRTMIN_3) => {
                is_stopping = true;
                sys::SIGTERM
            }
            Some(signal) => signal,
        };
        let targets = if everything.is_empty() {
            procfs::own_children()
        } else {
            everything.clone()
        };
        for pid in targets {
            sys::send_signal(pid, signal);
        }
    }
}
