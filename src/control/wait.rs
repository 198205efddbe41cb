//! `phoenixctl start|stop|restart --wait`: send the command, then wait until the service
//! reaches the wanted state, as `s6-svc -wU` and `sv -w` do. The event stream is subscribed
//! before the command is sent, so no transition can slip between the command and the first
//! read; one status query after the command covers a service that is already there.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use super::client::{
    ClientError, Connection, expect_ok, find_service, query_status, refusal, write_out,
};
use super::protocol::{EventRecord, Reply, Request, ServiceStatus};
use crate::unit::format_duration;

/// What a waited-for command waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Goal {
    /// start: running, or exited successfully (a oneshot).
    Running,
    /// stop: down, exited or failed — anything not running.
    Down,
    /// restart: a transition to running after the command.
    Restarted,
}

impl Goal {
    /// The goal of a request and the service it names; `None` for requests with no goal.
    pub fn of(request: &Request) -> Option<(Goal, &str)> {
        match request {
            Request::Start { name } => Some((Goal::Running, name)),
            Request::Stop { name } => Some((Goal::Down, name)),
            Request::Restart { name } => Some((Goal::Restarted, name)),
            _ => None,
        }
    }

    fn wanted_state(self) -> &'static str {
        match self {
            Goal::Running | Goal::Restarted => "running",
            Goal::Down => "down",
        }
    }
}

/// Where a wait stands after one piece of news.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Progress {
    Waiting,
    Reached,
    Failed(String),
    /// The service exited: only its status says whether that was a success.
    CheckStatus,
}

/// Sends `request`, prints the server's message, and waits at most `timeout` for its goal.
pub fn send_and_wait(
    socket: &Path,
    request: &Request,
    timeout: Duration,
    out: &mut dyn Write,
) -> Result<(), ClientError> {
    let deadline = Instant::now() + timeout;
    let goal = Goal::of(request);
    let mut events = match goal {
        Some(_) => Some(subscribe(socket, deadline, timeout)?),
        None => None,
    };
    let mut control = Connection::open(socket)?;
    let message = expect_ok(control.ask(request)?)?;
    write_out(out, &format!("{message}\n"))?;
    let (Some((goal, name)), Some(events)) = (goal, events.as_mut()) else {
        return Ok(());
    };
    let status = find_service(query_status(&mut control, Some(name))?, name)?;
    let mut state = status.state.clone();
    let mut progress = judge_status(goal, &status);
    loop {
        match progress {
            Progress::Reached => return write_out(out, &format!("{name} is {state}\n")),
            Progress::Failed(why) => return Err(ClientError::Failed(why)),
            Progress::CheckStatus => {
                let status = find_service(query_status(&mut control, Some(name))?, name)?;
                state = status.state.clone();
                progress = judge_status(goal, &status);
                continue;
            }
            Progress::Waiting => {}
        }
        let Some(reply) = events.receive_by(Some(deadline))? else {
            return Err(ClientError::Failed(format!(
                "timed out after {} waiting for {name} to be {} (it is {state})",
                format_duration(timeout),
                goal.wanted_state()
            )));
        };
        progress = match reply {
            Reply::Event(event) if event.service == name => {
                state = event.to.clone();
                judge_event(goal, &event)
            }
            Reply::Event(_) => Progress::Waiting,
            other => return Err(refusal(other)),
        };
    }
}

/// Opens a following `events` stream and reads past the recorded history.
fn subscribe(
    socket: &Path,
    deadline: Instant,
    timeout: Duration,
) -> Result<Connection, ClientError> {
    let mut events = Connection::open(socket)?;
    events.send(&Request::Events { follow: true })?;
    loop {
        match events.receive_by(Some(deadline))? {
            Some(Reply::Event(_)) => {}
            Some(Reply::EndOfHistory) => return Ok(events),
            Some(other) => return Err(refusal(other)),
            None => {
                return Err(ClientError::Failed(format!(
                    "timed out after {} reading the event history",
                    format_duration(timeout)
                )));
            }
        }
    }
}

/// Judges the status taken right after the command. A restart needs a fresh transition,
/// so a status can only end its wait by showing failure.
fn judge_status(goal: Goal, status: &ServiceStatus) -> Progress {
    match (goal, status.state.as_str()) {
        (Goal::Down, "down" | "exited" | "failed") => Progress::Reached,
        (Goal::Running, "running") => Progress::Reached,
        (Goal::Running, "exited") if has_exited_successfully(status) => Progress::Reached,
        (Goal::Running, "exited") => Progress::Failed(format!(
            "{} exited: {}",
            status.name,
            failure_reason(status)
        )),
        (Goal::Running | Goal::Restarted, "failed") => Progress::Failed(format!(
            "{} failed: {}",
            status.name,
            failure_reason(status)
        )),
        _ => Progress::Waiting,
    }
}

fn judge_event(goal: Goal, event: &EventRecord) -> Progress {
    // Only changes of state: a health's or a recovery step's `to` ("failed" for an
    // incident given up) is not the service's state.
    if event.kind.is_some() {
        return Progress::Waiting;
    }
    match (goal, event.to.as_str()) {
        (Goal::Down, "down" | "exited" | "failed") => Progress::Reached,
        (Goal::Running | Goal::Restarted, "running") => Progress::Reached,
        (Goal::Running, "exited") => Progress::CheckStatus,
        (Goal::Running | Goal::Restarted, "failed") => {
            let exit = event
                .exit
                .as_deref()
                .map(|exit| format!(" ({exit})"))
                .unwrap_or_default();
            Progress::Failed(format!("{} failed: {}{exit}", event.service, event.reason))
        }
        _ => Progress::Waiting,
    }
}

/// The server's verdict on the last death when it sent one, else a plain exit 0.
fn has_exited_successfully(status: &ServiceStatus) -> bool {
    match status.deaths.as_deref().and_then(<[_]>::last) {
        Some(death) => death.verdict == "success",
        None => status
            .last_exit
            .as_deref()
            .is_none_or(|exit| exit == "exit 0"),
    }
}

fn failure_reason(status: &ServiceStatus) -> String {
    match (
        status.deaths.as_deref().and_then(<[_]>::last),
        &status.last_exit,
    ) {
        (Some(death), _) => format!("{} ({})", death.reason, death.status),
        (None, Some(exit)) => exit.clone(),
        (None, None) => "no reason recorded".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::fake_server::{FakeServer, Script, status_of};
    use crate::control::protocol::DeathRecord;

    fn event(service: &str, from: &str, to: &str) -> EventRecord {
        EventRecord {
            time: "2025-01-02T03:04:05.678Z".to_string(),
            service: service.to_string(),
            from: from.to_string(),
            to: to.to_string(),
            reason: "restart budget exhausted".to_string(),
            exit: Some("exit 1".to_string()),
            restarts: 5,
            next_attempt_ms: None,
            kind: None,
        }
    }

    /// Every command succeeds and "web" is then in `state`.
    fn answer(request: &Request, state: &str) -> Reply {
        match request {
            Request::Status { .. } => Reply::Status {
                services: vec![status_of("web", state)],
            },
            _ => Reply::Ok {
                message: "ok".to_string(),
            },
        }
    }

    fn answer_with(state: &str) -> fn(&Request) -> Reply {
        match state {
            "running" => |request| answer(request, "running"),
            _ => |request| answer(request, "backoff"),
        }
    }

    fn serve(state: &'static str, live: Vec<Reply>) -> FakeServer {
        FakeServer::start(Script {
            answer: answer_with(state),
            history: vec![event("web", "running", "failed")],
            live,
            live_after_status: true,
            close_after_live: false,
        })
    }

    fn wait(
        server: &FakeServer,
        request: Request,
        timeout: Duration,
    ) -> (Result<(), ClientError>, String) {
        let mut out = Vec::new();
        let result = send_and_wait(&server.path, &request, timeout, &mut out);
        (result, String::from_utf8(out).unwrap())
    }

    fn start_web() -> Request {
        Request::Start { name: "web".into() }
    }

    const PATIENT: Duration = Duration::from_secs(10);

    #[test]
    fn backoff_then_running_succeeds() {
        let server = serve(
            "backoff",
            vec![
                Reply::Event(event("web", "backoff", "starting")),
                Reply::Event(event("db", "starting", "running")),
                Reply::Event(event("web", "starting", "running")),
            ],
        );
        let (result, out) = wait(&server, start_web(), PATIENT);
        result.unwrap();
        assert_eq!(out, "ok\nweb is running\n");
        assert_eq!(
            server.requests(),
            vec![
                r#"{"v":1,"request":{"command":"events","follow":true}}"#,
                r#"{"v":1,"request":{"command":"start","name":"web"}}"#,
                r#"{"v":1,"request":{"command":"status","name":"web"}}"#,
            ]
        );
    }

    #[test]
    fn health_and_recovery_events_are_not_states() {
        for (kind, to) in [
            ("recovery", "failed"),
            ("recovery", "recovered"),
            ("health", "unhealthy"),
        ] {
            let mut record = event("web", "restart", to);
            record.kind = Some(kind.to_string());
            for goal in [Goal::Down, Goal::Running, Goal::Restarted] {
                assert_eq!(judge_event(goal, &record), Progress::Waiting, "{kind} {to}");
            }
        }
    }

    #[test]
    fn already_running_needs_no_event() {
        let server = serve("running", vec![]);
        let (result, out) = wait(&server, start_web(), PATIENT);
        result.unwrap();
        assert_eq!(out, "ok\nweb is running\n");
    }

    #[test]
    fn failed_is_exit_1_with_the_reason() {
        let server = serve(
            "backoff",
            vec![
                Reply::Event(event("db", "running", "failed")),
                Reply::Event(event("web", "backoff", "failed")),
            ],
        );
        let (result, _) = wait(&server, start_web(), PATIENT);
        let error = result.unwrap_err();
        assert_eq!(error.exit_code(), 1);
        assert_eq!(
            error.to_string(),
            "web failed: restart budget exhausted (exit 1)"
        );
    }

    #[test]
    fn silence_times_out_with_exit_1() {
        let server = serve("backoff", vec![]);
        let timeout = Duration::from_millis(300);
        let (result, out) = wait(&server, start_web(), timeout);
        let error = result.unwrap_err();
        assert_eq!(error.exit_code(), 1);
        assert_eq!(
            error.to_string(),
            "timed out after 300ms waiting for web to be running (it is backoff)"
        );
        assert_eq!(out, "ok\n");
    }

    #[test]
    fn stop_waits_for_down() {
        let server = serve(
            "running",
            vec![
                Reply::Event(event("web", "running", "stopping")),
                Reply::Event(event("web", "stopping", "down")),
            ],
        );
        let (result, out) = wait(&server, Request::Stop { name: "web".into() }, PATIENT);
        result.unwrap();
        assert_eq!(out, "ok\nweb is down\n");
    }

    #[test]
    fn restart_needs_a_transition_after_the_command() {
        let server = serve("running", vec![]);
        let restart = Request::Restart { name: "web".into() };
        let (result, _) = wait(&server, restart.clone(), Duration::from_millis(200));
        assert!(
            result
                .unwrap_err()
                .to_string()
                .starts_with("timed out after 200ms")
        );

        let server = serve(
            "running",
            vec![
                Reply::Event(event("web", "running", "stopping")),
                Reply::Event(event("web", "stopping", "starting")),
                Reply::Event(event("web", "starting", "running")),
            ],
        );
        let (result, out) = wait(&server, restart, PATIENT);
        result.unwrap();
        assert_eq!(out, "ok\nweb is running\n");
    }

    #[test]
    fn a_refused_command_is_not_waited_for() {
        let server = FakeServer::start(Script {
            answer: |_| Reply::Error {
                message: "no service named 'web'".to_string(),
            },
            history: vec![],
            live: vec![],
            live_after_status: true,
            close_after_live: false,
        });
        let (result, out) = wait(&server, start_web(), PATIENT);
        assert_eq!(result.unwrap_err().to_string(), "no service named 'web'");
        assert_eq!(out, "");
    }

    #[test]
    fn status_judgements() {
        let death = |verdict: &str| DeathRecord {
            ago_ms: 10,
            status: "exit 3".to_string(),
            uptime_ms: 5,
            verdict: verdict.to_string(),
            reason: "unit cannot start".to_string(),
            last_lines: Vec::new(),
        };
        let with_deaths = |state: &str, verdict: &str| ServiceStatus {
            deaths: Some(vec![death(verdict)]),
            ..status_of("web", state)
        };
        let exited_with = |exit: &str| ServiceStatus {
            last_exit: Some(exit.to_string()),
            ..status_of("web", "exited")
        };
        use Progress::*;
        for (goal, status, expected) in [
            (Goal::Running, status_of("web", "running"), Reached),
            (Goal::Running, status_of("web", "starting"), Waiting),
            (Goal::Running, status_of("web", "backoff"), Waiting),
            (Goal::Running, with_deaths("exited", "success"), Reached),
            (Goal::Running, exited_with("exit 0"), Reached),
            (
                Goal::Running,
                exited_with("exit 2"),
                Failed("web exited: exit 2".into()),
            ),
            (
                Goal::Running,
                with_deaths("failed", "permanent"),
                Failed("web failed: unit cannot start (exit 3)".into()),
            ),
            (Goal::Down, status_of("web", "down"), Reached),
            (Goal::Down, status_of("web", "exited"), Reached),
            (Goal::Down, status_of("web", "failed"), Reached),
            (Goal::Down, status_of("web", "stopping"), Waiting),
            (Goal::Restarted, status_of("web", "running"), Waiting),
            (
                Goal::Restarted,
                status_of("web", "failed"),
                Failed("web failed: no reason recorded".into()),
            ),
        ] {
            assert_eq!(judge_status(goal, &status), expected, "{goal:?} {status:?}");
        }
    }

    #[test]
    fn event_judgements() {
        use Progress::*;
        for (goal, to, expected) in [
            (Goal::Running, "starting", Waiting),
            (Goal::Running, "running", Reached),
            (Goal::Running, "exited", CheckStatus),
            (Goal::Running, "backoff", Waiting),
            (
                Goal::Running,
                "failed",
                Failed("web failed: restart budget exhausted (exit 1)".into()),
            ),
            (Goal::Restarted, "stopping", Waiting),
            (Goal::Restarted, "running", Reached),
            (Goal::Down, "stopping", Waiting),
            (Goal::Down, "down", Reached),
            (Goal::Down, "exited", Reached),
            (Goal::Down, "failed", Reached),
        ] {
            assert_eq!(
                judge_event(goal, &event("web", "x", to)),
                expected,
                "{goal:?} {to}"
            );
        }
    }
}
