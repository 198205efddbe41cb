//! The control protocol: one JSON object per line over a Unix stream socket, versioned.
//! A request is `{"v":1,"request":{"command":"status","name":"web"}}`; every reply (and
//! every streamed event) is `{"v":1,"reply":{...}}`. Pure: parsing and formatting only, so
//! `parse(format(x)) == x` is a property test and the server never sees half a request.

use serde::{Deserialize, Serialize};

pub const VERSION: u32 = 1;

/// The longest request line accepted, newline excluded.
pub const MAX_REQUEST_BYTES: usize = 4096;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Request {
    /// All services, or one with its death tally.
    Status {
        name: Option<String>,
    },
    Start {
        name: String,
    },
    Stop {
        name: String,
    },
    Restart {
        name: String,
    },
    /// Clear the tally and close the circuit.
    Reset {
        name: String,
    },
    Signal {
        name: String,
        signal: String,
    },
    Reload,
    Shutdown,
    /// Shut down in order, then reboot, power off or halt the machine (in a container:
    /// exit, 133 for reboot, 0 otherwise).
    Reboot,
    Poweroff,
    Halt,
    /// The recorded history; with `follow`, keep streaming new events.
    Events {
        follow: bool,
    },
    /// Recorded incidents, oldest first, of every service or of one.
    Incidents {
        name: Option<String>,
    },
    /// Climb to the next step of the recovery ladder now.
    Heal {
        name: String,
    },
    /// Re-execute Phoenix's binary, keeping every service running (a live upgrade).
    Reexec,
    /// The last `lines` lines a captured service wrote (its ring, or its file when the
    /// ring holds fewer), then `end-of-history`; with `follow`, every new line after.
    Logs {
        name: String,
        lines: usize,
        follow: bool,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Reply {
    Ok {
        message: String,
    },
    Error {
        message: String,
    },
    Status {
        services: Vec<ServiceStatus>,
    },
    Event(EventRecord),
    /// Marks the end of the recorded history in an `events` stream.
    EndOfHistory,
    Incidents {
        incidents: Vec<IncidentRecord>,
    },
    /// One line of a service's captured output, in a `logs` stream.
    LogLine(LogRecord),
}

/// One captured line, as `logs --json` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogRecord {
    /// RFC 3339, UTC, milliseconds; empty for a line read back from a file without
    /// timestamps.
    pub time: String,
    pub service: String,
    /// "stdout", "stderr", or "file" for a line read back from the file.
    pub stream: String,
    /// The bytes as text, invalid UTF-8 replaced (the file has them unchanged).
    pub line: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceStatus {
    pub name: String,
    pub state: String,
    pub pid: Option<i32>,
    pub uptime_ms: Option<u64>,
    pub restarts: u32,
    /// "exit 1", "killed by SIGKILL".
    pub last_exit: Option<String>,
    /// Milliseconds until the next automatic start (backoff or cooldown).
    pub next_attempt_ms: Option<u64>,
    /// "closed", "open", "half-open".
    pub circuit: String,
    /// Failures counted in the current window.
    pub failures_in_window: u32,
    pub description: Option<String>,
    /// Only in a single-service status: the most recent deaths, oldest first.
    pub deaths: Option<Vec<DeathRecord>>,
    /// "unknown", "healthy", "degraded", "unhealthy"; absent without `[health]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<String>,
    /// The last `STATUS=` the service sent on its notify socket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_text: Option<String>,
    /// The ladder step it is on: "safe-mode (step 1 of 3), verifying".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<String>,
    /// Left running other than its unit says: "safe mode", "rolled back".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// The open incident, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<u64>,
    /// Started at boot and kept up (enabled, pulled in, or started by request); absent
    /// for an invalid unit, which cannot tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wanted: Option<bool>,
    /// Up for its dependents: a daemon running (and ready), a oneshot finished well.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeathRecord {
    pub ago_ms: u64,
    pub status: String,
    pub uptime_ms: u64,
    /// "success", "failure" or "permanent".
    pub verdict: String,
    pub reason: String,
    /// The last lines the program wrote before it died, when its output is captured.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub last_lines: Vec<String>,
}

/// One state change, as streamed by `events` and appended to `events.jsonl`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventRecord {
    /// RFC 3339, UTC, milliseconds.
    pub time: String,
    pub service: String,
    pub from: String,
    pub to: String,
    pub reason: String,
    pub exit: Option<String>,
    pub restarts: u32,
    pub next_attempt_ms: Option<u64>,
    /// "health" when `from` and `to` are healths rather than states.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// One incident (DESIGN.md §4.4), as `incidents --json` shows it and as each line of
/// `<state-dir>/incidents.jsonl` holds it: a line is appended at every change, and the last
/// line of an id is the incident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentRecord {
    pub id: u64,
    pub service: String,
    /// RFC 3339, UTC, milliseconds: when Phoenix detected the failure.
    pub opened: String,
    /// "exit", "unhealthy", "hung", "start-timeout", "spawn".
    pub detected_by: String,
    pub reason: String,
    /// From the failure itself to its detection.
    pub time_to_detect_ms: u64,
    pub steps: Vec<StepRecord>,
    pub closed: Option<String>,
    /// From the failure to the start of the run that was then verified good.
    pub time_to_recover_ms: Option<u64>,
    /// "recovered", "escalated", "failed", "cooldown"; absent while open.
    pub outcome: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepRecord {
    /// "restart", "safe-mode", "rollback", "restart-dependencies", "restore".
    pub step: String,
    pub started: String,
    /// "trying", "verified", "failed", "skipped".
    pub outcome: String,
    pub detail: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestEnvelope {
    v: u32,
    request: Request,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplyEnvelope {
    v: u32,
    reply: Reply,
}

/// Why a request line was refused; the text goes back to the client as an error reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolError(pub String);

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses one request line (without its newline).
pub fn parse_request(line: &[u8]) -> Result<Request, ProtocolError> {
    if line.len() > MAX_REQUEST_BYTES {
        return Err(ProtocolError(format!(
            "request too long: {} bytes, the limit is {MAX_REQUEST_BYTES}",
            line.len()
        )));
    }
    let envelope: RequestEnvelope = serde_json::from_slice(line).map_err(|error| {
        ProtocolError(format!(
            "malformed request: {error}: expected a JSON line like {{\"v\":{VERSION},\"request\":{{\"command\":\"status\"}}}}"
        ))
    })?;
    if envelope.v != VERSION {
        return Err(ProtocolError(format!(
            "unsupported protocol version {}: this Phoenix speaks {VERSION}",
            envelope.v
        )));
    }
    Ok(envelope.request)
}

/// Formats a request as one line, newline included.
pub fn format_request(request: &Request) -> String {
    line(&RequestEnvelope {
        v: VERSION,
        request: request.clone(),
    })
}

/// Parses one reply line (without its newline).
pub fn parse_reply(line: &[u8]) -> Result<Reply, ProtocolError> {
    let envelope: ReplyEnvelope = serde_json::from_slice(line)
        .map_err(|error| ProtocolError(format!("malformed reply: {error}")))?;
    if envelope.v != VERSION {
        return Err(ProtocolError(format!(
            "unsupported protocol version {}",
            envelope.v
        )));
    }
    Ok(envelope.reply)
}

/// Formats a reply as one line, newline included.
pub fn format_reply(reply: &Reply) -> String {
    line(&ReplyEnvelope {
        v: VERSION,
        reply: reply.clone(),
    })
}

fn line<T: Serialize>(value: &T) -> String {
    // Serialising these plain structs cannot fail; an empty object keeps the stream valid.
    let mut text = serde_json::to_string(value).unwrap_or_else(|_| "{}".to_string());
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_form() {
        let request =
            parse_request(br#"{"v":1,"request":{"command":"status","name":"web"}}"#).unwrap();
        assert_eq!(
            request,
            Request::Status {
                name: Some("web".into())
            }
        );
        let request = parse_request(br#"{"v":1,"request":{"command":"reload"}}"#).unwrap();
        assert_eq!(request, Request::Reload);
    }

    #[test]
    fn refuses_garbage_with_a_reason() {
        for (line, expected) in [
            (&b"\xff\xfe"[..], "malformed request"),
            (
                br#"{"v":1,"request":{"command":"explode"}}"#,
                "malformed request",
            ),
            (
                br#"{"v":1,"request":{"command":"start"}}"#,
                "missing field `name`",
            ),
            (
                br#"{"v":2,"request":{"command":"reload"}}"#,
                "unsupported protocol version 2",
            ),
            (
                br#"{"v":1,"request":{"command":"reload"},"extra":1}"#,
                "unknown field",
            ),
        ] {
            let error = parse_request(line).unwrap_err();
            assert!(error.0.contains(expected), "{error}");
        }
        let long = vec![b' '; MAX_REQUEST_BYTES + 1];
        assert!(parse_request(&long).unwrap_err().0.contains("too long"));
    }
}
