//! A full pipe to the console: Phoenix's stdout and stderr are a FIFO nobody reads, filled
//! by a service that writes to the console it inherited. Phoenix must not block on its
//! own log lines: the crasher keeps being restarted while the pipe is full, and once a
//! reader drains it, Phoenix's lines come through again (with a count of those dropped).

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::{Arc, Mutex};

use super::{layout_with_crasher, starts, wait_for_restarts};
use crate::harness::{Pid1, TestResult};

#[test]
fn a_console_pipe_nobody_reads_does_not_stop_supervision() -> TestResult {
    let layout = layout_with_crasher()?;
    // Fills the console's pipe (64 KiB) at once, then blocks writing; then stays.
    layout.unit(
        "filler",
        "command = \"head -c 1000000 /dev/zero | tr '\\\\0' z; exec sleep 1000\"\n",
    )?;
    let fifo = layout.path("console");
    let status = std::process::Command::new("mkfifo").arg(&fifo).status()?;
    assert!(status.success(), "mkfifo: {status}");
    let args = layout.args();
    // Read-write, so the open does not wait for a reader: Phoenix holds the only
    // reading end and never reads it.
    let wrapper = ["sh", "-c", "exec \"$@\" 1<>console 2>&1", "sh"];
    let phoenix = Pid1::start_wrapped(layout.into_dir(), &[], &wrapper, args)?;
    wait_for_restarts(&phoenix, 0, 2)?;
    let full = starts(&phoenix);
    wait_for_restarts(&phoenix, full, 10)?;
    // A reader appears: whatever Phoenix writes from now on comes through.
    let reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)?;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    std::thread::spawn(move || drain(reader, &sink));
    let dropped = "log lines dropped: the console did not take them";
    phoenix.eventually(
        "the count of dropped lines, then new lines, come through",
        || {
            let text = seen
                .lock()
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
            text.is_ok_and(|text| {
                text.split_once(dropped)
                    .is_some_and(|(_, after)| after.contains("[phoenix] info: crasher: "))
            })
        },
    )?;
    Ok(())
}

/// Reads the FIFO until the test ends, keeping what is not filler.
fn drain(mut reader: std::fs::File, seen: &Mutex<Vec<u8>>) {
    let mut buffer = vec![0u8; 65536];
    loop {
        match reader.read(&mut buffer) {
            Ok(0) | Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
            Ok(read) => {
                let kept: Vec<u8> = buffer[..read]
                    .iter()
                    .copied()
                    .filter(|&b| b != b'z')
                    .collect();
                if let Ok(mut seen) = seen.lock() {
                    seen.extend_from_slice(&kept);
                }
            }
        }
    }
}
