//! The last line of defence inside `phoenix` itself: when the event loop cannot go on (an
//! internal error, a panic), PID 1 must not exit while processes depend on it. This loop
//! uses nothing but blocking `sigwaitinfo` and `waitpid`: it passes TERM/INT/HUP/QUIT and
//! friends on to everything still running, reaps every zombie, and exits only once no
//! child is left, with the status of the last child it reaped — or, as a machine's PID 1,
//! never.

use crate::core::Target;
use crate::exit_status::ExitStatus;
use crate::sys::process::send_signal;
use crate::sys::reap::reap_children;
use crate::unit::Signal;

pub fn reap_forever() -> ! {
    log::error!("entering degraded mode: reaping and forwarding signals until no process is left");
    let mut last_code = 1;
    let mut reaped = Vec::new();
    // SAFETY: a zeroed sigset_t is a valid argument for sigfillset, which fills it.
    let mut all: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `all` is a valid sigset_t; blocking everything keeps signals queued for us.
    unsafe {
        libc::sigfillset(&mut all);
        libc::sigprocmask(libc::SIG_BLOCK, &all, std::ptr::null_mut());
    }
    loop {
        let remain = reap_children(&mut reaped);
        if let Some((_, status)) = reaped.last() {
            last_code = ExitStatus::shell_code(*status);
        }
        reaped.clear();
        // A machine's PID 1 never exits: the kernel would panic.
        if !remain && !crate::sys::process::is_machine_init() {
            std::process::exit(i32::from(last_code));
        }
        // SAFETY: `all` is a valid set; a null info pointer is allowed.
        let number = unsafe { libc::sigwaitinfo(&all, std::ptr::null_mut()) };
        match Signal::from_number(number) {
            Some(Signal::CHLD) | None => {}
            Some(signal) => send_signal(Target::Everything, signal),
        }
    }
}
