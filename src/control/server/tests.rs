//! Tests of the control server.
use super::*;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::UnixStream as StdStream;
use std::time::{Duration, Instant};

use mio::{Events, Poll};
use nix::errno::Errno;
use nix::sys::socket::MsgFlags;

const FIRST_TOKEN: usize = 10;

struct Harness {
    poll: Poll,
    events: Events,
    server: ControlServer,
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Harness {
    fn new() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run").join("control.sock");
        let poll = Poll::new().unwrap();
        let server = ControlServer::bind(&path, poll.registry(), FIRST_TOKEN).unwrap();
        Harness {
            poll,
            events: Events::with_capacity(256),
            server,
            path,
            _dir: dir,
        }
    }

    fn connect(&self) -> TestClient {
        TestClient::connect(&self.path)
    }

    /// One poll round: serves every ready token, returns the requests.
    fn pump(&mut self) -> Vec<(ClientId, Request)> {
        self.poll
            .poll(&mut self.events, Some(Duration::from_millis(20)))
            .unwrap();
        let tokens: Vec<Token> = self.events.iter().map(|event| event.token()).collect();
        let mut requests = Vec::new();
        for token in tokens {
            assert!(self.server.owns(token), "{token:?}");
            requests.extend(self.server.handle(token, self.poll.registry()));
        }
        requests
    }

    /// Answers every request with `Ok` naming it, following `events --follow`.
    fn answer(&mut self, requests: Vec<(ClientId, Request)>) {
        for (client, request) in requests {
            if request == (Request::Events { follow: true }) {
                self.server.follow(client);
            }
            let reply = Reply::Ok {
                message: format!("{request:?}"),
            };
            self.server.reply(client, &reply, self.poll.registry());
        }
    }

    /// Serves and answers until `done` holds, for at most ten seconds.
    #[track_caller]
    fn serve_until(&mut self, mut done: impl FnMut(&mut Harness) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done(self) {
            assert!(Instant::now() < deadline, "timed out");
            let requests = self.pump();
            self.answer(requests);
        }
    }
}

/// A blocking std client that reads without blocking, so one thread drives both ends.
struct TestClient {
    stream: StdStream,
    received: Vec<u8>,
    replies: Vec<Reply>,
    is_closed: bool,
}

impl TestClient {
    fn connect(path: &Path) -> TestClient {
        TestClient {
            stream: StdStream::connect(path).unwrap(),
            received: Vec::new(),
            replies: Vec::new(),
            is_closed: false,
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    fn send_request(&mut self, request: &Request) {
        self.send(protocol::format_request(request).as_bytes());
    }

    /// Reads what has arrived; true once at least `count` replies are in.
    fn has_replies(&mut self, count: usize) -> bool {
        let mut buffer = [0u8; 65536];
        while !self.is_closed {
            let flags = MsgFlags::MSG_DONTWAIT;
            match socket::recv(self.stream.as_raw_fd(), &mut buffer, flags) {
                Ok(0) | Err(Errno::ECONNRESET) => self.is_closed = true,
                Ok(read) => self.received.extend_from_slice(&buffer[..read]),
                Err(Errno::EAGAIN) => break,
                Err(errno) => panic!("recv: {errno}"),
            }
        }
        while let Some(end) = self.received.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.received.drain(..=end).collect();
            self.replies
                .push(protocol::parse_reply(&line[..end]).unwrap());
        }
        self.replies.len() >= count
    }
}

fn status() -> Request {
    Request::Status { name: None }
}

fn error_message(reply: &Reply) -> &str {
    match reply {
        Reply::Error { message } => message,
        other => panic!("expected an error reply, got {other:?}"),
    }
}

#[test]
fn a_valid_request_is_returned_and_answered_on_an_open_connection() {
    let mut harness = Harness::new();
    let mut client = harness.connect();
    client.send_request(&status());
    let mut received = Vec::new();
    while received.is_empty() {
        received = harness.pump();
    }
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].1, status());
    harness.answer(received);
    harness.serve_until(|_| client.has_replies(1));
    assert_eq!(
        client.replies[0],
        Reply::Ok {
            message: "Status { name: None }".into()
        }
    );
    // The connection stays open for another request.
    client.send_request(&Request::Reload);
    harness.serve_until(|_| client.has_replies(2));
    assert_eq!(
        client.replies[1],
        Reply::Ok {
            message: "Reload".into()
        }
    );
}

#[test]
fn malformed_lines_get_error_replies_and_are_never_returned() {
    let mut harness = Harness::new();
    let mut client = harness.connect();
    client
        .send(b"not json\n\xff\xfe\x00garbage\n\n{\"v\":9,\"request\":{\"command\":\"reload\"}}\n");
    client.send_request(&status());
    let mut requests = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !client.has_replies(3) {
        assert!(Instant::now() < deadline);
        requests.extend(harness.pump());
    }
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert!(error_message(&client.replies[0]).starts_with("malformed request"));
    assert!(error_message(&client.replies[1]).starts_with("malformed request"));
    assert!(error_message(&client.replies[2]).contains("unsupported protocol version 9"));
}

#[test]
fn a_one_mebibyte_line_gets_an_error_and_the_server_keeps_serving() {
    let mut harness = Harness::new();
    let mut flooder = harness.connect();
    let mut writer = flooder.stream.try_clone().unwrap();
    let thread = std::thread::spawn(move || {
        let mut bytes = vec![b'x'; 1 << 20];
        bytes.push(b'\n');
        bytes.extend_from_slice(protocol::format_request(&Request::Shutdown).as_bytes());
        writer.write_all(&bytes).unwrap();
    });
    let mut other = harness.connect();
    other.send_request(&status());
    harness.serve_until(|_| other.has_replies(1) && flooder.has_replies(2));
    thread.join().unwrap();
    assert!(matches!(other.replies[0], Reply::Ok { .. }));
    assert!(error_message(&flooder.replies[0]).starts_with("request too long"));
    // The rest of the long line was skipped; the next line is a request again.
    assert_eq!(
        flooder.replies[1],
        Reply::Ok {
            message: "Shutdown".into()
        }
    );
    assert_eq!(flooder.replies.len(), 2);
}

#[test]
fn a_client_over_its_read_budget_is_served_on_a_later_wake_up() {
    let mut harness = Harness::new();
    let mut client = harness.connect();
    // A send buffer large enough that everything is queued before the server reads.
    let size = 4usize << 20;
    if socket::setsockopt(&client.stream, socket::sockopt::SndBufForce, &size).is_err() {
        eprintln!("skipped: SO_SNDBUFFORCE needs CAP_NET_ADMIN");
        return;
    }
    // A mebibyte of blank lines (ignored) and then a request: more than one wake-up's
    // read budget, arriving without any further edge to wake the server.
    let mut bytes = vec![b'\n'; 1 << 20];
    bytes.extend_from_slice(protocol::format_request(&status()).as_bytes());
    client.send(&bytes);
    harness.serve_until(|_| client.has_replies(1));
    assert!(matches!(client.replies[0], Reply::Ok { .. }));
}

#[test]
fn two_hundred_clients_connecting_at_once_are_all_answered() {
    let mut harness = Harness::new();
    let mut clients: Vec<TestClient> = (0..200).map(|_| harness.connect()).collect();
    for client in &mut clients {
        client.send_request(&status());
    }
    harness.serve_until(|_| clients.iter_mut().all(|client| client.has_replies(1)));
    assert_eq!(harness.server.client_count(), 200);
}

#[test]
fn a_follower_that_never_reads_is_disconnected_and_others_are_served() {
    let mut harness = Harness::new();
    let mut stuck = harness.connect();
    let mut reader = harness.connect();
    for client in [&mut stuck, &mut reader] {
        client.send_request(&Request::Events { follow: true });
    }
    harness.serve_until(|_| reader.has_replies(1));
    harness.serve_until(|harness| {
        harness
            .server
            .clients
            .iter()
            .flatten()
            .filter(|c| c.is_follower)
            .count()
            == 2
    });
    let event = Reply::Ok {
        message: "e".repeat(2000),
    };
    let mut sent = 0;
    while harness.server.client_count() == 2 {
        assert!(sent < 5000, "the stuck follower was never disconnected");
        harness.server.broadcast(&event, harness.poll.registry());
        sent += 1;
        // The good follower keeps up; the stuck one never reads.
        reader.has_replies(0);
    }
    harness.serve_until(|_| reader.has_replies(1 + sent));
    assert!(reader.replies[1..].iter().all(|reply| *reply == event));
    // A fresh client is still answered.
    let mut other = harness.connect();
    other.send_request(&status());
    harness.serve_until(|_| other.has_replies(1));
    // The stuck one finds its connection closed once it drains what it was sent.
    harness.serve_until(|_| {
        stuck.has_replies(0);
        stuck.is_closed
    });
}

#[test]
fn a_half_closed_client_still_gets_its_reply_and_is_dropped_when_it_closes() {
    let mut harness = Harness::new();
    let mut client = harness.connect();
    client.send_request(&status());
    client.stream.shutdown(std::net::Shutdown::Write).unwrap();
    harness.serve_until(|_| client.has_replies(1));
    assert_eq!(harness.server.client_count(), 1);
    drop(client);
    harness.serve_until(|harness| harness.server.client_count() == 0);
    // A client that connects and closes at once leaves nothing behind.
    drop(harness.connect());
    harness.serve_until(|harness| harness.server.client_count() == 0);
}

#[test]
fn a_reply_to_a_closed_client_is_dropped_even_if_its_slot_is_reused() {
    let mut harness = Harness::new();
    let mut first = harness.connect();
    first.send_request(&status());
    let mut requests = Vec::new();
    while requests.is_empty() {
        requests = harness.pump();
    }
    drop(first);
    harness.serve_until(|harness| harness.server.client_count() == 0);
    let mut second = harness.connect();
    harness.serve_until(|harness| harness.server.client_count() == 1);
    let (stale, _) = requests[0];
    harness.server.reply(
        stale,
        &Reply::Ok {
            message: "stale".into(),
        },
        harness.poll.registry(),
    );
    second.send_request(&Request::Reload);
    harness.serve_until(|_| second.has_replies(1));
    assert_eq!(
        second.replies,
        [Reply::Ok {
            message: "Reload".into()
        }]
    );
}

#[test]
fn connections_beyond_the_limit_are_refused_with_a_reason() {
    let mut harness = Harness::new();
    harness.server.max_clients = 2;
    let mut clients: Vec<TestClient> = (0..3).map(|_| harness.connect()).collect();
    harness.serve_until(|_| clients[2].has_replies(1));
    assert!(error_message(&clients[2].replies[0]).starts_with("too many control connections"));
    assert_eq!(harness.server.client_count(), 2);
    clients[0].send_request(&status());
    harness.serve_until(|_| clients[0].has_replies(1));
}

#[test]
fn socket_is_0600_in_a_0755_directory_and_close_removes_it() {
    let mut harness = Harness::new();
    let socket = fs::symlink_metadata(&harness.path).unwrap();
    assert!(socket.file_type().is_socket());
    assert_eq!(socket.permissions().mode() & 0o7777, 0o600);
    let directory = fs::metadata(harness.path.parent().unwrap()).unwrap();
    assert_eq!(directory.permissions().mode() & 0o7777, 0o755);
    harness.server.close(harness.poll.registry());
    assert!(!harness.path.exists());
}

#[test]
fn a_stale_socket_is_replaced_and_a_live_one_or_a_file_is_kept() {
    let harness = Harness::new();
    let poll = Poll::new().unwrap();
    let error = ControlServer::bind(&harness.path, poll.registry(), 0)
        .err()
        .unwrap();
    assert_eq!(error.kind(), ErrorKind::AddrInUse, "{error}");
    // Dropped without close: the file stays behind with nobody listening.
    drop(harness.server);
    let mut server = ControlServer::bind(&harness.path, poll.registry(), 0).unwrap();
    server.close(poll.registry());
    fs::write(&harness.path, b"precious").unwrap();
    let error = ControlServer::bind(&harness.path, poll.registry(), 0)
        .err()
        .unwrap();
    assert_eq!(error.kind(), ErrorKind::AlreadyExists, "{error}");
    assert_eq!(fs::read(&harness.path).unwrap(), b"precious");
}

#[test]
fn owns_exactly_its_tokens() {
    let harness = Harness::new();
    let server = &harness.server;
    assert!(!server.owns(Token(FIRST_TOKEN - 1)));
    assert!(server.owns(Token(FIRST_TOKEN)));
    assert!(server.owns(Token(FIRST_TOKEN + 1 + MAX_CLIENTS - 1)));
    assert!(!server.owns(Token(FIRST_TOKEN + 1 + MAX_CLIENTS)));
    assert!(!server.owns(Token(0)));
}

const PYTHON_CLIENT: &str = r#"
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
try:
    s.sendall(b'{"v":1,"request":{"command":"status"}}\n')
except OSError:
    pass
data = b""
try:
    while b"\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
except OSError:
    pass
sys.stdout.write(data.decode())
"#;

#[test]
fn a_peer_that_is_neither_root_nor_our_uid_is_refused() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: changing to uid 65534 needs root");
        return;
    }
    let mut harness = Harness::new();
    // Open the way to the socket so that only the credential check stands in between.
    let directory = harness.path.parent().unwrap();
    for path in [harness._dir.path(), directory] {
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
    }
    fs::set_permissions(&harness.path, fs::Permissions::from_mode(0o666)).unwrap();
    let mut child = std::process::Command::new("setpriv")
        .args(["--reuid", "65534", "--regid", "65534", "--clear-groups"])
        .args(["/usr/bin/python3", "-c", PYTHON_CLIENT])
        .arg(&harness.path)
        .current_dir("/")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut requests = Vec::new();
    harness.serve_until(|harness| {
        requests.extend(harness.pump());
        child.try_wait().unwrap().is_some()
    });
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let reply = protocol::parse_reply(output.stdout.trim_ascii_end()).unwrap();
    assert_eq!(
        error_message(&reply),
        "permission denied: uid 65534 may not control Phoenix"
    );
    assert!(requests.is_empty());
    assert_eq!(harness.server.client_count(), 0);
}
