//! Tests of the readiness pipes as a source, in-process with a real `mio::Poll`: plain
//! pipes written by the test, and the pipe of a real spawn written by its service.

use std::io::Write;
use std::time::{Duration, Instant};

use mio::{Events, Poll};

use super::*;
use crate::process_spec::{Placement, ProcessSpec};

const FIRST_TOKEN: usize = 20;

struct Harness {
    poll: Poll,
    pipes: ReadinessPipes,
}

impl Harness {
    fn new(capacity: usize) -> Harness {
        Harness {
            poll: Poll::new().unwrap(),
            pipes: ReadinessPipes::new(FIRST_TOKEN, capacity),
        }
    }

    /// Watches a new pipe for `service`; returns its write end.
    fn watch(&mut self, service: &str, spawn: SpawnToken) -> std::fs::File {
        let (read_end, write_end) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
        nix::fcntl::fcntl(
            &read_end,
            nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
        )
        .unwrap();
        self.pipes
            .watch(service, spawn, read_end, self.poll.registry());
        std::fs::File::from(write_end)
    }

    /// Serves readiness for `timeout`, or until an event is queued; budget-spent tokens are
    /// served again at once, as the loop does.
    fn serve(&mut self, timeout: Duration) -> (VecDeque<Event>, usize) {
        let deadline = Instant::now() + timeout;
        let mut queue = VecDeque::new();
        let mut ready = Events::with_capacity(8);
        let mut again = Vec::new();
        let mut rounds_again = 0;
        while queue.is_empty() && Instant::now() < deadline {
            let wait = if again.is_empty() {
                Duration::from_millis(20)
            } else {
                Duration::ZERO
            };
            self.poll.poll(&mut ready, Some(wait)).unwrap();
            let mut tokens: Vec<Token> = ready.iter().map(|event| event.token()).collect();
            tokens.append(&mut again);
            for token in tokens {
                assert!(self.pipes.owns(token));
                let reading = self.pipes.handle(token, self.poll.registry(), &mut queue);
                if reading == Reading::BudgetSpent {
                    rounds_again += 1;
                    again.push(token);
                }
            }
        }
        (queue, rounds_again)
    }
}

fn ready(token: SpawnToken) -> Event {
    Event::Notified {
        token,
        messages: vec![NotifyMessage::Ready],
    }
}

#[test]
fn a_line_is_ready_once_and_the_pipe_is_done() {
    let mut harness = Harness::new(4);
    let mut writer = harness.watch("web", 3);
    writer.write_all(b"up\n").unwrap();
    let (events, _) = harness.serve(Duration::from_secs(5));
    assert_eq!(events, [ready(3)]);
    assert_eq!(harness.pipes.watched(), 0);
    // The read end is closed: a second line meets no reader.
    assert_eq!(
        writer.write_all(b"\n").unwrap_err().kind(),
        ErrorKind::BrokenPipe
    );
}

#[test]
fn end_of_file_without_a_line_closes_silently() {
    let mut harness = Harness::new(4);
    let mut writer = harness.watch("web", 3);
    writer.write_all(b"no newline").unwrap();
    drop(writer);
    let (events, _) = harness.serve(Duration::from_millis(300));
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(harness.pipes.watched(), 0);
}

#[test]
fn a_long_line_is_read_over_several_rounds() {
    let mut harness = Harness::new(4);
    let mut writer = harness.watch("web", 3);
    writer.write_all(&[b'x'; 3 * BUDGET]).unwrap();
    writer.write_all(b"\n").unwrap();
    let (events, rounds_again) = harness.serve(Duration::from_secs(5));
    assert_eq!(events, [ready(3)]);
    assert_eq!(rounds_again, 3);
}

#[test]
fn a_new_spawn_of_the_service_replaces_its_pipe() {
    let mut harness = Harness::new(4);
    let mut first = harness.watch("web", 1);
    let mut second = harness.watch("web", 2);
    let mut other = harness.watch("db", 3);
    assert_eq!(harness.pipes.watched(), 2);
    assert_eq!(
        first.write_all(b"\n").unwrap_err().kind(),
        ErrorKind::BrokenPipe
    );
    second.write_all(b"\n").unwrap();
    assert_eq!(harness.serve(Duration::from_secs(5)).0, [ready(2)]);
    other.write_all(b"\n").unwrap();
    assert_eq!(harness.serve(Duration::from_secs(5)).0, [ready(3)]);
}

#[test]
fn beyond_its_capacity_a_pipe_is_closed_unwatched() {
    let mut harness = Harness::new(1);
    let _first = harness.watch("web", 1);
    let mut second = harness.watch("db", 2);
    assert_eq!(harness.pipes.watched(), 1);
    assert_eq!(
        second.write_all(b"\n").unwrap_err().kind(),
        ErrorKind::BrokenPipe
    );
}

#[test]
fn a_spawned_service_writing_its_descriptor_is_ready() {
    let mut harness = Harness::new(4);
    let dir = tempfile::tempdir().unwrap();
    let script = "sleep 0.1; printf 'ready\\n' >&5; echo done > wrote";
    let mut spec = ProcessSpec::command(
        "web",
        ["/bin/sh", "-c", script].map(String::from).to_vec(),
        Placement::NewSession,
    );
    spec.working_directory = Some(dir.path().to_path_buf());
    spec.readiness_fd = Some(5);
    let signals = crate::sys::signals::ChildSignals {
        original_mask: *nix::sys::signal::SigSet::empty().as_ref(),
        empty_mask: *nix::sys::signal::SigSet::empty().as_ref(),
        ignored: vec![libc::SIGPIPE],
        changed_by_phoenix: vec![libc::SIGPIPE],
    };
    let started =
        crate::sys::spawn::spawn(&spec, &signals, &mut crate::sys::pipes::NoPipes).unwrap();
    let read_end = started.readiness.unwrap();
    harness
        .pipes
        .watch("web", 9, read_end, harness.poll.registry());
    let (events, _) = harness.serve(Duration::from_secs(10));
    let mut status = 0;
    // SAFETY: `status` is a valid out-pointer; the pid is this test's own child.
    let reaped = unsafe { libc::waitpid(started.pid, &mut status, 0) };
    assert_eq!(reaped, started.pid);
    assert_eq!(events, [ready(9)]);
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    assert!(dir.path().join("wrote").exists());
}
