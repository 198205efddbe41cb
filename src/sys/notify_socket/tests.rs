//! Tests of the notify socket, in-process: the test sends, the socket reads with the
//! kernel's credentials; and `systemd-notify` itself as a sender.

use std::io::ErrorKind;
use std::io::IoSlice;
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use nix::sys::socket::{ControlMessage, MsgFlags, UnixAddr, sendmsg};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};

use super::*;
use crate::notify::{NotifyMessage, parse_datagram};

fn bound() -> (tempfile::TempDir, NotifySocket) {
    let dir = tempfile::tempdir().unwrap();
    let socket = NotifySocket::bind(&dir.path().join("notify/web.sock")).unwrap();
    (dir, socket)
}

fn send(socket: &NotifySocket, bytes: &[u8]) {
    UnixDatagram::unbound()
        .unwrap()
        .send_to(bytes, socket.path())
        .unwrap();
}

fn receive(socket: &NotifySocket, budget: usize) -> (Vec<Datagram>, Reading) {
    let mut out = Vec::new();
    let reading = socket.receive_all(&mut out, budget, &mut |_| true);
    (out, reading)
}

fn bytes_of(datagrams: &[Datagram]) -> Vec<&[u8]> {
    datagrams
        .iter()
        .map(|datagram| datagram.bytes.as_slice())
        .collect()
}

#[test]
fn a_datagram_arrives_with_its_senders_credentials() {
    let (_dir, socket) = bound();
    send(&socket, b"READY=1\nSTATUS=up");
    let (datagrams, reading) = receive(&socket, 16);
    assert_eq!(reading, Reading::Drained);
    let [datagram] = datagrams.as_slice() else {
        panic!("one datagram expected, got {datagrams:?}");
    };
    assert_eq!(datagram.sender_pid, std::process::id() as Pid);
    assert_eq!(datagram.sender_uid, nix::unistd::getuid().as_raw());
    assert_eq!(datagram.bytes, b"READY=1\nSTATUS=up");
    assert!(datagram.descriptors.is_empty());
}

#[test]
fn an_empty_socket_reads_nothing_and_does_not_block() {
    let (_dir, socket) = bound();
    assert_eq!(receive(&socket, 16).1, Reading::Drained);
    assert!(receive(&socket, 16).0.is_empty());
}

#[test]
fn the_budget_bounds_one_call_and_the_rest_waits_in_order() {
    let (_dir, socket) = bound();
    // Fewer than net.unix.max_dgram_qlen (10 by default), or the sender would block.
    for n in 0..6 {
        send(&socket, format!("STATUS={n}").as_bytes());
    }
    let (first, reading) = receive(&socket, 4);
    assert_eq!(reading, Reading::BudgetSpent);
    assert_eq!(
        bytes_of(&first),
        [b"STATUS=0", b"STATUS=1", b"STATUS=2", b"STATUS=3"]
    );
    let (rest, reading) = receive(&socket, 4);
    assert_eq!(reading, Reading::Drained);
    assert_eq!(bytes_of(&rest), [b"STATUS=4", b"STATUS=5"]);
}

#[test]
fn an_oversized_datagram_is_dropped_and_the_next_one_is_read() {
    let (_dir, socket) = bound();
    send(&socket, &[b'x'; 5000]);
    send(&socket, &[b'y'; MAX_DATAGRAM + 1]);
    send(&socket, &[b'z'; MAX_DATAGRAM]);
    send(&socket, b"READY=1");
    let (datagrams, _) = receive(&socket, 16);
    assert_eq!(datagrams.len(), 2);
    assert_eq!(datagrams[0].bytes, [b'z'; MAX_DATAGRAM]);
    assert_eq!(datagrams[1].bytes, b"READY=1");
}

#[test]
fn dropped_datagrams_count_against_the_budget() {
    let (_dir, socket) = bound();
    for _ in 0..3 {
        send(&socket, &[b'x'; 5000]);
    }
    send(&socket, b"READY=1");
    let (datagrams, reading) = receive(&socket, 3);
    assert!(datagrams.is_empty());
    assert_eq!(reading, Reading::BudgetSpent);
    assert_eq!(bytes_of(&receive(&socket, 3).0), [b"READY=1"]);
}

#[test]
fn passed_descriptors_are_held_while_the_datagram_is_judged_then_closed() {
    let (_dir, socket) = bound();
    let (read_end, write_end) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
    let sender = UnixDatagram::unbound().unwrap();
    let fds = [write_end.as_raw_fd()];
    sendmsg(
        sender.as_raw_fd(),
        &[IoSlice::new(b"BARRIER=1")],
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::empty(),
        Some(&UnixAddr::new(socket.path()).unwrap()),
    )
    .unwrap();
    drop(write_end);
    let is_open = || {
        let pending = nix::poll::poll(
            &mut [nix::poll::PollFd::new(
                std::os::fd::AsFd::as_fd(&read_end),
                nix::poll::PollFlags::POLLIN,
            )],
            nix::poll::PollTimeout::ZERO,
        )
        .unwrap();
        pending == 0
    };
    let mut judged = 0;
    let mut out = Vec::new();
    socket.receive_all(&mut out, 16, &mut |datagram| {
        judged += 1;
        assert_eq!(datagram.descriptors.len(), 1);
        assert!(is_open(), "the passed write end is open while judged");
        true
    });
    assert_eq!((judged, out.len()), (1, 1));
    let mut buffer = [0u8; 1];
    assert_eq!(
        nix::unistd::read(&read_end, &mut buffer).unwrap(),
        0,
        "closed after"
    );
}

#[test]
fn the_socket_is_open_to_every_user_in_a_searchable_directory() {
    let (dir, socket) = bound();
    let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(socket.path()), 0o666);
    assert_eq!(mode(&dir.path().join("notify")), 0o755);
}

#[test]
fn a_stale_socket_file_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("web.sock");
    drop(UnixDatagram::bind(&path).unwrap());
    let socket = NotifySocket::bind(&path).unwrap();
    send(&socket, b"READY=1");
    assert_eq!(receive(&socket, 16).0.len(), 1);
}

#[test]
fn a_live_socket_or_another_file_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live.sock");
    let _holder = UnixDatagram::bind(&live).unwrap();
    let error = NotifySocket::bind(&live).err().unwrap();
    assert_eq!(error.kind(), ErrorKind::AddrInUse, "{error}");
    assert!(error.to_string().contains("live.sock"), "{error}");

    let file = dir.path().join("file.sock");
    fs::write(&file, "keep me").unwrap();
    let error = NotifySocket::bind(&file).err().unwrap();
    assert_eq!(error.kind(), ErrorKind::AlreadyExists, "{error}");
    assert_eq!(fs::read_to_string(&file).unwrap(), "keep me");
}

#[test]
fn drop_removes_the_socket_file_but_never_a_successors() {
    let (_dir, socket) = bound();
    let path = socket.path().to_path_buf();
    drop(socket);
    assert!(!path.exists());

    let first = NotifySocket::bind(&path).unwrap();
    fs::remove_file(&path).unwrap();
    let second = NotifySocket::bind(&path).unwrap();
    drop(first);
    assert!(path.exists());
    drop(second);
    assert!(!path.exists());
}

/// Reads until a datagram carrying descriptors (`systemd-notify`'s barrier) has arrived;
/// `judge` sees each datagram while its sender still waits on that barrier.
#[track_caller]
fn receive_until_barrier(
    socket: &NotifySocket,
    deadline: Instant,
    judge: &mut dyn FnMut(&Datagram),
) -> Vec<Datagram> {
    let mut datagrams = Vec::new();
    let mut barrier = false;
    while !barrier {
        assert!(Instant::now() < deadline, "no barrier; got {datagrams:?}");
        socket.receive_all(&mut datagrams, 16, &mut |datagram| {
            barrier |= !datagram.descriptors.is_empty();
            judge(datagram);
            true
        });
        std::thread::sleep(Duration::from_millis(5));
    }
    datagrams
}

#[test]
fn systemd_notify_delivers_ready_and_status_and_waits_for_its_barrier() {
    let (_dir, socket) = bound();
    // systemd-notify under a shell that leads a process group of its own, as in a
    // service. As root, systemd-notify claims its parent's pid for the notification
    // (CAP_SYS_ADMIN lets it) and, in v252, its own for the barrier. It blocks on the
    // barrier until the datagram carrying it has been judged, so every sender is there to
    // be placed.
    let mut child = Command::new("/bin/sh")
        .args([
            "-c",
            "/usr/bin/systemd-notify --ready --status=hello; exit $?",
        ])
        .env("NOTIFY_SOCKET", socket.path())
        .process_group(0)
        .spawn()
        .unwrap();
    let group = child.id() as Pid;
    let mut judge = |datagram: &Datagram| {
        assert!(
            sender_belongs_to(datagram.sender_pid, group),
            "sender {} is not in the group of {group}",
            datagram.sender_pid
        );
        assert_eq!(
            child.try_wait().unwrap(),
            None,
            "left before its barrier was released"
        );
    };
    let datagrams = receive_until_barrier(
        &socket,
        Instant::now() + Duration::from_secs(10),
        &mut judge,
    );
    let messages: Vec<NotifyMessage> = datagrams
        .iter()
        .flat_map(|datagram| parse_datagram(&datagram.bytes))
        .collect();
    assert!(messages.contains(&NotifyMessage::Ready), "{messages:?}");
    assert!(
        messages.contains(&NotifyMessage::Status("hello".into())),
        "{messages:?}"
    );
    assert!(child.wait().unwrap().success());
    // Reaped, the group's leader can no longer be placed.
    assert!(!sender_belongs_to(group, group));
}

/// `systemd-notify ARGS` as uid 65534 in a process group of its own, as a service would
/// run it; `None` (the test is skipped) unless we are root.
fn systemd_notify_as_nobody(socket: &NotifySocket, args: &[&str]) -> Option<Child> {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: changing to uid 65534 needs root");
        return None;
    }
    let child = Command::new("setpriv")
        .args(["--reuid", "65534", "--regid", "65534", "--clear-groups"])
        .arg("/usr/bin/systemd-notify")
        .args(args)
        .env("NOTIFY_SOCKET", socket.path())
        .current_dir("/")
        .process_group(0)
        .spawn()
        .unwrap();
    Some(child)
}

/// A socket in a directory every user can reach, as the runtime directory must be.
fn bound_for_everyone() -> (tempfile::TempDir, NotifySocket) {
    // Under /tmp rather than $TMPDIR, which may sit in a directory nobody cannot enter.
    let dir = tempfile::Builder::new().tempdir_in("/tmp").unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let socket = NotifySocket::bind(&dir.path().join("notify/web.sock")).unwrap();
    (dir, socket)
}

#[test]
fn a_service_of_another_user_reaches_the_socket_and_sends_as_itself() {
    let (_dir, socket) = bound_for_everyone();
    let Some(mut child) = systemd_notify_as_nobody(&socket, &["--ready", "--status=hello"]) else {
        return;
    };
    // setpriv execs systemd-notify, which may not claim another pid: every datagram is its own.
    let group = child.id() as Pid;
    let mut judge = |datagram: &Datagram| {
        assert_eq!((datagram.sender_pid, datagram.sender_uid), (group, 65534));
        assert!(sender_belongs_to(datagram.sender_pid, group));
    };
    let datagrams = receive_until_barrier(
        &socket,
        Instant::now() + Duration::from_secs(10),
        &mut judge,
    );
    assert_eq!(
        parse_datagram(&datagrams[0].bytes),
        [NotifyMessage::Ready, NotifyMessage::Status("hello".into())]
    );
    assert!(child.wait().unwrap().success());
}

#[test]
fn an_exited_sender_is_placed_until_it_is_reaped() {
    let (_dir, socket) = bound_for_everyone();
    // --no-block: no barrier, so the sender exits without waiting for Phoenix to read.
    let Some(mut child) = systemd_notify_as_nobody(&socket, &["--no-block", "--ready"]) else {
        return;
    };
    let group = child.id() as Pid;
    let exited = waitid(
        Id::Pid(nix::unistd::Pid::from_raw(group)),
        WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT,
    )
    .unwrap();
    assert!(matches!(exited, WaitStatus::Exited(_, 0)), "{exited:?}");
    let (datagrams, _) = receive(&socket, 16);
    assert_eq!(bytes_of(&datagrams), [b"READY=1"]);
    assert_eq!(datagrams[0].sender_pid, group);
    assert!(sender_belongs_to(group, group), "a zombie keeps its group");
    child.wait().unwrap();
    assert!(
        !sender_belongs_to(group, group),
        "a reaped sender cannot be placed"
    );
}

#[test]
fn a_sender_belongs_to_its_own_process_group_and_session() {
    // A session leader L whose child G leads a process group of its own: G belongs to
    // group G and to session L. The test runner's own session cannot serve, because its
    // leader may live outside this PID namespace (getsid then reports 0).
    let mut ends = [0; 2];
    // SAFETY: pipe writes two descriptors into the array it is given.
    assert_eq!(unsafe { libc::pipe(ends.as_mut_ptr()) }, 0);
    let [read_end, write_end] = ends;
    // SAFETY: the child calls only async-signal-safe functions (setsid, fork, setpgid,
    // getpid, write, pause, waitpid, _exit) before it exits.
    let leader = unsafe { libc::fork() };
    assert!(leader >= 0);
    if leader == 0 {
        // SAFETY: as above; nothing here allocates or returns.
        unsafe {
            libc::setsid();
            let member = libc::fork();
            if member == 0 {
                libc::setpgid(0, 0);
                let pid = libc::getpid().to_ne_bytes();
                libc::write(write_end, pid.as_ptr().cast(), pid.len());
                loop {
                    libc::pause();
                }
            }
            let mut status = 0;
            libc::waitpid(member, &mut status, 0);
            libc::_exit(0);
        }
    }
    // SAFETY: the write end belongs to the child now.
    unsafe { libc::close(write_end) };
    let mut pid = [0u8; 4];
    // SAFETY: reads at most four bytes into the array.
    let got = unsafe { libc::read(read_end, pid.as_mut_ptr().cast(), pid.len()) };
    // SAFETY: the read end is ours and no longer needed.
    unsafe { libc::close(read_end) };
    assert_eq!(got, 4);
    let member = Pid::from_ne_bytes(pid);
    let placed = (
        sender_belongs_to(member, member),
        sender_belongs_to(member, leader),
        sender_belongs_to(leader, member),
    );
    // SAFETY: kill and waitpid on processes this test created.
    unsafe {
        libc::kill(member, libc::SIGKILL);
        let mut status = 0;
        libc::waitpid(leader, &mut status, 0);
    }
    assert_eq!(
        placed,
        (true, true, false),
        "(own group, own session, leader in the member's group)"
    );
}

#[test]
fn a_sender_does_not_belong_to_another_group() {
    let mut other = Command::new("sleep")
        .arg("5")
        .process_group(0)
        .spawn()
        .unwrap();
    let other_group = other.id() as Pid;
    let me = std::process::id() as Pid;
    assert!(sender_belongs_to(other_group, other_group));
    assert!(!sender_belongs_to(me, other_group));
    other.kill().unwrap();
    other.wait().unwrap();
    assert!(
        !sender_belongs_to(other_group, other_group),
        "a vanished pid"
    );
}

#[test]
fn nonsense_pids_and_groups_belong_nowhere() {
    // SAFETY: getpgrp takes no pointers and cannot fail.
    let group = unsafe { libc::getpgrp() };
    let me = std::process::id() as Pid;
    for (pid, group) in [
        (0, group),
        (-1, group),
        (-me, group),
        (me, 0),
        (me, -group),
        (i32::MAX, group),
    ] {
        assert!(!sender_belongs_to(pid, group), "{pid} in {group}");
    }
}

#[test]
fn group_and_session_are_read_after_odd_command_names() {
    assert_eq!(group_and_session("12 (sh) S 7 12 13 0"), Some((12, 13)));
    assert_eq!(group_and_session("12 (a) b) (c) R 99 1 5 0"), Some((1, 5)));
    assert_eq!(group_and_session("12 (sh) S 7"), None);
    assert_eq!(group_and_session("garbage"), None);
}
