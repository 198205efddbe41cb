//! The HTTP endpoint's request heads, judged at every length a read could have delivered
//! so far (a prefix), as the connection does while bytes arrive.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phoenix::http::{Parsed, parse_request};

const MAX_HEAD: usize = 8192;

fuzz_target!(|data: &[u8]| {
    for end in [data.len() / 2, data.len()] {
        let Some(received) = data.get(..end) else {
            continue;
        };
        if let Parsed::Reject(rejection) = parse_request(received, MAX_HEAD) {
            let _ = (rejection.status(), rejection.body(MAX_HEAD));
        }
    }
    let _ = parse_request(data, 16);
});
