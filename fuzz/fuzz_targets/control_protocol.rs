//! The control socket's JSON lines: a request line as the server reads it, a reply line as
//! `phoenixctl` reads it; what parses formats back to a line that parses to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phoenix::control::protocol::{format_reply, format_request, parse_reply, parse_request};

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = parse_request(data) {
        let line = format_request(&request);
        let line = line.trim_end_matches('\n').as_bytes();
        assert_eq!(parse_request(line).ok(), Some(request));
    }
    if let Ok(reply) = parse_reply(data) {
        let line = format_reply(&reply);
        let line = line.trim_end_matches('\n').as_bytes();
        assert_eq!(parse_reply(line).ok(), Some(reply));
    }
});
