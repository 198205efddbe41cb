//! `NOTIFY_SOCKET` datagrams (`READY=1`, `STATUS=…`, `MAINPID=…`, `WATCHDOG=1`, …).
#![no_main]

use libfuzzer_sys::fuzz_target;
use phoenix::notify::parse_datagram;

fuzz_target!(|data: &[u8]| {
    let _ = format!("{:?}", parse_datagram(data));
});
