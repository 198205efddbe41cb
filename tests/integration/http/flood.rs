//! Floods that must cost Phoenix a bounded amount and never its supervising: a slow client
//! closed at its deadline, 2000 connections at once, requests pipelined past the limit.
//! During each, a service that crashes is restarted at once.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use super::client::{
    SLOW_PACE, curl, open_descriptors, raise_descriptor_limit, read_to_close, start_with_http,
    status_of,
};
use crate::control::ctl::daemon;
use crate::harness::{DEADLINE, Phoenix, TestResult};
use crate::services::setup::ServicesDir;

fn start(limits: &str) -> TestResult<(Phoenix, u16)> {
    let layout = ServicesDir::new()?;
    layout.unit("web", &daemon("web", "[restart]\ndelay = \"0s\""))?;
    let (phoenix, port) = start_with_http(layout, limits)?;
    phoenix.wait_for_lines("web.pids", 1)?;
    Ok((phoenix, port))
}

/// Crashes `web` and waits for its restart (a second pid), which must come promptly.
#[track_caller]
fn crash_and_see_the_restart(phoenix: &Phoenix) -> TestResult {
    let before = phoenix.lines("web.pids").len();
    let crashed = Instant::now();
    phoenix.touch("web.crash")?;
    phoenix.wait_for_lines("web.pids", before + 1)?;
    let took = crashed.elapsed();
    assert!(took < Duration::from_secs(5), "the restart took {took:?}");
    Ok(())
}

#[test]
fn a_client_sending_one_byte_at_a_time_is_closed_at_its_deadline() -> TestResult {
    let (phoenix, port) = start("timeout = \"1s\"")?;
    let mut slow = TcpStream::connect(("127.0.0.1", port))?;
    slow.set_read_timeout(Some(SLOW_PACE))?;
    let opened = Instant::now();
    let request = b"GET /healthz HTTP/1.1\r\nX-Slow: "
        .iter()
        .chain([b'a'; 1000].iter());
    let mut crashed = false;
    let mut closed = None;
    for byte in request {
        if slow.write_all(&[*byte]).is_err() {
            closed = Some(opened.elapsed());
            break;
        }
        let mut buffer = [0; 64];
        match slow.read(&mut buffer) {
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            _ => {
                closed = Some(opened.elapsed());
                break;
            }
        }
        if !crashed && opened.elapsed() > Duration::from_millis(300) {
            crash_and_see_the_restart(&phoenix)?;
            crashed = true;
        }
    }
    let closed = closed.ok_or("the slow client was never closed")?;
    assert!(crashed, "the slow client was closed before the crash");
    assert!(
        closed >= Duration::from_millis(900),
        "closed after only {closed:?}"
    );
    assert!(
        closed < Duration::from_secs(4),
        "closed only after {closed:?}"
    );
    assert_eq!(curl(port, "/healthz", &[])?.0, 200);
    Ok(())
}

#[test]
fn two_thousand_connections_at_once_leave_phoenix_supervising() -> TestResult {
    raise_descriptor_limit()?;
    let (phoenix, port) = start("")?;
    let openers: Vec<_> = (0..8)
        .map(|_| {
            thread::spawn(move || {
                (0..250)
                    .filter_map(|_| TcpStream::connect(("127.0.0.1", port)).ok())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    crash_and_see_the_restart(&phoenix)?;
    let mut streams = Vec::new();
    for opener in openers {
        streams.extend(opener.join().map_err(|_| "an opener panicked")?);
    }
    assert!(
        streams.len() >= 1900,
        "only {} connections opened",
        streams.len()
    );
    crash_and_see_the_restart(&phoenix)?;
    let descriptors = open_descriptors(&phoenix)?;
    assert!(descriptors < 200, "Phoenix holds {descriptors} descriptors");
    // Over the limit they were told 503 (or reset); the rest close at their deadline.
    let deadline = Instant::now() + DEADLINE;
    for stream in &mut streams {
        stream.set_read_timeout(Some(
            deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1)),
        ))?;
        let response = read_to_close(stream);
        assert!(
            response.is_empty() || status_of(&response) == Some(503),
            "{response:?}"
        );
    }
    drop(streams);
    assert_eq!(curl(port, "/healthz", &[])?.0, 200);
    Ok(())
}

#[test]
fn requests_pipelined_past_the_limit_get_one_answer_and_a_close() -> TestResult {
    let (phoenix, port) = start("max-request-bytes = 1024")?;
    let small = "GET /healthz HTTP/1.1\r\n\r\n".repeat(60);
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(DEADLINE))?;
    stream.write_all(small.as_bytes())?;
    let response = read_to_close(&mut stream);
    assert_eq!(response.matches("HTTP/1.1 ").count(), 1, "{response:?}");
    assert_eq!(status_of(&response), Some(200), "{response:?}");
    let flooders: Vec<_> = (0..20)
        .map(|_| {
            thread::spawn(move || -> Option<String> {
                let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
                stream.set_read_timeout(Some(DEADLINE)).ok()?;
                let mut writer = stream.try_clone().ok()?;
                let requests = "GET /status HTTP/1.1\r\nHost: x\r\n\r\n".repeat(10_000);
                let sender = thread::spawn(move || {
                    let _ = writer.write_all(requests.as_bytes());
                });
                let response = read_to_close(&mut stream);
                let _ = sender.join();
                Some(response)
            })
        })
        .collect();
    crash_and_see_the_restart(&phoenix)?;
    for flooder in flooders {
        let response = flooder
            .join()
            .map_err(|_| "a flooder panicked")?
            .unwrap_or_default();
        assert!(response.matches("HTTP/1.1 ").count() <= 1, "{response:?}");
    }
    crash_and_see_the_restart(&phoenix)?;
    assert_eq!(curl(port, "/healthz", &[])?.0, 200);
    Ok(())
}
