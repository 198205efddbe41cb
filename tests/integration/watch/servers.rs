//! Real servers for probes to look at: `python3 -m http.server` for readiness, and a small
//! python HTTP server whose answers the test steers through files (`fail` → 500, `slow` →
//! a slow 200), each on a loopback port of its own.

use std::net::TcpListener;

use crate::harness::TestResult;

/// A loopback port nobody listens on right now.
pub fn free_port() -> TestResult<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// A python HTTP server answering `/healthz`: 500 while `fail` exists in its directory,
/// 200 after a 1.5 s pause while `slow` exists, 200 otherwise. It appends its pid to
/// `server.pids` when it listens.
pub const STEERED_SERVER: &str = r#"
import http.server, os, sys, time
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if os.path.exists("fail"):
            self.send_response(500)
        else:
            if os.path.exists("slow"):
                time.sleep(1.5)
            self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
with open("server.pids", "a") as pids:
    pids.write(f"{os.getpid()}\n")
server.serve_forever()
"#;
