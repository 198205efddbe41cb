//! Tests of phoenixctl's client.
use super::*;
use crate::control::fake_server::{FakeServer, Script, incident_of, status_of, step_of};
use crate::control::protocol::{EventRecord, parse_request};
use crate::control::render::{render_incident_table, render_incidents};

fn event(service: &str, from: &str, to: &str) -> EventRecord {
    EventRecord {
        time: "2025-01-02T03:04:05.678Z".to_string(),
        service: service.to_string(),
        from: from.to_string(),
        to: to.to_string(),
        reason: "test".to_string(),
        exit: None,
        restarts: 0,
        next_attempt_ms: None,
        kind: None,
    }
}

/// Web's recovered incident and db's open one, oldest first.
fn incidents() -> Vec<IncidentRecord> {
    let recovered = IncidentRecord {
        steps: vec![step_of(
            "safe-mode",
            "2025-01-02T03:04:06.000Z",
            "verified",
            "ready for 30s",
        )],
        closed: Some("2025-01-02T03:04:36.000Z".to_string()),
        time_to_recover_ms: Some(322),
        outcome: Some("recovered".to_string()),
        ..incident_of(1, "web")
    };
    vec![recovered, incident_of(2, "db")]
}

fn answer(request: &Request) -> Reply {
    match request {
        Request::Incidents { name: None } => Reply::Incidents {
            incidents: incidents(),
        },
        Request::Incidents { name: Some(name) } => Reply::Incidents {
            incidents: incidents()
                .into_iter()
                .filter(|incident| &incident.service == name)
                .collect(),
        },
        Request::Heal { name } if name == "web" => Reply::Ok {
            message: "healing web: safe-mode (step 1 of 3)".to_string(),
        },
        Request::Heal { name } => Reply::Error {
            message: format!("'{name}' has no [recovery] ladder to climb"),
        },
        Request::Status { name: None } => Reply::Status {
            services: vec![status_of("web", "running"), status_of("db", "down")],
        },
        Request::Status { name: Some(name) } if name == "web" => Reply::Status {
            services: vec![status_of("web", "running")],
        },
        Request::Status { name: Some(name) } | Request::Start { name } if name == "nope" => {
            Reply::Error {
                message: "no service named 'nope'".to_string(),
            }
        }
        Request::Reload => Reply::Status { services: vec![] },
        Request::Shutdown => Reply::Ok {
            message: "shutting down".to_string(),
        },
        other => Reply::Ok {
            message: format!("done: {}", format_request(other).trim_end()),
        },
    }
}

fn server() -> FakeServer {
    FakeServer::start(Script {
        answer,
        history: vec![
            event("web", "starting", "running"),
            event("db", "running", "down"),
        ],
        live: vec![Reply::Event(event("web", "running", "backoff"))],
        live_after_status: false,
        close_after_live: true,
    })
}

fn invoke(server: &FakeServer, request: Request, json: bool) -> (Result<(), ClientError>, String) {
    let invocation = Invocation {
        socket: None,
        json,
        request,
        wait: None,
        check: false,
    };
    let mut out = Vec::new();
    let result = run(&invocation, &server.path, &mut out);
    (result, String::from_utf8(out).unwrap())
}

#[test]
fn sends_one_request_line_and_prints_the_message() {
    let requests = [
        Request::Start { name: "web".into() },
        Request::Stop { name: "web".into() },
        Request::Restart { name: "web".into() },
        Request::Reset { name: "web".into() },
        Request::Signal {
            name: "web".into(),
            signal: "HUP".into(),
        },
    ];
    for request in requests {
        let server = server();
        let (result, out) = invoke(&server, request.clone(), false);
        result.unwrap();
        let line = format_request(&request);
        assert_eq!(out, format!("done: {}", line));
        assert_eq!(server.requests(), vec![line.trim_end().to_string()]);
        assert_eq!(parse_request(server.requests()[0].as_bytes()), Ok(request));
    }
    let server = server();
    let (result, out) = invoke(&server, Request::Shutdown, false);
    result.unwrap();
    assert_eq!(out, "shutting down\n");
    assert_eq!(
        server.requests(),
        vec![r#"{"v":1,"request":{"command":"shutdown"}}"#.to_string()]
    );
}

#[test]
fn status_prints_the_table_the_view_or_json() {
    let server = server();
    let (result, out) = invoke(&server, Request::Status { name: None }, false);
    result.unwrap();
    let both = [status_of("web", "running"), status_of("db", "down")];
    assert_eq!(out, render_status_table(&both));
    assert_eq!(
        server.requests(),
        vec![r#"{"v":1,"request":{"command":"status","name":null}}"#.to_string()]
    );

    let (result, out) = invoke(&server, Request::Status { name: None }, true);
    result.unwrap();
    let parsed: Vec<ServiceStatus> = serde_json::from_str(&out).unwrap();
    assert_eq!(parsed, both);

    let web = Request::Status {
        name: Some("web".into()),
    };
    let (result, out) = invoke(&server, web.clone(), false);
    result.unwrap();
    assert_eq!(out, render_service(&status_of("web", "running")));
    let (result, out) = invoke(&server, web, true);
    result.unwrap();
    let parsed: ServiceStatus = serde_json::from_str(&out).unwrap();
    assert_eq!(parsed, status_of("web", "running"));
}

#[test]
fn a_refusal_is_exit_1_with_the_server_message() {
    let server = server();
    let (result, out) = invoke(
        &server,
        Request::Start {
            name: "nope".into(),
        },
        false,
    );
    let error = result.unwrap_err();
    assert_eq!(error.exit_code(), 1);
    assert_eq!(error.to_string(), "no service named 'nope'");
    assert_eq!(out, "");
}

#[test]
fn an_unexpected_reply_is_exit_1() {
    let server = server();
    let (result, _) = invoke(&server, Request::Reload, false);
    let error = result.unwrap_err();
    assert_eq!(error.exit_code(), 1);
    assert!(
        error
            .to_string()
            .starts_with("unexpected reply from Phoenix: "),
        "{error}"
    );
}

#[test]
fn an_unreachable_socket_is_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.sock");
    let invocation = Invocation {
        socket: None,
        json: false,
        request: Request::Reload,
        wait: None,
        check: false,
    };
    let error = run(&invocation, &path, &mut Vec::new()).unwrap_err();
    assert_eq!(error.exit_code(), 3);
    let message = error.to_string();
    let expected = format!("cannot reach Phoenix at {}: ", path.display());
    assert!(message.starts_with(&expected), "{message}");
    assert!(message.contains("No such file or directory"), "{message}");
}

#[test]
fn events_print_the_history_as_json_lines() {
    let server = server();
    let (result, out) = invoke(&server, Request::Events { follow: false }, false);
    result.unwrap();
    let expected: String = [
        event("web", "starting", "running"),
        event("db", "running", "down"),
    ]
    .iter()
    .map(|record| format!("{}\n", serde_json::to_string(record).unwrap()))
    .collect();
    assert_eq!(out, expected);
    assert_eq!(
        server.requests(),
        vec![r#"{"v":1,"request":{"command":"events","follow":false}}"#.to_string()]
    );
}

#[test]
fn events_follow_prints_live_events_until_the_stream_ends() {
    let server = server();
    let (result, out) = invoke(&server, Request::Events { follow: true }, false);
    let lines: Vec<EventRecord> = out
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(
        lines,
        vec![
            event("web", "starting", "running"),
            event("db", "running", "down"),
            event("web", "running", "backoff"),
        ]
    );
    let error = result.unwrap_err();
    assert_eq!(error.exit_code(), 3);
    assert!(
        error.to_string().contains("Phoenix closed the connection"),
        "{error}"
    );
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let error = ClientError::Output(io::Error::from(io::ErrorKind::BrokenPipe));
    assert!(error.is_quiet());
    assert_eq!(error.exit_code(), 0);
    let error = ClientError::Output(io::Error::from(io::ErrorKind::StorageFull));
    assert!(!error.is_quiet());
    assert_eq!(error.exit_code(), 1);
}

#[test]
fn incidents_print_the_table_or_each_in_full() {
    let server = server();
    let (result, out) = invoke(&server, Request::Incidents { name: None }, false);
    result.unwrap();
    assert_eq!(out, render_incident_table(&incidents()));
    assert!(out.lines().nth(2).unwrap().ends_with("open"), "{out}");
    assert_eq!(
        server.requests(),
        vec![r#"{"v":1,"request":{"command":"incidents","name":null}}"#.to_string()]
    );

    let web = Request::Incidents {
        name: Some("web".into()),
    };
    let (result, out) = invoke(&server, web, false);
    result.unwrap();
    assert_eq!(out, render_incidents(&incidents()[..1]));
    assert!(out.contains("ready for 30s"), "{out}");

    let nobody = Request::Incidents {
        name: Some("idle".into()),
    };
    let (result, out) = invoke(&server, nobody, false);
    result.unwrap();
    assert_eq!(out, "no incidents\n");
}

#[test]
fn incidents_json_is_one_array_of_the_records_as_sent() {
    let server = server();
    let (result, out) = invoke(&server, Request::Incidents { name: None }, true);
    result.unwrap();
    let parsed: Vec<IncidentRecord> = serde_json::from_str(&out).unwrap();
    assert_eq!(parsed, incidents());
    assert!(out.starts_with('['), "{out}");

    let db = Request::Incidents {
        name: Some("db".into()),
    };
    let (result, out) = invoke(&server, db, true);
    result.unwrap();
    let parsed: Vec<IncidentRecord> = serde_json::from_str(&out).unwrap();
    assert_eq!(parsed, incidents()[1..]);
}

#[test]
fn heal_prints_the_message_or_fails_with_the_refusal() {
    let server = server();
    let (result, out) = invoke(&server, Request::Heal { name: "web".into() }, false);
    result.unwrap();
    assert_eq!(out, "healing web: safe-mode (step 1 of 3)\n");
    assert_eq!(
        server.requests(),
        vec![r#"{"v":1,"request":{"command":"heal","name":"web"}}"#.to_string()]
    );

    let (result, out) = invoke(&server, Request::Heal { name: "db".into() }, false);
    let error = result.unwrap_err();
    assert_eq!(error.exit_code(), 1);
    assert_eq!(error.to_string(), "'db' has no [recovery] ladder to climb");
    assert_eq!(out, "");
}

#[test]
fn check_prints_each_wanted_service_that_is_not_ready_and_fails() {
    let server = server();
    let invocation = Invocation {
        socket: None,
        json: false,
        request: Request::Status { name: None },
        wait: None,
        check: true,
    };
    let mut out = Vec::new();
    let result = run(&invocation, &server.path, &mut out);
    let error = result.unwrap_err();
    assert_eq!(error.exit_code(), 1);
    assert_eq!(error.to_string(), "not ready: 1 of 2 wanted service(s)");
    assert_eq!(String::from_utf8(out).unwrap(), "db: down\n");
}
