//! Tiny servers for the probe tests, each on a free loopback port in a thread of its own
//! (threads are fine in tests; PID 1 has none). Every blocking call has a timeout, so a
//! failing test never leaves a thread hanging for long.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

const PATIENCE: Duration = Duration::from_secs(30);

/// What a server does with each connection after reading the request head.
#[derive(Clone)]
pub enum Script {
    /// Writes each chunk in turn, pausing between them so they arrive apart.
    Answer(Vec<Vec<u8>>),
    /// Writes nothing and keeps the connection until the client closes it.
    Silent,
    /// Writes `head`, then body bytes until the client goes away.
    Endless(Vec<u8>),
}

pub struct Server {
    pub address: SocketAddr,
    /// The request head each connection sent, in order.
    pub requests: mpsc::Receiver<Vec<u8>>,
}

/// Serves `connections` connections one after another, then stops.
pub fn serve(connections: usize, script: Script) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let (sender, requests) = mpsc::channel();
    thread::spawn(move || {
        for _ in 0..connections {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            stream.set_read_timeout(Some(PATIENCE)).unwrap();
            stream.set_write_timeout(Some(PATIENCE)).unwrap();
            let _ = sender.send(read_request(&mut stream));
            run_script(&mut stream, &script);
        }
    });
    Server { address, requests }
}

pub fn answer(response: &str) -> Script {
    Script::Answer(vec![response.as_bytes().to_vec()])
}

fn read_request(stream: &mut TcpStream) -> Vec<u8> {
    let mut request = Vec::new();
    let mut chunk = [0; 1024];
    while !request.ends_with(b"\r\n\r\n") {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(count) => request.extend_from_slice(&chunk[..count]),
        }
    }
    request
}

fn run_script(stream: &mut TcpStream, script: &Script) {
    match script {
        Script::Answer(chunks) => {
            for (index, chunk) in chunks.iter().enumerate() {
                if index > 0 {
                    // Not a wait for a result: it makes the chunks separate segments.
                    thread::sleep(Duration::from_millis(20));
                }
                if stream.write_all(chunk).is_err() {
                    return;
                }
            }
        }
        Script::Silent => {
            let mut chunk = [0; 64];
            while matches!(stream.read(&mut chunk), Ok(count) if count > 0) {}
        }
        Script::Endless(head) => {
            let body = vec![b'x'; 64 * 1024];
            if stream.write_all(head).is_err() {
                return;
            }
            while stream.write_all(&body).is_ok() {}
        }
    }
}

/// A loopback port that nothing listens on (bound, then closed).
pub fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// `python3 -m http.server` on a free loopback port, killed when dropped.
pub struct PythonServer {
    pub port: u16,
    child: std::process::Child,
    _directory: tempfile::TempDir,
}

impl PythonServer {
    pub fn start() -> PythonServer {
        let directory = tempfile::tempdir().unwrap();
        std::fs::write(directory.path().join("index.html"), "phoenix\n").unwrap();
        let port = closed_port();
        let child = std::process::Command::new("/usr/bin/python3")
            .args([
                "-m",
                "http.server",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .arg("--directory")
            .arg(directory.path())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 (CI installs it) runs http.server");
        PythonServer {
            port,
            child,
            _directory: directory,
        }
    }
}

impl Drop for PythonServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        // Another test's reaper may have collected it already; either way it is gone.
        let _ = self.child.wait();
    }
}
