//! `environment-file`: KEY=value lines with quotes and escapes.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use phoenix::envfile::parse_environment_file;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(error) = parse_environment_file(Path::new("/etc/default/web"), text) {
        let _ = error.to_string();
    }
});
