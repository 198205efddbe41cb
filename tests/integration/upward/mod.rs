//! sd_notify upward (DESIGN.md §7): Phoenix started with `NOTIFY_SOCKET` and
//! `WATCHDOG_USEC`, as systemd starts a `Type=notify` unit with `WatchdogSec=`, tells the
//! test's own datagram listener `READY=1` once its services are ready, `STATUS=` lines,
//! `WATCHDOG=1` pings while it runs, and `STOPPING=1` at shutdown.

use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::harness::{DEADLINE, Phoenix, TestResult};
use crate::services::setup::ServicesDir;

/// `db` is ready once the test creates `go`; `web` at once.
fn slow_db_and_web(layout: &ServicesDir) -> TestResult {
    layout.unit(
        "db",
        "command = \"touch db.started; exec sleep 1000\"\n[ready]\ncheck = \"exec\"\ncommand = [\"test\", \"-e\", \"go\"]\ninterval = \"50ms\"\n",
    )?;
    layout.unit("web", "command = \"exec sleep 1000\"\n")
}

/// Every datagram the listener receives, with when it arrived, on a channel.
fn listen(socket: UnixDatagram) -> Receiver<(Instant, String)> {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok(size) = socket.recv(&mut buffer) {
            let text = String::from_utf8_lossy(&buffer[..size]).into_owned();
            if sender.send((Instant::now(), text)).is_err() {
                return;
            }
        }
    });
    receiver
}

/// What arrived so far and what arrives until `until` holds for one message (or the
/// deadline passes: an error naming `what`).
#[track_caller]
fn receive_until(
    receiver: &Receiver<(Instant, String)>,
    seen: &mut Vec<(Instant, String)>,
    phoenix: &Phoenix,
    what: &str,
    until: impl Fn(&str) -> bool,
) -> TestResult<Instant> {
    let deadline = Instant::now() + DEADLINE;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let Ok((at, message)) = receiver.recv_timeout(left) else {
            break;
        };
        seen.push((at, message.clone()));
        if until(&message) {
            return Ok(at);
        }
    }
    Err(format!(
        "{}: no {what} within {DEADLINE:?}; received {:?}{}",
        std::panic::Location::caller(),
        seen.iter().map(|(_, m)| m).collect::<Vec<_>>(),
        phoenix.context()
    )
    .into())
}

fn count(seen: &[(Instant, String)], message: &str) -> usize {
    seen.iter().filter(|(_, m)| m == message).count()
}

#[test]
fn ready_after_the_services_status_watchdog_pings_and_stopping() -> TestResult {
    let layout = ServicesDir::new()?;
    slow_db_and_web(&layout)?;
    let path = layout.path("manager.sock");
    let receiver = listen(UnixDatagram::bind(&path)?);
    let socket = path.display().to_string();
    let mut phoenix = layout.start_with_env(
        &[("NOTIFY_SOCKET", &socket), ("WATCHDOG_USEC", "200000")],
        &[],
    )?;
    let mut seen = Vec::new();
    phoenix.wait_for_file("db.started")?;
    // Pings while db is still starting: the loop turns, but Phoenix is not ready.
    for _ in 0..3 {
        receive_until(&receiver, &mut seen, &phoenix, "WATCHDOG=1", |m| {
            m == "WATCHDOG=1"
        })?;
    }
    assert_eq!(count(&seen, "READY=1"), 0, "READY=1 early: {seen:?}");
    assert!(
        seen.iter()
            .any(|(_, m)| m.starts_with("STATUS=") && m.contains("starting")),
        "no STATUS= while starting: {seen:?}"
    );
    let go = Instant::now();
    phoenix.touch("go")?;
    let ready = receive_until(&receiver, &mut seen, &phoenix, "READY=1", |m| {
        m == "READY=1"
    })?;
    assert!(ready >= go, "READY=1 before db could be ready");
    let last_status = seen
        .iter()
        .rev()
        .find_map(|(_, m)| m.strip_prefix("STATUS="));
    assert_eq!(last_status, Some("2 services: 2 running"), "{seen:?}");

    // The pings keep coming, at about 100ms: at least 3 in a second, whatever the load.
    let window = Instant::now();
    while window.elapsed() < Duration::from_secs(1) {
        if let Ok(received) = receiver.recv_timeout(Duration::from_millis(50)) {
            seen.push(received);
        }
    }
    let pings = seen
        .iter()
        .filter(|(at, m)| *at >= window && m == "WATCHDOG=1")
        .count();
    assert!(
        pings >= 3,
        "{pings} WATCHDOG=1 in a second{}",
        phoenix.context()
    );

    phoenix.signal(Signal::SIGTERM)?;
    receive_until(&receiver, &mut seen, &phoenix, "STOPPING=1", |m| {
        m == "STOPPING=1"
    })?;
    assert_eq!(phoenix.wait_exit(DEADLINE)?, 0);
    assert_eq!(count(&seen, "READY=1"), 1, "{seen:?}");
    assert_eq!(count(&seen, "STOPPING=1"), 1, "{seen:?}");
    Ok(())
}

/// systemd hands out abstract names (`@/org/freedesktop/systemd1/notify/…`) too.
#[test]
fn an_abstract_notify_socket_is_told_ready() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit("web", "command = \"exec sleep 1000\"\n")?;
    let name = format!("phoenix-upward-test-{}", std::process::id());
    let address = SocketAddr::from_abstract_name(name.as_bytes())?;
    let receiver = listen(UnixDatagram::bind_addr(&address)?);
    let socket = format!("@{name}");
    let mut phoenix = layout.start_with_env(&[("NOTIFY_SOCKET", &socket)], &[])?;
    let mut seen = Vec::new();
    receive_until(&receiver, &mut seen, &phoenix, "READY=1", |m| {
        m == "READY=1"
    })?;
    phoenix.signal(Signal::SIGTERM)?;
    receive_until(&receiver, &mut seen, &phoenix, "STOPPING=1", |m| {
        m == "STOPPING=1"
    })?;
    assert_eq!(phoenix.wait_exit(DEADLINE)?, 0);
    // No WATCHDOG_USEC: no pings.
    assert_eq!(count(&seen, "WATCHDOG=1"), 0, "{seen:?}");
    Ok(())
}
