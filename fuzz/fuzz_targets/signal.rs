//! Signal names and numbers (`TERM`, `SIGRTMIN+3`, `15`): a parsed signal's name parses
//! back to the same signal.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phoenix::unit::Signal;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match text.parse::<Signal>() {
        Ok(signal) => {
            let name = signal.name();
            assert_eq!(name.parse::<Signal>().ok(), Some(signal), "{name}");
            let _ = signal.to_string();
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
});
