//! Every path and every error status of the endpoint, with `curl` and raw bytes.

use std::collections::BTreeMap;

use serde_json::Value;

use super::client::{body_of, curl, raw, start_with_http, status_of};
use crate::control::ctl::{daemon, status_json, wait_for_state};
use crate::harness::TestResult;
use crate::services::setup::ServicesDir;

/// A daemon that is ready once `go` exists.
const SLOW_UNIT: &str = "[ready]\ncheck = \"exec\"\ncommand = \"test -e go\"\ninterval = \"100ms\"";

#[test]
fn healthz_and_ready_follow_the_services() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit("web", &daemon("web", ""))?;
    layout.unit("slow", &daemon("slow", SLOW_UNIT))?;
    let (phoenix, port) = start_with_http(layout, "")?;
    let (status, response) = curl(port, "/healthz", &[])?;
    assert_eq!((status, body_of(&response)), (200, "ok\n"), "{response}");
    assert!(
        response.contains("Content-Type: text/plain; charset=utf-8\r\n"),
        "{response}"
    );
    assert!(response.contains("Connection: close\r\n"), "{response}");
    let (status, response) = curl(port, "/ready", &[])?;
    assert_eq!(
        (status, body_of(&response)),
        (503, "slow: starting\n"),
        "{response}"
    );
    phoenix.touch("go")?;
    phoenix.eventually("/ready is 200", || {
        curl(port, "/ready", &[]).is_ok_and(|(status, r)| status == 200 && body_of(&r) == "ready\n")
    })?;
    let (status, response) = curl(port, "/healthz", &["-I"])?;
    assert_eq!((status, body_of(&response)), (200, ""), "HEAD: {response}");
    assert!(response.contains("Content-Length: 3\r\n"), "{response}");
    Ok(())
}

/// Name → state, and each service's keys, from a `status --json` array.
fn summary(services: &[Value]) -> BTreeMap<String, (String, Vec<String>)> {
    services
        .iter()
        .map(|service| {
            let keys = service
                .as_object()
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default();
            let state = service["state"].as_str().unwrap_or_default().to_string();
            (
                service["name"].as_str().unwrap_or_default().to_string(),
                (state, keys),
            )
        })
        .collect()
}

#[test]
fn status_is_the_json_of_phoenixctl_status() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit("web", &daemon("web", ""))?;
    layout.unit("db", &daemon("db", ""))?;
    let (phoenix, port) = start_with_http(layout, "")?;
    wait_for_state(&phoenix, "web", "running")?;
    wait_for_state(&phoenix, "db", "running")?;
    let (status, response) = curl(port, "/status", &[])?;
    assert_eq!(status, 200, "{response}");
    assert!(
        response.contains("Content-Type: application/json\r\n"),
        "{response}"
    );
    let served: Vec<Value> = serde_json::from_str(body_of(&response))?;
    let expected = status_json(&phoenix)?;
    assert_eq!(summary(&served), summary(&expected));
    assert_eq!(served.len(), 2);
    Ok(())
}

#[test]
fn unknown_paths_other_methods_and_garbage_are_refused() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit("web", &daemon("web", ""))?;
    let (_phoenix, port) = start_with_http(layout, "max-request-bytes = 4096")?;
    let (status, response) = curl(port, "/nope", &[])?;
    assert_eq!((status, body_of(&response)), (404, "no such path: /nope\n"));
    for method in ["POST", "PUT", "DELETE"] {
        let (status, response) = curl(port, "/healthz", &["-X", method])?;
        assert_eq!(status, 405, "{method}: {response}");
        assert!(response.contains("Allow: GET, HEAD\r\n"), "{response}");
    }
    let response = raw(port, b"\x16\x03\x01\x02\x00garbage\r\n\r\n")?;
    assert_eq!(status_of(&response), Some(400), "{response:?}");
    let response = raw(port, b"GET /healthz HTTP/9.9\r\n\r\n")?;
    assert_eq!(status_of(&response), Some(400), "{response:?}");
    let huge = format!("X-Big: {}", "a".repeat(20_000));
    let (status, response) = curl(port, "/healthz", &["-H", &huge])?;
    assert_eq!(status, 431, "{response}");
    // The endpoint still serves after every refusal.
    assert_eq!(curl(port, "/healthz", &[])?.0, 200);
    Ok(())
}

#[test]
fn an_address_in_use_is_a_warning_and_phoenix_supervises_without_it() -> TestResult {
    let taken = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = taken.local_addr()?.port();
    let layout = ServicesDir::new()?;
    layout.unit("web", &daemon("web", ""))?;
    layout.settings(&format!("[http]\nlisten = \"127.0.0.1:{port}\"\n"))?;
    let phoenix = crate::control::ctl::start(layout)?;
    phoenix.wait_for_log(&format!("http: listening on 127.0.0.1:{port}: "))?;
    phoenix.wait_for_log("no HTTP endpoint")?;
    wait_for_state(&phoenix, "web", "running")?;
    Ok(())
}

#[test]
fn one_connection_over_the_limit_is_told_503_at_once() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit("web", &daemon("web", ""))?;
    let (_phoenix, port) = start_with_http(layout, "max-connections = 1\ntimeout = \"30s\"")?;
    // Accepted first (the backlog is first in, first out), it holds the only slot.
    let _held = std::net::TcpStream::connect(("127.0.0.1", port))?;
    let refused_at = std::time::Instant::now();
    let response = raw(port, b"")?;
    assert_eq!(status_of(&response), Some(503), "{response:?}");
    assert_eq!(
        body_of(&response),
        "too many connections (the limit is 1)\n"
    );
    assert!(refused_at.elapsed() < std::time::Duration::from_secs(5));
    Ok(())
}
