//! `phoenix-rescue`'s own std-only reader of `NAME.toml` (its TOML subset and the unit
//! keys it needs), compiled here from rescue/src since phoenix-rescue is a binary alone.
#![no_main]
#![allow(dead_code)]

#[path = "../../rescue/src/toml.rs"]
mod toml;
#[path = "../../rescue/src/unit.rs"]
mod unit;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = format!("{:?}", toml::parse(text));
    match unit::unit_from_toml("rescued", "rescued.toml", text) {
        Ok(unit) => {
            let _ = unit.name;
        }
        Err(unreadable) => {
            let _ = unreadable.to_string();
        }
    }
});
