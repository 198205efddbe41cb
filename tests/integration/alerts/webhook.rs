//! The webhook channel's delivery: the JSON body POSTed, a refusal retried after its
//! backoff, and a receiver that never answers given up after its tries while supervision
//! goes on (a crash-looping service keeps being restarted).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::harness::{TestResult, wait_until};
use crate::services::setup::ServicesDir;

const DOOMED: &str = "command = \"exit 1\"\n[restart]\ndelay = \"50ms\"\nmax-failures = 1\non-exhausted = \"stop\"\n";

/// Reads one request (head, then `Content-Length` bytes of body); returns the body.
fn read_request(stream: &mut TcpStream) -> Option<String> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut bytes = Vec::new();
    let mut chunk = [0; 4096];
    loop {
        let count = stream.read(&mut chunk).ok()?;
        if count == 0 {
            return None;
        }
        bytes.extend_from_slice(chunk.get(..count)?);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let Some(end) = text.find("\r\n\r\n") else {
            continue;
        };
        let length: usize = text
            .lines()
            .find_map(|line| line.strip_prefix("Content-Length: "))
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or(0);
        let body = text.get(end + 4..).unwrap_or_default();
        if body.len() >= length {
            return Some(body.to_string());
        }
    }
}

/// A receiver that answers `statuses` in turn (then 200), keeping every body.
fn receiver(statuses: Vec<u16>) -> TestResult<(u16, Arc<Mutex<Vec<String>>>)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&bodies);
    std::thread::spawn(move || {
        let mut statuses = statuses.into_iter();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let Some(body) = read_request(&mut stream) else {
                continue;
            };
            kept.lock().map(|mut b| b.push(body)).ok();
            let status = statuses.next().unwrap_or(200);
            let reply =
                format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    Ok((port, bodies))
}

#[test]
fn a_refused_json_alert_is_posted_again_after_its_backoff() -> TestResult {
    let (port, bodies) = receiver(vec![503])?;
    let layout = ServicesDir::new()?;
    layout.settings(&format!(
        "[alerts]\nwebhook = \"http://127.0.0.1:{port}/hook\"\n"
    ))?;
    layout.unit("doomed", DOOMED)?;
    let phoenix = layout.start(&[])?;
    let count = || bodies.lock().map(|b| b.len()).unwrap_or(0);
    phoenix.eventually("the alert is posted twice", || count() >= 2)?;
    let posted = bodies.lock().map(|b| b.clone()).unwrap_or_default();
    let context = phoenix.context();
    assert_eq!(
        posted[0], posted[1],
        "the retry sends the same body{context}"
    );
    let json: Value = serde_json::from_str(&posted[1])?;
    assert_eq!(json["kind"], "failed", "{json}");
    assert_eq!(json["service"], "doomed", "{json}");
    assert_eq!(json["level"], "critical", "{json}");
    phoenix.wait_for_log("try 1 of 3")?;
    assert!(
        phoenix.stderr().contains("HTTP 503"),
        "the refusal is named{context}"
    );
    Ok(())
}

#[test]
fn a_webhook_that_never_answers_does_not_stall_restarts() -> TestResult {
    // Bound and listening, never accepting: connects complete in the backlog and no answer
    // ever comes.
    let silent = TcpListener::bind("127.0.0.1:0")?;
    let port = silent.local_addr()?.port();
    let layout = ServicesDir::new()?;
    layout.settings(&format!(
        "[alerts]\nwebhook = \"http://127.0.0.1:{port}/hook\"\n"
    ))?;
    layout.unit("doomed", DOOMED)?;
    layout.unit(
        "looping",
        "command = \"echo x >> starts; exit 1\"\n[restart]\ndelay = \"50ms\"\nmultiplier = 1.0\nmax-failures = 100000\nwindow = \"1h\"\n",
    )?;
    let phoenix = layout.start(&[])?;
    phoenix.wait_for_log("try 1 of 3")?;
    // The first try has timed out (5 s) and the second waits: restarts went on meanwhile.
    let before = phoenix.lines("starts").len();
    phoenix.eventually("restarts go on while the delivery waits", || {
        phoenix.lines("starts").len() >= before + 10
    })?;
    let given_up = "did not take the failed alert of doomed after 3 tries";
    // Three tries of 5 s with 1 s and 2 s between them: about 18 s in all.
    let ended = wait_until(Duration::from_secs(40), || {
        phoenix.stderr().contains(given_up)
    });
    assert!(
        ended,
        "the delivery was never given up{}",
        phoenix.context()
    );
    let after = phoenix.lines("starts").len();
    phoenix.eventually("restarts still go on", || {
        phoenix.lines("starts").len() >= after + 10
    })?;
    drop(silent);
    Ok(())
}
