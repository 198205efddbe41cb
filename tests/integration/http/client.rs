//! Reaching the endpoint from outside Phoenix's PID namespace (the network is shared):
//! Phoenix started with `[http] listen` on a free loopback port, `curl` runs bounded by a
//! deadline, and raw requests over a std `TcpStream`.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use crate::control::ctl::{run, start};
use crate::harness::{DEADLINE, Phoenix, TestResult};
use crate::services::setup::ServicesDir;
use crate::watch::servers::free_port;

/// Phoenix on `layout` with the endpoint on a free port (`limits` are more `[http]`
/// keys), once `/healthz` answers.
pub fn start_with_http(layout: ServicesDir, limits: &str) -> TestResult<(Phoenix, u16)> {
    let port = free_port()?;
    layout.settings(&format!("[http]\nlisten = \"127.0.0.1:{port}\"\n{limits}"))?;
    let phoenix = start(layout)?;
    phoenix.eventually("/healthz answers", || {
        curl(port, "/healthz", &[]).is_ok_and(|(status, _)| status == 200)
    })?;
    Ok((phoenix, port))
}

/// `curl -si` of `path`: the status and everything received (head and body).
#[track_caller]
pub fn curl(port: u16, path: &str, args: &[&str]) -> TestResult<(u16, String)> {
    let mut command = Command::new("curl");
    command
        .args(["-s", "-i", "--max-time", "5"])
        .args(args)
        .arg(format!("http://127.0.0.1:{port}{path}"));
    let outcome = run(command, DEADLINE)?;
    if outcome.code != 0 {
        return Err(format!("curl {path}: {outcome:?}").into());
    }
    let status = status_of(&outcome.stdout)
        .ok_or_else(|| format!("curl {path}: no status line in {:?}", outcome.stdout))?;
    Ok((status, outcome.stdout))
}

/// The status of an `HTTP/1.1 NNN …` response.
pub fn status_of(response: &str) -> Option<u16> {
    response.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

/// The body of a response.
pub fn body_of(response: &str) -> &str {
    response.split_once("\r\n\r\n").map_or("", |(_, body)| body)
}

/// Sends `request` as it is and reads until Phoenix closes (a reset ends it too).
pub fn raw(port: u16, request: &[u8]) -> TestResult<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(DEADLINE))?;
    stream.write_all(request)?;
    Ok(read_to_close(&mut stream))
}

/// Everything received until the peer closes or resets.
pub fn read_to_close(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buffer = [0; 16 * 1024];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(count) => received.extend_from_slice(&buffer[..count]),
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    String::from_utf8_lossy(&received).into_owned()
}

/// Raises this process's descriptor limit to its hard limit (a flood needs thousands).
pub fn raise_descriptor_limit() -> TestResult {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    setrlimit(Resource::RLIMIT_NOFILE, hard, hard)?;
    Ok(())
}

/// Descriptors Phoenix holds open now.
pub fn open_descriptors(phoenix: &Phoenix) -> TestResult<usize> {
    Ok(std::fs::read_dir(format!("/proc/{}/fd", phoenix.pid()?))?.count())
}

/// A short pause between the bytes of a slow client: pacing, not waiting for a condition.
pub const SLOW_PACE: Duration = Duration::from_millis(100);
