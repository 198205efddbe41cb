//! The service manager above Phoenix (systemd, DESIGN.md §7): the `NOTIFY_SOCKET` and
//! `WATCHDOG_USEC` of Phoenix's own environment, and the datagrams sent there. Sending
//! never blocks: a manager that does not read costs a dropped message and one warning. The
//! variables stay in Phoenix's environment (a re-exec finds them again); services never
//! see them (`service/spec.rs` unsets them).

use std::io;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

/// Where Phoenix's notifications go.
pub struct ManagerSocket {
    socket: UnixDatagram,
    address: SocketAddr,
    /// `NOTIFY_SOCKET` as given, for messages.
    name: String,
    /// A failed send was already reported.
    warned: bool,
}

impl ManagerSocket {
    /// `name` as systemd gives it: an absolute path, or `@name` for an abstract socket.
    pub fn open(name: &str) -> io::Result<ManagerSocket> {
        let address = match name.strip_prefix('@') {
            Some(abstract_name) => SocketAddr::from_abstract_name(abstract_name.as_bytes())?,
            None if name.starts_with('/') => SocketAddr::from_pathname(name)?,
            None => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "expected an absolute path or an @abstract name",
                ));
            }
        };
        let socket = UnixDatagram::unbound()?;
        socket.set_nonblocking(true)?;
        Ok(ManagerSocket {
            socket,
            address,
            name: name.to_string(),
            warned: false,
        })
    }

    /// Sends one message; the first failure is a warning, later ones only debug lines.
    pub fn send(&mut self, message: &str) {
        let Err(error) = self.socket.send_to_addr(message.as_bytes(), &self.address) else {
            log::debug!("told the service manager {message:?}");
            return;
        };
        let text = super::io_error_text(&error);
        if self.warned {
            log::debug!(
                "NOTIFY_SOCKET {}: unable to send {message:?}: {text}",
                self.name
            );
        } else {
            self.warned = true;
            log::warn!(
                "NOTIFY_SOCKET {}: unable to send {message:?}: {text} (further failures are not reported)",
                self.name
            );
        }
    }
}

/// The interval of `WATCHDOG=1` pings: half of `WATCHDOG_USEC`, when it is set, positive,
/// and meant for this process (`WATCHDOG_PID` unset or `own_pid`).
pub fn watchdog_interval(usec: Option<&str>, pid: Option<&str>, own_pid: u32) -> Option<Duration> {
    if let Some(pid) = pid.filter(|pid| !pid.is_empty()) {
        if pid.trim().parse::<u32>().ok() != Some(own_pid) {
            return None;
        }
    }
    let usec = usec?.trim().parse::<u64>().ok().filter(|&usec| usec > 0)?;
    Some(Duration::from_micros(usec) / 2)
}

/// The manager Phoenix itself was started under, if any, with the watchdog interval; a
/// `NOTIFY_SOCKET` that cannot be used is a warning.
pub fn from_environment() -> Option<(ManagerSocket, Option<Duration>)> {
    let name = std::env::var("NOTIFY_SOCKET")
        .ok()
        .filter(|name| !name.is_empty())?;
    let socket = match ManagerSocket::open(&name) {
        Ok(socket) => socket,
        Err(error) => {
            log::warn!(
                "NOTIFY_SOCKET {name}: unusable: {}; the service manager is not told anything",
                super::io_error_text(&error)
            );
            return None;
        }
    };
    let usec = std::env::var("WATCHDOG_USEC").ok();
    let pid = std::env::var("WATCHDOG_PID").ok();
    let interval = watchdog_interval(usec.as_deref(), pid.as_deref(), std::process::id());
    Some((socket, interval))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watchdog_interval_is_half_of_watchdog_usec_for_this_process() {
        let half = |usec: &str, pid: Option<&str>| watchdog_interval(Some(usec), pid, 42);
        assert_eq!(half("200000", None), Some(Duration::from_millis(100)));
        assert_eq!(half("200000", Some("42")), Some(Duration::from_millis(100)));
        assert_eq!(half("200000", Some("")), Some(Duration::from_millis(100)));
        assert_eq!(half("200000", Some("7")), None);
        assert_eq!(half("0", None), None);
        assert_eq!(half("soon", None), None);
        assert_eq!(watchdog_interval(None, None, 42), None);
    }

    #[test]
    fn sends_to_a_path_and_to_an_abstract_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let listener = UnixDatagram::bind(&path).unwrap();
        let mut socket = ManagerSocket::open(path.to_str().unwrap()).unwrap();
        socket.send("READY=1");
        let mut buffer = [0; 64];
        let size = listener.recv(&mut buffer).unwrap();
        assert_eq!(&buffer[..size], b"READY=1");

        let name = format!("phoenix-test-{}", std::process::id());
        let address = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let listener = UnixDatagram::bind_addr(&address).unwrap();
        let mut socket = ManagerSocket::open(&format!("@{name}")).unwrap();
        socket.send("STOPPING=1");
        let size = listener.recv(&mut buffer).unwrap();
        assert_eq!(&buffer[..size], b"STOPPING=1");
    }

    #[test]
    fn a_relative_name_or_a_missing_listener_is_not_fatal() {
        assert!(ManagerSocket::open("relative.sock").is_err());
        let mut socket = ManagerSocket::open("/nonexistent/notify.sock").unwrap();
        socket.send("READY=1");
        socket.send("READY=1");
        assert!(socket.warned);
    }
}
