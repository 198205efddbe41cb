//! Tests of the notify sockets as a source, in-process with a real `mio::Poll`: the test
//! process (or a service it spawns) sends, the source reads, checks and turns datagrams
//! into events.

use std::os::fd::AsRawFd;
use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use mio::{Events, Poll};

use super::*;
use crate::notify::NotifyMessage;
use crate::notify_sender::GroupSender;
use crate::process_spec::{Placement, ProcessSpec};

const FIRST_TOKEN: usize = 10;

struct Harness {
    _dir: tempfile::TempDir,
    poll: Poll,
    sockets: NotifySockets,
}

impl Harness {
    fn new() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let sockets = NotifySockets::new(Some(dir.path().join("notify")), FIRST_TOKEN, 4);
        Harness {
            _dir: dir,
            poll: Poll::new().unwrap(),
            sockets,
        }
    }

    fn prepare(&mut self, service: &str) -> PathBuf {
        self.sockets
            .prepare(service, true, self.poll.registry())
            .unwrap()
    }

    /// Serves readiness until an event is queued or `timeout` passes.
    fn serve(&mut self, timeout: Duration) -> VecDeque<Event> {
        let deadline = Instant::now() + timeout;
        let mut queue = VecDeque::new();
        let mut ready = Events::with_capacity(8);
        while queue.is_empty() && Instant::now() < deadline {
            self.poll
                .poll(&mut ready, Some(Duration::from_millis(20)))
                .unwrap();
            for event in &ready {
                assert!(self.sockets.owns(event.token()));
                self.sockets.handle(event.token(), &mut queue);
            }
        }
        queue
    }
}

fn send(path: &Path, bytes: &[u8]) {
    UnixDatagram::unbound()
        .unwrap()
        .send_to(bytes, path)
        .unwrap();
}

/// `bytes` from a child leading a process group of its own, as a service's process.
fn send_from_a_group(path: &Path, bytes: &[u8]) -> GroupSender {
    GroupSender::send(path, bytes, &[])
}

#[test]
fn a_socket_is_bound_once_per_service_at_its_name() {
    let mut harness = Harness::new();
    let path = harness.prepare("web");
    assert_eq!(path, harness._dir.path().join("notify/web.sock"));
    assert!(path.exists());
    assert_eq!(harness.prepare("web"), path);
    assert_ne!(harness.prepare("db"), path);
    let unwanted = harness
        .sockets
        .prepare("cache", false, harness.poll.registry());
    assert_eq!(unwanted, None);
    assert!(!harness._dir.path().join("notify/cache.sock").exists());
    drop(harness.sockets);
    assert!(!path.exists(), "dropping removes the files");
    assert!(!harness._dir.path().join("notify").exists());
}

#[test]
fn without_a_runtime_directory_there_is_no_socket() {
    let poll = Poll::new().unwrap();
    let mut sockets = NotifySockets::new(None, FIRST_TOKEN, 4);
    assert_eq!(sockets.prepare("web", true, poll.registry()), None);
}

#[test]
fn a_datagram_of_the_spawn_becomes_notified_with_its_token() {
    let mut harness = Harness::new();
    let path = harness.prepare("web");
    let sender = send_from_a_group(&path, b"READY=1\nSTATUS=up");
    harness.sockets.spawned("web", 42, sender.pid);
    let events = harness.serve(Duration::from_secs(5));
    assert_eq!(
        events,
        [Event::Notified {
            token: 42,
            messages: vec![NotifyMessage::Ready, NotifyMessage::Status("up".into())],
        }]
    );
}

#[test]
fn datagrams_without_a_running_spawn_or_a_message_are_dropped() {
    let mut harness = Harness::new();
    let path = harness.prepare("web");
    send(&path, b"READY=1");
    assert!(harness.serve(Duration::from_millis(200)).is_empty());
    let sender = send_from_a_group(&path, b"FDSTORE=1");
    harness.sockets.spawned("web", 1, sender.pid);
    assert!(harness.serve(Duration::from_millis(200)).is_empty());
    // A new spawn begins: the last one speaks no more until it has started.
    harness.prepare("web");
    send(&path, b"READY=1");
    assert!(harness.serve(Duration::from_millis(200)).is_empty());
    let sender = send_from_a_group(&path, b"STOPPING=1");
    harness.sockets.spawned("web", 2, sender.pid);
    let events = harness.serve(Duration::from_secs(5));
    assert_eq!(
        events,
        [Event::Notified {
            token: 2,
            messages: vec![NotifyMessage::Stopping],
        }]
    );
}

#[test]
fn a_sender_outside_the_spawns_group_is_rejected() {
    let mut harness = Harness::new();
    let path = harness.prepare("web");
    // A group that exists and is not ours: a child in a session of its own.
    let mut stranger = std::process::Command::new("setsid")
        .args(["sleep", "30"])
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let group = stranger.id() as Pid;
    while !sender_belongs_to(group, group) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    harness.sockets.spawned("web", 1, group);
    send(&path, b"READY=1");
    let events = harness.serve(Duration::from_millis(200));
    stranger.kill().unwrap();
    stranger.wait().unwrap();
    assert!(events.is_empty(), "{events:?}");
    // The same datagram from a process of the spawn is believed.
    let sender = send_from_a_group(&path, b"READY=1");
    harness.sockets.spawned("web", 2, sender.pid);
    assert_eq!(harness.serve(Duration::from_secs(5)).len(), 1);
}

#[test]
fn passed_descriptors_are_closed_after_the_check() {
    let mut harness = Harness::new();
    let path = harness.prepare("web");
    let (read_end, write_end) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
    let sender = GroupSender::send(&path, b"READY=1", &[write_end.as_raw_fd()]);
    harness.sockets.spawned("web", 1, sender.pid);
    drop(write_end);
    assert_eq!(harness.serve(Duration::from_secs(5)).len(), 1);
    let mut buffer = [0u8; 1];
    assert_eq!(
        nix::unistd::read(&read_end, &mut buffer).unwrap(),
        0,
        "the barrier is released"
    );
}

#[test]
fn systemd_notify_in_a_spawned_service_is_believed_and_released() {
    let mut harness = Harness::new();
    let path = harness.prepare("web");
    let script = "/usr/bin/systemd-notify --ready --status=up && echo done > notified";
    let mut spec = ProcessSpec::command(
        "web",
        ["/bin/sh", "-c", script].map(String::from).to_vec(),
        Placement::NewSession,
    );
    spec.working_directory = Some(harness._dir.path().to_path_buf());
    crate::event_loop::spawning::set_notify_socket(&mut spec, &path);
    let signals = crate::sys::signals::ChildSignals {
        original_mask: *nix::sys::signal::SigSet::empty().as_ref(),
        empty_mask: *nix::sys::signal::SigSet::empty().as_ref(),
        ignored: vec![libc::SIGPIPE],
        changed_by_phoenix: vec![libc::SIGPIPE],
    };
    let started =
        crate::sys::spawn::spawn(&spec, &signals, &mut crate::sys::pipes::NoPipes).unwrap();
    harness.sockets.spawned("web", 5, started.pid);
    // Served until it exits: it waits for its barrier, released when the datagram carrying
    // it is dropped.
    let mut messages = Vec::new();
    let mut status = 0;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        for event in harness.serve(Duration::from_millis(50)) {
            let Event::Notified {
                token: 5,
                messages: more,
            } = event
            else {
                panic!("unexpected {event:?}");
            };
            messages.extend(more);
        }
        // SAFETY: `status` is a valid out-pointer; the pid is this test's own child.
        let reaped = unsafe { libc::waitpid(started.pid, &mut status, libc::WNOHANG) };
        if reaped == started.pid {
            break;
        }
        assert!(Instant::now() < deadline, "systemd-notify did not finish");
    }
    assert_eq!(
        messages,
        [NotifyMessage::Ready, NotifyMessage::Status("up".into())]
    );
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    assert!(harness._dir.path().join("notified").exists());
}
