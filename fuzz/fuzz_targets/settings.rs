//! `phoenix.toml`: the settings file, parsed as at start and on reload.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use phoenix::unit::settings::parse_settings;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_settings(Path::new("/etc/phoenix/phoenix.toml"), text) {
        Ok(settings) => {
            let _ = settings.group_names();
            let _ = format!("{settings:?}");
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
});
