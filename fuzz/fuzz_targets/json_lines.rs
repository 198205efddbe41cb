//! `<state-dir>/events.jsonl` and `incidents.jsonl`: each line a record, a file judged
//! torn or corrupt at start (`corrupt_file::json_lines_problem`) and read back line by line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phoenix::control::protocol::{EventRecord, IncidentRecord};
use phoenix::corrupt_file::json_lines_problem;

fuzz_target!(|data: &[u8]| {
    let _ = json_lines_problem::<EventRecord>(data);
    let _ = json_lines_problem::<IncidentRecord>(data);
    for line in data.split(|&byte| byte == b'\n') {
        let _ = serde_json::from_slice::<EventRecord>(line);
        let _ = serde_json::from_slice::<IncidentRecord>(line);
    }
});
