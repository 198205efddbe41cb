//! The endpoint against real loopback clients in a private mio poll: requests reach the
//! caller, errors are answered, limits and deadlines hold.

use std::io::{Read, Write};
use std::net::TcpStream as StdStream;
use std::time::Duration;

use mio::{Events, Poll};

use super::*;

const FIRST_TOKEN: usize = 10;

struct Rig {
    poll: Poll,
    server: HttpServer,
}

impl Rig {
    fn new(max_connections: usize, timeout: Duration) -> Rig {
        let poll = Poll::new().unwrap();
        let mut settings = HttpSettings::new("127.0.0.1:0".parse().unwrap());
        settings.max_connections = max_connections;
        settings.max_request_bytes = 1024;
        settings.timeout = timeout;
        let server = HttpServer::bind(&settings, poll.registry(), FIRST_TOKEN).unwrap();
        Rig { poll, server }
    }

    fn connect(&self) -> StdStream {
        let stream = StdStream::connect(self.server.local_addr().unwrap()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        stream
    }

    /// Serves for `time`, answering every request `200 <path>`.
    fn serve(&mut self, time: Duration) -> Vec<String> {
        let deadline = Instant::now() + time;
        let mut events = Events::with_capacity(64);
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            self.poll
                .poll(&mut events, Some(Duration::from_millis(10)))
                .unwrap();
            let mut tokens: Vec<Token> = events.iter().map(|e| e.token()).collect();
            tokens.push(self.server.listener_token);
            for token in tokens {
                let mut requests = Vec::new();
                self.server
                    .handle(token, Instant::now(), self.poll.registry(), &mut requests);
                for (client, path) in requests {
                    let registry = self.poll.registry();
                    self.server
                        .reply(client, 200, "text/plain", &path, registry);
                    seen.push(path);
                }
            }
            self.server.expire(Instant::now(), self.poll.registry());
        }
        seen
    }
}

/// Everything the client receives until the server closes (or `time` passes).
fn receive(rig: &mut Rig, stream: &mut StdStream, time: Duration) -> String {
    let deadline = Instant::now() + time;
    let mut received = Vec::new();
    let mut buffer = [0; 4096];
    while Instant::now() < deadline {
        rig.serve(Duration::from_millis(5));
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => received.extend_from_slice(&buffer[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
    String::from_utf8_lossy(&received).into_owned()
}

fn exchange(rig: &mut Rig, request: &[u8]) -> String {
    let mut stream = rig.connect();
    stream.write_all(request).unwrap();
    receive(rig, &mut stream, Duration::from_secs(5))
}

#[test]
fn a_get_reaches_the_caller_and_its_reply_the_client() {
    let mut rig = Rig::new(4, Duration::from_secs(5));
    let text = exchange(&mut rig, b"GET /ready?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.contains("Connection: close\r\n"), "{text}");
    assert!(text.ends_with("\r\n\r\n/ready"), "{text}");
    // The client's close ends the lingering after the reply.
    rig.serve(Duration::from_millis(50));
    assert_eq!(rig.server.connection_count(), 0);
}

#[test]
fn errors_are_answered_by_the_endpoint() {
    let mut rig = Rig::new(4, Duration::from_secs(5));
    let huge = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(4000));
    for (request, status) in [
        (&b"POST / HTTP/1.1\r\n\r\n"[..], "405 Method Not Allowed"),
        (b"\x16\x03\x01garbage\r\n\r\n", "400 Bad Request"),
        (huge.as_bytes(), "431 Request Header Fields Too Large"),
    ] {
        let text = exchange(&mut rig, request);
        assert!(
            text.starts_with(&format!("HTTP/1.1 {status}\r\n")),
            "{text}"
        );
    }
}

#[test]
fn pipelined_requests_get_one_answer() {
    let mut rig = Rig::new(4, Duration::from_secs(5));
    let requests = "GET /a HTTP/1.1\r\n\r\n".repeat(500);
    let text = exchange(&mut rig, requests.as_bytes());
    assert_eq!(text.matches("HTTP/1.1 200").count(), 1, "{text}");
}

#[test]
fn one_connection_over_the_limit_is_refused_at_once() {
    let mut rig = Rig::new(1, Duration::from_secs(5));
    let _held = rig.connect();
    rig.serve(Duration::from_millis(50));
    let mut over = rig.connect();
    let text = receive(&mut rig, &mut over, Duration::from_secs(5));
    assert!(
        text.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{text}"
    );
    assert_eq!(rig.server.connection_count(), 1);
}

#[test]
fn a_slow_client_is_closed_at_its_deadline() {
    let mut rig = Rig::new(4, Duration::from_millis(200));
    let mut slow = rig.connect();
    slow.write_all(b"GET /").unwrap();
    rig.serve(Duration::from_millis(50));
    assert_eq!(rig.server.connection_count(), 1);
    assert!(rig.server.next_deadline().is_some());
    let text = receive(&mut rig, &mut slow, Duration::from_secs(5));
    assert_eq!(text, "");
    assert_eq!(rig.server.connection_count(), 0);
    assert_eq!(rig.server.next_deadline(), None);
}

#[test]
fn a_reply_to_a_client_gone_is_dropped() {
    let mut rig = Rig::new(4, Duration::from_secs(5));
    let registry = rig.poll.registry();
    rig.server.reply(
        client_id(Token(FIRST_TOKEN + 1), 99),
        200,
        "text/plain",
        "x",
        registry,
    );
    assert_eq!(rig.server.connection_count(), 0);
}
