//! The control socket can never hurt PID 1 or its services: garbage and an oversized line
//! get error replies, many clients at once are all answered, and a client that never reads
//! cannot stall anyone else. Raw clients here speak the protocol directly.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::ctl::{daemon, phoenixctl, read_line, service_json, socket, start, wait_for_state};
use crate::harness::{DEADLINE, Phoenix, TestResult};
use crate::services::setup::ServicesDir;

/// How long the flood may take to overflow a silent client (a slow machine forks slowly).
const FLOOD_DEADLINE: Duration = Duration::from_secs(120);

const STATUS_REQUEST: &[u8] = b"{\"v\":1,\"request\":{\"command\":\"status\"}}\n";

fn connect(phoenix: &Phoenix) -> TestResult<UnixStream> {
    let stream = UnixStream::connect(socket(phoenix))?;
    stream.set_read_timeout(Some(DEADLINE))?;
    stream.set_write_timeout(Some(DEADLINE))?;
    Ok(stream)
}

/// Reads one reply line and returns its `reply` object.
fn read_reply(stream: &mut UnixStream) -> TestResult<Value> {
    let line = read_line(stream)?;
    let envelope: Value =
        serde_json::from_str(&line).map_err(|error| format!("{line:?}: {error}"))?;
    assert_eq!(envelope["v"], 1, "{line}");
    Ok(envelope["reply"].clone())
}

#[track_caller]
fn assert_error_reply(reply: &Value, needle: &str) {
    assert_eq!(reply["reply"], "error", "{reply}");
    let message = reply["message"].as_str().unwrap_or_default();
    assert!(message.contains(needle), "{reply}");
}

/// A deterministic stream of bytes other than newline (xorshift, so reruns are alike).
fn random_bytes(seed: u64, count: usize) -> Vec<u8> {
    let mut state = seed | 1;
    (0..count)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .map(|byte| if byte == b'\n' { b'?' } else { byte })
        .collect()
}

fn add_web(layout: &ServicesDir) -> TestResult {
    layout.unit("web", &daemon("web", ""))
}

/// `web` runs as it did, with the same pid, and status still answers.
#[track_caller]
fn assert_undisturbed(phoenix: &Phoenix, pid: &Value) -> TestResult {
    let web = service_json(phoenix, "web")?;
    assert_eq!(
        (&web["state"], &web["pid"]),
        (&"running".into(), pid),
        "{web}"
    );
    assert_eq!(phoenix.lines("web.pids").len(), 1);
    Ok(())
}

#[test]
fn random_bytes_and_a_1_mib_line_get_error_replies() -> TestResult {
    let layout = ServicesDir::new()?;
    add_web(&layout)?;
    let phoenix = start(layout)?;
    wait_for_state(&phoenix, "web", "running")?;
    let pid = service_json(&phoenix, "web")?["pid"].clone();

    let mut stream = connect(&phoenix)?;
    for seed in 1..=20 {
        let mut line = random_bytes(seed, 64 * seed as usize);
        line.push(b'\n');
        stream.write_all(&line)?;
        assert_error_reply(&read_reply(&mut stream)?, "malformed request");
    }
    let mut huge = vec![b'a'; 1 << 20];
    huge.push(b'\n');
    stream.write_all(&huge)?;
    assert_error_reply(&read_reply(&mut stream)?, "too long");
    // The same connection is still served.
    stream.write_all(STATUS_REQUEST)?;
    assert_eq!(read_reply(&mut stream)?["reply"], "status");

    // A 1 MiB line of random bytes on a fresh connection, and one that hangs up mid-line.
    let mut stream = connect(&phoenix)?;
    let mut line = random_bytes(99, 1 << 20);
    line.push(b'\n');
    stream.write_all(&line)?;
    assert_error_reply(&read_reply(&mut stream)?, "too long");
    let mut torn = connect(&phoenix)?;
    torn.write_all(&random_bytes(7, 1000))?;
    drop(torn);

    assert_undisturbed(&phoenix, &pid)?;
    Ok(())
}

#[test]
fn two_hundred_clients_at_once_are_all_answered() -> TestResult {
    const CLIENTS: usize = 200;
    let layout = ServicesDir::new()?;
    add_web(&layout)?;
    let phoenix = start(layout)?;
    wait_for_state(&phoenix, "web", "running")?;
    let pid = service_json(&phoenix, "web")?["pid"].clone();

    let path = socket(&phoenix);
    let barrier = Arc::new(Barrier::new(CLIENTS));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let path = path.clone();
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || -> Result<Value, String> {
                barrier.wait();
                let mut stream = UnixStream::connect(&path).map_err(|e| e.to_string())?;
                stream
                    .set_read_timeout(Some(DEADLINE))
                    .map_err(|e| e.to_string())?;
                stream
                    .write_all(STATUS_REQUEST)
                    .map_err(|e| e.to_string())?;
                let line = read_line(&mut stream).map_err(|e| e.to_string())?;
                serde_json::from_str(&line).map_err(|e| format!("{line:?}: {e}"))
            })
        })
        .collect();
    let mut answered = 0;
    for client in clients {
        let reply = client.join().map_err(|_| "a client thread panicked")??;
        let services = reply["reply"]["services"].as_array().ok_or("no services")?;
        assert_eq!(services.len(), 1, "{reply}");
        assert_eq!(services[0]["name"], "web", "{reply}");
        answered += 1;
    }
    assert_eq!(answered, CLIENTS);
    assert_undisturbed(&phoenix, &pid)?;
    Ok(())
}

#[test]
fn a_client_that_never_reads_does_not_stall_status_queries() -> TestResult {
    let layout = ServicesDir::new()?;
    add_web(&layout)?;
    // Fails at once and is restarted at once, for ever: a flood of events.
    layout.unit(
        "flood",
        "command = [\"/bin/false\"]\n[restart]\nmin-uptime = \"1h\"\ndelay = \"0s\"\n\
         multiplier = 1.0\nmax-failures = 1000000\n",
    )?;
    let phoenix = start(layout)?;
    wait_for_state(&phoenix, "web", "running")?;
    let pid = service_json(&phoenix, "web")?["pid"].clone();

    let mut silent = connect(&phoenix)?;
    silent.write_all(b"{\"v\":1,\"request\":{\"command\":\"events\",\"follow\":true}}\n")?;
    // The flood fills the silent client's socket and then its bounded queue (1 MiB); every
    // status query meanwhile must be answered, until Phoenix gives up on the silent client.
    let deadline = Instant::now() + FLOOD_DEADLINE;
    let mut queries = 0;
    loop {
        let flood = service_json(&phoenix, "flood")?;
        assert!(flood["restarts"].is_u64(), "{flood}");
        queries += 1;
        if phoenix.stderr().contains("replies unread") {
            break;
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "the silent client was not disconnected within {FLOOD_DEADLINE:?} \
                 ({queries} status queries answered){}",
                phoenix.context()
            )
            .into());
        }
    }
    // What the silent client's socket held is still there to read, and then the end.
    let mut sink = Vec::new();
    silent.read_to_end(&mut sink)?;
    phoenixctl(&phoenix, &["stop", "flood", "--wait"])?.ok()?;
    assert_undisturbed(&phoenix, &pid)?;
    Ok(())
}
