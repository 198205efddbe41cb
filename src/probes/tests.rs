//! Tests of tcp and http probes against tiny in-test servers and a real foreign one
//! (`python3 -m http.server`), driven by a real mio loop (`harness.rs`).

mod exchange;
mod harness;
mod servers;

use super::http::HEAD_LIMIT;
use super::*;
use crate::probe_target::{parse_http_url, parse_tcp_address};
use harness::{FIRST_TOKEN, GENEROUS, Harness, TEST_LIMIT, http, tcp};
use servers::{PythonServer, Script, answer, closed_port, serve};

#[test]
fn tcp_probe_succeeds_against_a_listener() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let target = tcp(listener.local_addr().unwrap());
    let latency = Harness::new(4).probe(&target, GENEROUS).unwrap();
    assert!(latency < GENEROUS, "{latency:?}");
}

#[test]
fn tcp_probe_of_a_closed_port_is_refused() {
    let target = tcp(parse_tcp_address(&format!("localhost:{}", closed_port())).unwrap());
    assert_eq!(
        Harness::new(4).probe(&target, GENEROUS),
        Err("connection refused".to_string())
    );
}

#[test]
fn an_address_without_a_route_fails_at_once() {
    // The kernel refuses a TCP connect to the broadcast address before sending anything.
    let target = tcp("255.255.255.255:9".parse().unwrap());
    let mut harness = Harness::new(4);
    let failure = harness.start(3, &target, GENEROUS).unwrap_err();
    assert_eq!(failure.id, 3);
    assert_eq!(failure.reason, "network unreachable");
    assert_eq!(harness.probes.in_flight(), 0);
}

#[test]
fn http_probe_sends_one_get_and_accepts_200() {
    let server = serve(1, answer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    let target = http(server.address, "/ready?full=1");
    assert!(Harness::new(4).probe(&target, GENEROUS).is_ok());
    let request = String::from_utf8(server.requests.recv().unwrap()).unwrap();
    assert_eq!(
        request,
        format!(
            "GET /ready?full=1 HTTP/1.1\r\nHost: {}\r\nUser-Agent: phoenix/{}\r\n\
             Connection: close\r\n\r\n",
            server.address,
            env!("CARGO_PKG_VERSION")
        )
    );
}

#[test]
fn http_status_decides() {
    for (response, expected) in [
        ("HTTP/1.1 503 Service Unavailable\r\n\r\n", Err("HTTP 503")),
        (
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
            Err("HTTP 404"),
        ),
        (
            "HTTP/1.1 301 Moved Permanently\r\nLocation: /x\r\n\r\n",
            Ok(()),
        ),
        ("HTTP/1.0 204 No Content\r\n\r\n", Ok(())),
    ] {
        let server = serve(1, answer(response));
        let outcome = Harness::new(4).probe(&http(server.address, "/"), GENEROUS);
        assert_eq!(
            outcome.map(|_| ()),
            expected.map_err(String::from),
            "{response}"
        );
    }
}

#[test]
fn a_head_split_across_writes_is_put_together() {
    let chunks = [
        "HTT",
        "P/1.1 20",
        "0 OK\r\nContent-Le",
        "ngth: 0\r\n",
        "\r\n",
    ];
    let server = serve(
        1,
        Script::Answer(chunks.map(|c| c.as_bytes().to_vec()).to_vec()),
    );
    assert!(
        Harness::new(4)
            .probe(&http(server.address, "/"), GENEROUS)
            .is_ok()
    );
}

#[test]
fn a_silent_server_times_out() {
    let server = serve(1, Script::Silent);
    let outcome = Harness::new(4).probe(&http(server.address, "/"), Duration::from_millis(300));
    assert_eq!(outcome, Err("timed out after 300ms".to_string()));
}

#[test]
fn a_head_over_8_kib_fails() {
    let filler = format!("X-Filler: {}\r\n", "a".repeat(500));
    let head = format!("HTTP/1.1 200 OK\r\n{}\r\n", filler.repeat(20));
    assert!(head.len() > HEAD_LIMIT);
    let server = serve(1, answer(&head));
    let outcome = Harness::new(4).probe(&http(server.address, "/"), GENEROUS);
    assert_eq!(outcome, Err("response head over 8 KiB".to_string()));
}

#[test]
fn an_endless_body_costs_only_the_head() {
    let server = serve(1, Script::Endless(b"HTTP/1.1 200 OK\r\n\r\n".to_vec()));
    assert!(
        Harness::new(4)
            .probe(&http(server.address, "/"), GENEROUS)
            .is_ok()
    );
}

#[test]
fn a_close_before_the_head_is_complete_fails() {
    let server = serve(1, answer("HTTP/1.1 200 OK\r\nContent-"));
    let outcome = Harness::new(4).probe(&http(server.address, "/"), GENEROUS);
    assert_eq!(
        outcome,
        Err("connection closed before a response".to_string())
    );
}

#[test]
fn a_foreign_protocol_is_a_malformed_response() {
    let server = serve(1, answer("SSH-2.0-OpenSSH_9.2\r\n"));
    let outcome = Harness::new(4).probe(&http(server.address, "/"), GENEROUS);
    assert_eq!(
        outcome,
        Err("malformed response: invalid HTTP version".to_string())
    );
}

#[test]
fn python_http_server_answers_200() {
    let python = PythonServer::start();
    let target =
        ProbeTarget::Http(parse_http_url(&format!("http://localhost:{}/", python.port)).unwrap());
    let mut harness = Harness::new(4);
    let limit = Instant::now() + TEST_LIMIT;
    // Python needs a moment to listen: probe until it answers, as a readiness check does.
    loop {
        match harness.probe(&target, GENEROUS) {
            Ok(_) => return,
            Err(reason) if reason == "connection refused" && Instant::now() < limit => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(reason) => panic!("python http.server: {reason}"),
        }
    }
}

#[test]
fn a_hundred_probes_in_flight_all_finish() {
    let server = serve(100, answer("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut harness = Harness::new(100);
    for id in 0..100 {
        let target = if id % 2 == 0 {
            http(server.address, "/")
        } else {
            tcp(listener.local_addr().unwrap())
        };
        harness.start(id, &target, Duration::from_secs(15)).unwrap();
    }
    assert_eq!(harness.probes.in_flight(), 100);
    let mut results = harness.finish(100);
    results.sort_by_key(|result| result.id);
    let ids: Vec<u64> = results.iter().map(|result| result.id).collect();
    assert_eq!(ids, (0..100).collect::<Vec<u64>>());
    assert!(
        results.iter().all(|result| result.outcome.is_ok()),
        "{results:?}"
    );
    assert_eq!(harness.probes.in_flight(), 0);
}

#[test]
fn capacity_exhausted_fails_at_once() {
    let server = serve(1, Script::Silent);
    let mut harness = Harness::new(1);
    harness
        .start(1, &http(server.address, "/"), GENEROUS)
        .unwrap();
    assert_eq!(
        harness.start(2, &http(server.address, "/"), GENEROUS),
        Err(ProbeFailure {
            id: 2,
            reason: "too many probes in flight (the limit is 1)".to_string()
        })
    );
    assert_eq!(harness.probes.in_flight(), 1);
}

#[test]
fn a_cancelled_probe_leaves_nothing_behind() {
    let server = serve(1, Script::Silent);
    let mut harness = Harness::new(4);
    harness
        .start(1, &http(server.address, "/"), GENEROUS)
        .unwrap();
    assert!(harness.probes.next_deadline().is_some());
    harness.probes.cancel(1, harness.poll.registry());
    assert_eq!(harness.probes.in_flight(), 0);
    assert_eq!(harness.probes.next_deadline(), None);
    let mut out = Vec::new();
    let later = Instant::now() + Duration::from_secs(3600);
    harness
        .probes
        .expire(later, harness.poll.registry(), &mut out);
    assert_eq!(out, []);
}

#[test]
fn a_second_start_for_an_id_replaces_the_first() {
    let silent = serve(1, Script::Silent);
    let answering = serve(1, answer("HTTP/1.1 200 OK\r\n\r\n"));
    let mut harness = Harness::new(4);
    harness
        .start(5, &http(silent.address, "/"), GENEROUS)
        .unwrap();
    harness
        .start(5, &http(answering.address, "/"), GENEROUS)
        .unwrap();
    assert_eq!(harness.probes.in_flight(), 1);
    let results = harness.finish(1);
    assert_eq!(results.len(), 1);
    assert!(results[0].outcome.is_ok(), "{results:?}");
    assert_eq!(harness.probes.in_flight(), 0);
}

#[test]
fn a_probe_handled_past_its_deadline_has_timed_out() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut harness = Harness::new(4);
    let start = Instant::now();
    let registry = harness.poll.registry();
    let target = tcp(listener.local_addr().unwrap());
    harness
        .probes
        .start(1, &target, Duration::from_secs(2), start, registry)
        .unwrap();
    let mut out = Vec::new();
    let late = start + Duration::from_secs(2);
    harness
        .probes
        .handle(Token(FIRST_TOKEN), late, registry, &mut out);
    assert_eq!(
        out,
        [ProbeResult {
            id: 1,
            outcome: Err("timed out after 2s".to_string())
        }]
    );
}

#[test]
fn tokens_are_owned_within_the_range() {
    let probes = Probes::new(FIRST_TOKEN, 3);
    for (token, expected) in [(99, false), (100, true), (102, true), (103, false)] {
        assert_eq!(probes.owns(Token(token)), expected, "{token}");
    }
    assert!(Probes::new(usize::MAX - 1, 10).owns(Token(usize::MAX - 1)));
    assert!(!Probes::new(usize::MAX - 1, 10).owns(Token(usize::MAX)));
}
