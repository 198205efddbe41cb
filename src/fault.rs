//! Fault injection for the tests of Phoenix's own failure: in a debug build only (what
//! `cargo test` runs), `PHOENIX_FAULT_PANIC_ON=SIGNAL` makes the loop panic, inside a core
//! step, when that signal arrives, and `PHOENIX_FAULT_HANG_ON=SIGNAL` makes it stop
//! turning for good (what a hardware watchdog is for). A release build has none of this.

use crate::core::Event;

#[cfg(debug_assertions)]
#[allow(clippy::panic)] // The one deliberate panic: what the tests of a panic need.
pub fn before_step(event: &Event) {
    use std::sync::OnceLock;
    static TRIGGERS: OnceLock<[Option<crate::unit::Signal>; 2]> = OnceLock::new();
    let [panic_on, hang_on] = TRIGGERS.get_or_init(|| {
        let signal = |name: &str| std::env::var(name).ok().and_then(|name| name.parse().ok());
        [
            signal("PHOENIX_FAULT_PANIC_ON"),
            signal("PHOENIX_FAULT_HANG_ON"),
        ]
    });
    let Event::Signal { signal, .. } = event else {
        return;
    };
    if Some(*signal) == *panic_on {
        std::panic::panic_any(format!("fault injected on {signal}"));
    }
    if Some(*signal) == *hang_on {
        log::error!("fault injected on {signal}: the loop stops turning");
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
}

#[cfg(not(debug_assertions))]
pub fn before_step(_event: &Event) {}
