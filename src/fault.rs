//! Fault injection for the tests of Phoenix's own failure: in a debug build only (what
//! `cargo test` runs), `PHOENIX_FAULT_PANIC_ON=SIGNAL` makes the loop panic, inside a core
//! step, when that signal arrives. A release build has none of this.

use crate::core::Event;

#[cfg(debug_assertions)]
#[allow(clippy::panic)] // The one deliberate panic: what the tests of a panic need.
pub fn before_step(event: &Event) {
    use std::sync::OnceLock;
    static TRIGGER: OnceLock<Option<crate::unit::Signal>> = OnceLock::new();
    let trigger = TRIGGER.get_or_init(|| {
        std::env::var("PHOENIX_FAULT_PANIC_ON")
            .ok()
            .and_then(|name| name.parse().ok())
    });
    if let (Event::Signal { signal, .. }, Some(trigger)) = (event, trigger) {
        if signal == trigger {
            std::panic::panic_any(format!("fault injected on {signal}"));
        }
    }
}

#[cfg(not(debug_assertions))]
pub fn before_step(_event: &Event) {}
