//! A scripted control server for the client's tests: it answers each request from a
//! script, replays a recorded history to `events` subscribers, then the script's live
//! replies, and keeps every request line it received. Test-only; it judges nothing.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use super::protocol::{
    EventRecord, IncidentRecord, Reply, Request, ServiceStatus, StepRecord, format_reply,
    parse_request,
};

pub struct Script {
    /// The reply to every request other than `events`.
    pub answer: fn(&Request) -> Reply,
    pub history: Vec<EventRecord>,
    /// Sent to `events --follow` subscribers after the history.
    pub live: Vec<Reply>,
    /// Hold the live replies until a status query has been answered, as a real server's
    /// events come after the command and the status that follows it.
    pub live_after_status: bool,
    /// Close the stream after the live replies instead of holding it open.
    pub close_after_live: bool,
}

pub struct FakeServer {
    pub path: PathBuf,
    requests: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

/// Opened once a status query has been answered.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    changed: Condvar,
}

impl FakeServer {
    pub fn start(script: Script) -> FakeServer {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("control.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let shared = (
            Arc::new(script),
            Arc::clone(&requests),
            Arc::new(Gate::default()),
        );
        thread::spawn(move || {
            for stream in listener.incoming() {
                let (script, requests, gate) = (
                    Arc::clone(&shared.0),
                    Arc::clone(&shared.1),
                    Arc::clone(&shared.2),
                );
                let stream = stream.unwrap();
                thread::spawn(move || serve(stream, &script, &requests, &gate));
            }
        });
        FakeServer {
            path,
            requests,
            _dir: dir,
        }
    }

    /// Every request line received so far, in order, without newlines.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve(stream: UnixStream, script: &Script, requests: &Mutex<Vec<String>>, gate: &Gate) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let mut send = |reply: &Reply| {
        // The client may already have gone; that is its right.
        let _ = writer.write_all(format_reply(reply).as_bytes());
    };
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap_or(0) > 0 {
        let text = line.trim_end().to_string();
        line.clear();
        requests.lock().unwrap().push(text.clone());
        match parse_request(text.as_bytes()) {
            Ok(Request::Events { follow }) => {
                for record in &script.history {
                    send(&Reply::Event(record.clone()));
                }
                send(&Reply::EndOfHistory);
                if !follow {
                    continue;
                }
                if script.live_after_status {
                    let open = gate.open.lock().unwrap();
                    let limit = Duration::from_secs(5);
                    drop(gate.changed.wait_timeout_while(open, limit, |open| !*open));
                }
                script.live.iter().for_each(&mut send);
                if script.close_after_live {
                    return;
                }
            }
            Ok(request) => {
                send(&(script.answer)(&request));
                if matches!(request, Request::Status { .. }) {
                    *gate.open.lock().unwrap() = true;
                    gate.changed.notify_all();
                }
            }
            Err(error) => send(&Reply::Error { message: error.0 }),
        }
    }
}

/// A service in `state` with nothing else known, for replies in tests.
pub fn status_of(name: &str, state: &str) -> ServiceStatus {
    ServiceStatus {
        name: name.to_string(),
        state: state.to_string(),
        pid: None,
        uptime_ms: None,
        restarts: 0,
        last_exit: None,
        next_attempt_ms: None,
        circuit: "closed".to_string(),
        failures_in_window: 0,
        description: None,
        deaths: None,
        health: None,
        status_text: None,
        recovery: None,
        mode: None,
        incident: None,
        wanted: None,
        ready: None,
    }
}

/// An open incident of `service`, detected by an exit at once, with no step tried yet.
pub fn incident_of(id: u64, service: &str) -> IncidentRecord {
    IncidentRecord {
        id,
        service: service.to_string(),
        opened: "2025-01-02T03:04:05.678Z".to_string(),
        detected_by: "exit".to_string(),
        reason: "exit 1".to_string(),
        time_to_detect_ms: 0,
        steps: Vec::new(),
        closed: None,
        time_to_recover_ms: None,
        outcome: None,
    }
}

/// A ladder step started at `started` that ended with `outcome`.
pub fn step_of(step: &str, started: &str, outcome: &str, detail: &str) -> StepRecord {
    StepRecord {
        step: step.to_string(),
        started: started.to_string(),
        outcome: outcome.to_string(),
        detail: detail.to_string(),
    }
}
