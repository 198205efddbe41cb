//! The client end of the control socket, for `phoenixctl`: connect, send request lines, read
//! reply lines under a timeout, and carry out each command, writing what it prints. Blocking
//! std I/O is right here: this is a short-lived command, never PID 1. It must not decide
//! anything the server owns; it only asks and reports.

use std::fmt;
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::check::{check_reasons, wanted_count};
use super::ctl_cli::Invocation;
use super::protocol::{
    IncidentRecord, Reply, Request, ServiceStatus, format_reply, format_request, parse_reply,
};
use super::render::{
    render_incident_table, render_incidents, render_log_line, render_service, render_status_table,
};
use super::wait::send_and_wait;

/// How long a plain request waits for its reply before Phoenix counts as unresponsive.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a command did not succeed; each kind has its exit code.
#[derive(Debug)]
pub enum ClientError {
    /// Connecting failed: exit 3.
    Unreachable { path: PathBuf, error: io::Error },
    /// The connection broke, or Phoenix went silent, mid-conversation: exit 3.
    Lost { path: PathBuf, reason: String },
    /// Phoenix refused the request, or a wait ended badly: exit 1.
    Failed(String),
    /// Writing our own output failed: exit 1, or 0 quietly when the reader went away.
    Output(io::Error),
}

impl ClientError {
    pub fn exit_code(&self) -> u8 {
        match self {
            ClientError::Unreachable { .. } | ClientError::Lost { .. } => 3,
            ClientError::Failed(_) => 1,
            ClientError::Output(_) if self.is_quiet() => 0,
            ClientError::Output(_) => 1,
        }
    }

    /// A closed pipe (`phoenixctl events --follow | head`) is how a reader says "enough".
    pub fn is_quiet(&self) -> bool {
        matches!(self, ClientError::Output(error) if error.kind() == io::ErrorKind::BrokenPipe)
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Unreachable { path, error } => {
                write!(f, "cannot reach Phoenix at {}: {error}", path.display())
            }
            ClientError::Lost { path, reason } => {
                write!(
                    f,
                    "lost connection to Phoenix at {}: {reason}",
                    path.display()
                )
            }
            ClientError::Failed(message) => f.write_str(message),
            ClientError::Output(error) => write!(f, "cannot write output: {error}"),
        }
    }
}

/// One connection to the control socket; several requests may share it.
pub struct Connection {
    path: PathBuf,
    reader: BufReader<UnixStream>,
    /// A reply line read in part when a timeout struck; the next read completes it.
    partial: Vec<u8>,
}

/// What stood in the way, as far as the files tell: who owns the socket and its directory,
/// who we are, and (for root) whether the capability that lets root in is missing.
fn permission_denied(path: &Path) -> String {
    use std::os::unix::fs::MetadataExt;
    let describe = |what: &str, path: Option<&Path>| {
        path.and_then(|path| std::fs::metadata(path).ok())
            .map(|meta| {
                format!(
                    "{what} owned by uid {} with mode {:04o}",
                    meta.uid(),
                    meta.mode() & 0o7777
                )
            })
    };
    let facts: Vec<String> = [
        describe("socket", Some(path)),
        describe("directory", path.parent()),
    ]
    .into_iter()
    .flatten()
    .collect();
    let uid = nix::unistd::geteuid();
    let mut message = format!("permission denied: {}", path.display());
    if !facts.is_empty() {
        message.push_str(&format!(" ({})", facts.join(", ")));
    }
    message.push_str(&format!("; phoenixctl runs as uid {uid}"));
    if uid.is_root() && !has_dac_override() {
        message.push_str(" without CAP_DAC_OVERRIDE, so it may not open another user's files: run it as the socket's owner or with that capability");
    } else if !uid.is_root() {
        message.push_str(": Phoenix serves only root and its own user");
    }
    message
}

/// Whether this process holds CAP_DAC_OVERRIDE (bit 1 of `CapEff` in /proc/self/status).
fn has_dac_override() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|line| line.starts_with("CapEff:"))?;
            u64::from_str_radix(line.split_whitespace().nth(1)?, 16).ok()
        })
        .is_some_and(|effective| effective & (1 << 1) != 0)
}

impl Connection {
    pub fn open(path: &Path) -> Result<Connection, ClientError> {
        let stream = UnixStream::connect(path).map_err(|error| match error.kind() {
            // The socket (0600) exists but is not ours to use: that is a refusal, not an
            // absence.
            io::ErrorKind::PermissionDenied => ClientError::Failed(permission_denied(path)),
            _ => ClientError::Unreachable {
                path: path.to_path_buf(),
                error,
            },
        })?;
        Ok(Connection {
            path: path.to_path_buf(),
            reader: BufReader::new(stream),
            partial: Vec::new(),
        })
    }

    pub fn send(&mut self, request: &Request) -> Result<(), ClientError> {
        let line = format_request(request);
        let Err(error) = self.reader.get_mut().write_all(line.as_bytes()) else {
            return Ok(());
        };
        // Phoenix may have answered and closed before our request went out (a peer it
        // refuses is told so at once): a reply already waiting says more than EPIPE.
        match self.receive_by(Some(Instant::now() + Duration::from_millis(100))) {
            Ok(Some(reply)) => Err(refusal(reply)),
            _ => Err(self.lost(error.to_string())),
        }
    }

    /// The next reply, waiting at most [`REPLY_TIMEOUT`].
    pub fn receive(&mut self) -> Result<Reply, ClientError> {
        match self.receive_by(Some(Instant::now() + REPLY_TIMEOUT))? {
            Some(reply) => Ok(reply),
            None => Err(self.lost(format!(
                "no reply within {}",
                crate::unit::format_duration(REPLY_TIMEOUT)
            ))),
        }
    }

    /// Sends `request` and reads its reply.
    pub fn ask(&mut self, request: &Request) -> Result<Reply, ClientError> {
        self.send(request)?;
        self.receive()
    }

    /// The next reply, or `None` if none arrived by `deadline` (`None` waits for ever).
    pub fn receive_by(&mut self, deadline: Option<Instant>) -> Result<Option<Reply>, ClientError> {
        let timeout =
            match deadline.map(|deadline| deadline.saturating_duration_since(Instant::now())) {
                // set_read_timeout refuses zero, and zero left means the time is up anyway.
                Some(left) if left.is_zero() => return Ok(None),
                other => other,
            };
        let armed = self.reader.get_ref().set_read_timeout(timeout);
        armed.map_err(|error| self.lost(error.to_string()))?;
        match self.reader.read_until(b'\n', &mut self.partial) {
            Ok(_) if self.partial.ends_with(b"\n") => {
                let line = std::mem::take(&mut self.partial);
                let reply = parse_reply(line.strip_suffix(b"\n").unwrap_or(&line));
                reply
                    .map(Some)
                    .map_err(|error| ClientError::Failed(error.to_string()))
            }
            Ok(_) => Err(self.lost("Phoenix closed the connection".to_string())),
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Ok(None)
            }
            Err(error) => Err(self.lost(error.to_string())),
        }
    }

    fn lost(&self, reason: String) -> ClientError {
        ClientError::Lost {
            path: self.path.clone(),
            reason,
        }
    }
}

/// Carries out one invocation against the socket at `socket`, writing its output to `out`.
pub fn run(invocation: &Invocation, socket: &Path, out: &mut dyn Write) -> Result<(), ClientError> {
    if invocation.check {
        return check(socket, out);
    }
    match (&invocation.request, invocation.wait) {
        (Request::Status { name }, _) => show_status(socket, name.as_deref(), invocation.json, out),
        (Request::Events { follow }, _) => print_events(socket, *follow, out),
        (Request::Logs { .. }, _) => print_logs(socket, &invocation.request, invocation.json, out),
        (Request::Incidents { name }, _) => {
            show_incidents(socket, name.as_deref(), invocation.json, out)
        }
        (request, Some(timeout)) => send_and_wait(socket, request, timeout, out),
        (request, None) => {
            let message = expect_ok(Connection::open(socket)?.ask(request)?)?;
            write_out(out, &format!("{message}\n"))
        }
    }
}

fn show_status(
    socket: &Path,
    name: Option<&str>,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), ClientError> {
    let mut connection = Connection::open(socket)?;
    let services = query_status(&mut connection, name)?;
    let text = match (name, json) {
        (None, true) => to_json("status", &services)?,
        (None, false) => render_status_table(&services),
        (Some(name), true) => to_json("status", &find_service(services, name)?)?,
        (Some(name), false) => render_service(&find_service(services, name)?),
    };
    write_out(out, &text)
}

/// `check`: one line for each wanted service that is not ready or is unhealthy, and exit
/// 1; or a line saying all is well.
fn check(socket: &Path, out: &mut dyn Write) -> Result<(), ClientError> {
    let services = query_status(&mut Connection::open(socket)?, None)?;
    let reasons = check_reasons(&services);
    let wanted = wanted_count(&services);
    if reasons.is_empty() {
        return write_out(out, &format!("ok: {wanted} wanted service(s) ready\n"));
    }
    write_out(out, &format!("{}\n", reasons.join("\n")))?;
    Err(ClientError::Failed(format!(
        "not ready: {} of {wanted} wanted service(s)",
        reasons.len()
    )))
}

/// Every incident as a table, or one service's each in full; with `json`, the records as
/// Phoenix sent them, in one array.
fn show_incidents(
    socket: &Path,
    name: Option<&str>,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), ClientError> {
    let request = Request::Incidents {
        name: name.map(String::from),
    };
    let incidents: Vec<IncidentRecord> = match Connection::open(socket)?.ask(&request)? {
        Reply::Incidents { incidents } => incidents,
        other => return Err(refusal(other)),
    };
    let text = match (name, json) {
        (_, true) => to_json("incidents", &incidents)?,
        (None, false) => render_incident_table(&incidents),
        (Some(_), false) => render_incidents(&incidents),
    };
    write_out(out, &text)
}

/// Asks for the status of every service, or of one.
pub fn query_status(
    connection: &mut Connection,
    name: Option<&str>,
) -> Result<Vec<ServiceStatus>, ClientError> {
    let request = Request::Status {
        name: name.map(String::from),
    };
    match connection.ask(&request)? {
        Reply::Status { services } => Ok(services),
        other => Err(refusal(other)),
    }
}

/// The status of `name` out of a reply's services.
pub fn find_service(
    services: Vec<ServiceStatus>,
    name: &str,
) -> Result<ServiceStatus, ClientError> {
    services
        .into_iter()
        .find(|service| service.name == name)
        .ok_or_else(|| ClientError::Failed(format!("Phoenix sent no status for '{name}'")))
}

/// The next reply of a stream: within the reply deadline while history is sent; once live,
/// without one (a quiet system may send nothing for hours; only the connection ending
/// stops us), `None` when nothing came yet.
fn next_reply(connection: &mut Connection, live: bool) -> Result<Option<Reply>, ClientError> {
    if live {
        connection.receive_by(None)
    } else {
        connection.receive().map(Some)
    }
}

/// The history as JSON lines until the end of history, then live events with `follow`.
fn print_events(socket: &Path, follow: bool, out: &mut dyn Write) -> Result<(), ClientError> {
    let mut connection = Connection::open(socket)?;
    connection.send(&Request::Events { follow })?;
    let mut live = false;
    loop {
        let Some(reply) = next_reply(&mut connection, live)? else {
            continue;
        };
        match reply {
            Reply::Event(record) => {
                let line = serde_json::to_string(&record).map_err(|error| {
                    ClientError::Failed(format!("cannot format event: {error}"))
                })?;
                write_out(out, &format!("{line}\n"))?;
            }
            Reply::EndOfHistory if follow => live = true,
            Reply::EndOfHistory => return Ok(()),
            other => return Err(refusal(other)),
        }
    }
}

/// A service's recent lines until the end of history, then new ones with `follow`; as
/// text, or as JSON lines with `json`.
fn print_logs(
    socket: &Path,
    request: &Request,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), ClientError> {
    let follow = matches!(request, Request::Logs { follow: true, .. });
    let mut connection = Connection::open(socket)?;
    connection.send(request)?;
    let mut live = false;
    loop {
        let Some(reply) = next_reply(&mut connection, live)? else {
            continue;
        };
        match reply {
            Reply::LogLine(record) if json => {
                let line = serde_json::to_string(&record).map_err(|error| {
                    ClientError::Failed(format!("cannot format a log line: {error}"))
                })?;
                write_out(out, &format!("{line}\n"))?;
            }
            Reply::LogLine(record) => write_out(out, &render_log_line(&record))?,
            Reply::EndOfHistory if follow => live = true,
            Reply::EndOfHistory => return Ok(()),
            other => return Err(refusal(other)),
        }
    }
}

/// The message of an `ok` reply; anything else is a refusal.
pub fn expect_ok(reply: Reply) -> Result<String, ClientError> {
    match reply {
        Reply::Ok { message } => Ok(message),
        other => Err(refusal(other)),
    }
}

/// An error reply's message, or a note that the reply made no sense here.
pub fn refusal(reply: Reply) -> ClientError {
    match reply {
        Reply::Error { message } => ClientError::Failed(message),
        other => ClientError::Failed(format!(
            "unexpected reply from Phoenix: {}",
            format_reply(&other).trim_end()
        )),
    }
}

/// Writes and flushes, so a follower sees each line as it comes.
pub fn write_out(out: &mut dyn Write, text: &str) -> Result<(), ClientError> {
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(ClientError::Output)
}

/// `what` names the document in the error: "status", "incidents".
fn to_json<T: serde::Serialize>(what: &str, value: &T) -> Result<String, ClientError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|error| ClientError::Failed(format!("cannot format {what}: {error}")))?;
    Ok(format!("{text}\n"))
}

#[cfg(test)]
mod tests;
