//! `<state-dir>/alerts.json`: cooldowns and firing alerts kept across runs, read at start.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = format!("{:?}", phoenix::alert_state::parse_bytes(data));
});
