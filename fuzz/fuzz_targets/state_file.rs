//! `<state-dir>/state.json`: restart records kept across runs, read at start.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = format!("{:?}", phoenix::state_file::parse_bytes(data));
});
