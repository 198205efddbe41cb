//! A services directory's `NAME.toml` files: up to four units (separated by NUL bytes in
//! the input, named a…d) parsed as Phoenix parses them, their restart arithmetic asked
//! for, and the dependency graph between them ordered, as `load_dir` does.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use phoenix::unit::{find_cycles, parse_unit, start_order};

fuzz_target!(|data: &[u8]| {
    let mut units = Vec::new();
    for (text, name) in data.split(|&byte| byte == 0).zip(["a", "b", "c", "d"]) {
        let Ok(text) = std::str::from_utf8(text) else {
            continue;
        };
        match parse_unit(name, Path::new("/services/unit.toml"), text) {
            Ok(unit) => {
                for failures in [0, 1, 2, 10, 64, u32::MAX] {
                    let _ = unit.restart.delay_for(failures);
                }
                let _ = unit.restart.fastest_exhaustion();
                let _ = unit.restart.is_budget_reachable();
                let _ = format!("{unit:?}");
                units.push(unit);
            }
            Err(error) => {
                let _ = error.to_string();
            }
        }
    }
    let _ = find_cycles(&units);
    let _ = start_order(&units);
});
