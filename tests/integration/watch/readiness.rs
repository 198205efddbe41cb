//! `starting` lasts until ready, and what is ordered after a service waits for that, not
//! for its exec: `systemd-notify --ready` from a shell script, s6's `s6-notifyoncheck` on
//! a notification-fd, and exec, tcp and http checks polled until they pass. Not ready in
//! time is a counted failure; a notify datagram from outside the service changes nothing.

use std::process::Command;

use super::servers::free_port;
use crate::control::ctl::{run, service_json, start, state_of, wait_for_state};
use crate::harness::{DEADLINE, Phoenix, TestResult};
use crate::services::setup::ServicesDir;

/// A dependent that records its start in `order.log`.
const DEPENDENT: &str = r#"command = "echo web >> order.log; exec sleep 1000"
after = ["db"]
"#;

/// Asserts that `db` became ready before `web` started, from the order in `order.log`.
#[track_caller]
fn assert_web_started_after_ready(phoenix: &Phoenix) -> TestResult {
    phoenix.wait_for_lines("order.log", 2)?;
    assert_eq!(
        phoenix.lines("order.log"),
        ["db ready", "web"],
        "{}",
        phoenix.context()
    );
    Ok(())
}

/// Waits until `db` has started and is still `starting`, with `web` not started.
#[track_caller]
fn assert_waiting(phoenix: &Phoenix) -> TestResult {
    phoenix.wait_for_file("db.started")?;
    wait_for_state(phoenix, "db", "starting")?;
    assert!(
        !phoenix.exists("order.log"),
        "web started early{}",
        phoenix.context()
    );
    Ok(())
}

#[test]
fn systemd_notify_ready_from_a_shell_script() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit(
        "db",
        r#"command = '''
touch db.started
while [ ! -e go ]; do sleep 0.01; done
echo "db ready" >> order.log
systemd-notify --ready --status="accepting connections"
exec sleep 1000
'''
[ready]
check = "notify"
"#,
    )?;
    layout.unit("web", DEPENDENT)?;
    let phoenix = start(layout)?;
    assert_waiting(&phoenix)?;
    phoenix.touch("go")?;
    assert_web_started_after_ready(&phoenix)?;
    phoenix.wait_for_log("db: starting → running (ready: READY=1)")?;
    let db = service_json(&phoenix, "db")?;
    assert_eq!(db["status_text"], "accepting connections", "{db}");
    Ok(())
}

#[test]
fn s6_notifyoncheck_on_a_notification_fd() -> TestResult {
    let layout = ServicesDir::new()?;
    let go = layout.path("go");
    layout.file(
        "services.d/db/run",
        "#!/bin/sh\ntouch ../../db.started\nexec s6-notifyoncheck -w 20 sh -c 'exec sleep 1000'\n",
        0o755,
    )?;
    layout.file("services.d/db/notification-fd", "3\n", 0o644)?;
    layout.file(
        "services.d/db/data/check",
        &format!(
            "#!/bin/sh\n[ -e {go} ] || exit 1\necho \"db ready\" >> ../../order.log\n",
            go = go.display()
        ),
        0o755,
    )?;
    layout.unit("web", DEPENDENT)?;
    let phoenix = start(layout)?;
    assert_waiting(&phoenix)?;
    phoenix.touch("go")?;
    assert_web_started_after_ready(&phoenix)?;
    phoenix.wait_for_log("db: starting → running (ready: a line on fd 3)")?;
    Ok(())
}

/// `db` waits for `go`, writes "db ready", then becomes what `check` probes for.
fn polled(check: &str, serve: &str) -> String {
    format!(
        r#"command = '''
touch db.started
while [ ! -e go ]; do sleep 0.01; done
echo "db ready" >> order.log
{serve}
'''
[ready]
{check}
interval = "50ms"
"#
    )
}

/// `db`, ready once `test -e db.up` passes, which it makes true after "db ready".
fn exec_ready_db() -> String {
    polled(
        "check = \"exec\"\ncommand = [\"test\", \"-e\", \"db.up\"]",
        "touch db.up; exec sleep 1000",
    )
}

#[test]
fn exec_check_polls_until_it_exits_0() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit("db", &exec_ready_db())?;
    layout.unit("web", DEPENDENT)?;
    let phoenix = start(layout)?;
    assert_waiting(&phoenix)?;
    phoenix.touch("go")?;
    assert_web_started_after_ready(&phoenix)?;
    phoenix.wait_for_log("db: starting → running (ready: exec test -e db.up)")?;
    Ok(())
}

#[test]
fn tcp_and_http_checks_against_a_real_http_server() -> TestResult {
    for check in ["tcp", "http"] {
        let port = free_port()?;
        let key = match check {
            "tcp" => format!("address = \"127.0.0.1:{port}\""),
            _ => format!("url = \"http://127.0.0.1:{port}/\""),
        };
        let layout = ServicesDir::new()?;
        layout.unit(
            "db",
            &polled(
                &format!("check = \"{check}\"\n{key}"),
                &format!("exec /usr/bin/python3 -m http.server {port} --bind 127.0.0.1"),
            ),
        )?;
        layout.unit("web", DEPENDENT)?;
        let phoenix = start(layout)?;
        assert_waiting(&phoenix)?;
        phoenix.touch("go")?;
        assert_web_started_after_ready(&phoenix)?;
        let ready = match check {
            "tcp" => format!("ready: tcp 127.0.0.1:{port}"),
            _ => format!("ready: http://127.0.0.1:{port}/"),
        };
        phoenix.wait_for_log(&format!("db: starting → running ({ready})"))?;
    }
    Ok(())
}

#[test]
fn not_ready_in_time_is_a_failure_that_backs_off() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit(
        "db",
        r#"command = "echo start >> db.log; exec sleep 1000"
[ready]
check = "notify"
timeout = "300ms"
[restart]
delay = "200ms"
"#,
    )?;
    let phoenix = start(layout)?;
    phoenix.wait_for_log("db: not ready after 300ms, stopping it")?;
    phoenix.wait_for_log("not ready after 300ms, retry in 200ms")?;
    phoenix.wait_for_lines("db.log", 2)?;
    let db = service_json(&phoenix, "db")?;
    let deaths = db["deaths"].as_array().ok_or("no deaths")?;
    let first = deaths.first().ok_or("no death")?;
    assert_eq!(
        (&first["verdict"], &first["reason"]),
        (&"failure".into(), &"not ready after 300ms".into()),
        "{db}"
    );
    Ok(())
}

#[test]
fn datagrams_from_outside_the_service_are_ignored() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit(
        "db",
        "command = \"touch db.started; exec sleep 1000\"\n[ready]\ncheck = \"notify\"\n",
    )?;
    // Another service of the same Phoenix, in a session of its own, tries to pass for db.
    layout.unit(
        "intruder",
        r#"kind = "oneshot"
command = '''
while [ ! -S run/notify/db.sock ]; do sleep 0.01; done
NOTIFY_SOCKET=$PWD/run/notify/db.sock systemd-notify --ready --status=intruder
touch intruder.done
'''
"#,
    )?;
    let phoenix = start(layout)?;
    phoenix.wait_for_file("intruder.done")?;
    // And a process outside Phoenix's namespace altogether. systemd-notify returns once
    // Phoenix has read (and dropped) its datagram.
    let socket = phoenix.path("run/notify/db.sock");
    let mut command = Command::new("systemd-notify");
    command
        .args(["--ready", "--status=outsider"])
        .env("NOTIFY_SOCKET", &socket);
    run(command, DEADLINE)?;
    assert_eq!(
        state_of(&phoenix, "db").as_deref(),
        Some("starting"),
        "{}",
        phoenix.context()
    );
    let db = service_json(&phoenix, "db")?;
    assert_eq!(db["status_text"], serde_json::Value::Null, "{db}");
    Ok(())
}

/// The main command given with `--services` and `phoenixctl restart --wait` wait for
/// ready too, not for exec.
#[test]
fn the_main_command_and_restart_wait_follow_ready() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit("db", &exec_ready_db())?;
    let phoenix = layout.start(&["--", "sh", "-c", "echo main >> order.log; exec sleep 1000"])?;
    phoenix.wait_for_file("db.started")?;
    crate::control::ctl::wait_for_state(&phoenix, "db", "starting")?;
    assert!(
        !phoenix.exists("order.log"),
        "main started early{}",
        phoenix.context()
    );
    phoenix.touch("go")?;
    phoenix.wait_for_lines("order.log", 2)?;
    assert_eq!(
        phoenix.lines("order.log"),
        ["db ready", "main"],
        "{}",
        phoenix.context()
    );
    // Not ready again (go and db.up are gone): --wait gives up at its timeout, since the
    // restarted db is still starting.
    std::fs::remove_file(phoenix.path("go"))?;
    std::fs::remove_file(phoenix.path("db.up"))?;
    let waited =
        crate::control::ctl::phoenixctl(&phoenix, &["restart", "db", "--wait", "--timeout", "1s"])?;
    assert_eq!(waited.code, 1, "{waited:?}");
    phoenix.touch("go")?;
    crate::control::ctl::wait_for_state(&phoenix, "db", "running")?;
    Ok(())
}

/// `db`, waiting for `go`, then ready once `db.up` exists; its exec check appends a line to
/// `probes.log` at each poll, so a test sees Phoenix keep waiting.
fn counted_exec_ready_db() -> String {
    polled(
        r#"check = "exec"
command = ["sh", "-c", "echo probe >> probes.log; test -e db.up"]"#,
        "exec sleep 1000",
    )
}

/// Waits until `db`'s readiness check has failed a few times, `db` still starting: long
/// enough for whatever wrongly took the exec for ready to have moved on.
#[track_caller]
fn wait_for_failed_probes(phoenix: &Phoenix) -> TestResult {
    wait_for_state(phoenix, "db", "starting")?;
    phoenix.wait_for_lines("probes.log", 3)?;
    wait_for_state(phoenix, "db", "starting")
}

/// A service that `requires` another waits for its readiness, as one `after` it does.
#[test]
fn a_requires_dependent_starts_only_once_its_dependency_is_ready() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit("db", &counted_exec_ready_db())?;
    layout.unit(
        "web",
        "command = \"echo web >> order.log; exec sleep 1000\"\nrequires = [\"db\"]\n",
    )?;
    let phoenix = start(layout)?;
    phoenix.touch("go")?;
    phoenix.wait_for_lines("order.log", 1)?;
    wait_for_failed_probes(&phoenix)?;
    assert_eq!(
        phoenix.lines("order.log"),
        ["db ready"],
        "web started before db was ready{}",
        phoenix.context()
    );
    phoenix.touch("db.up")?;
    assert_web_started_after_ready(&phoenix)?;
    phoenix.wait_for_log("db: starting → running (ready: exec sh -c")?;
    Ok(())
}

/// `phoenixctl start --wait NAME` returns once NAME is ready, not once it has exec'd.
#[test]
fn start_wait_returns_only_once_the_service_is_ready() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.unit(
        "db",
        &format!("enabled = false\n{}", counted_exec_ready_db()),
    )?;
    let phoenix = start(layout)?;
    wait_for_state(&phoenix, "db", "down")?;
    phoenix.touch("go")?;
    let mut command = crate::control::ctl::phoenixctl_command(&phoenix);
    command.args(["start", "db", "--wait"]);
    let waiting =
        std::thread::spawn(move || run(command, 2 * DEADLINE).map_err(|error| error.to_string()));
    wait_for_failed_probes(&phoenix)?;
    assert!(
        !waiting.is_finished(),
        "phoenixctl start --wait returned while db was starting: {:?}{}",
        waiting.join().map_err(|_| "the waiting thread panicked")?,
        phoenix.context()
    );
    phoenix.touch("db.up")?;
    let outcome = waiting
        .join()
        .map_err(|_| "the waiting thread panicked")??
        .ok()?;
    assert!(
        outcome.stdout.ends_with("db is running\n"),
        "{outcome:?}{}",
        phoenix.context()
    );
    assert_eq!(state_of(&phoenix, "db").as_deref(), Some("running"));
    Ok(())
}

/// A flood of datagrams (oversized, or from a stranger) costs bounded memory and time: the
/// service stays starting, Phoenix keeps answering, its memory stays small.
#[test]
fn a_flood_of_notify_datagrams_changes_nothing() -> TestResult {
    use std::os::unix::net::UnixDatagram;
    let layout = ServicesDir::new()?;
    layout.unit(
        "db",
        "command = \"touch db.started; exec sleep 1000\"\n[ready]\ncheck = \"notify\"\n",
    )?;
    let phoenix = start(layout)?;
    phoenix.wait_for_file("db.started")?;
    let socket = phoenix.path("run/notify/db.sock");
    phoenix.eventually("the notify socket exists", || socket.exists())?;
    let sender = UnixDatagram::unbound()?;
    sender.set_nonblocking(true)?;
    let oversized = vec![b'x'; 8192];
    let mut sent = 0;
    for round in 0..20_000 {
        let datagram: &[u8] = if round % 2 == 0 {
            &oversized
        } else {
            b"READY=1"
        };
        if sender.send_to(datagram, &socket).is_ok() {
            sent += 1;
        }
    }
    assert!(sent > 0, "nothing could be sent");
    assert_eq!(
        state_of(&phoenix, "db").as_deref(),
        Some("starting"),
        "{}",
        phoenix.context()
    );
    let rss_kib: u64 = crate::procfs::status_field(phoenix.pid()?, "VmRSS")
        .and_then(|value| value.split_whitespace().next()?.parse().ok())
        .ok_or("no VmRSS")?;
    assert!(
        rss_kib < 32 * 1024,
        "phoenix uses {rss_kib} KiB after the flood"
    );
    Ok(())
}

/// Descriptors passed with notify datagrams never pile up in PID 1, even when they do not
/// fit its descriptor table (the kernel then cuts the control data): a service sending
/// hundreds of them, with Phoenix limited to 128 descriptors, leaves Phoenix's table as it
/// was, and its READY=1 still counts.
#[test]
fn passed_descriptors_never_pile_up_in_phoenix() -> TestResult {
    let layout = ServicesDir::new()?;
    layout.file(
        "flood.py",
        r#"
import array, os, socket
fd = os.open("/dev/null", os.O_RDONLY)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for _ in range(5):
    s.sendmsg([b"STATUS=flood"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd] * 250))], 0, os.environ["NOTIFY_SOCKET"])
open("flood.done", "w").close()
"#,
        0o644,
    )?;
    layout.unit(
        "db",
        r#"command = '''
while [ ! -e go ]; do sleep 0.01; done
/usr/bin/python3 flood.py
systemd-notify --ready
exec sleep 1000
'''
[ready]
check = "notify"
"#,
    )?;
    let args = layout.args();
    let dir = layout.into_dir();
    let phoenix =
        crate::harness::Pid1::start_wrapped(dir, &[], &["prlimit", "--nofile=128:128"], args)?;
    let fds = |phoenix: &Phoenix| {
        phoenix
            .pid()
            .ok()
            .and_then(|pid| std::fs::read_dir(format!("/proc/{pid}/fd")).ok())
            .map_or(0, |entries| entries.count())
    };
    wait_for_state(&phoenix, "db", "starting")?;
    let before = fds(&phoenix);
    phoenix.touch("go")?;
    phoenix.wait_for_file("flood.done")?;
    wait_for_state(&phoenix, "db", "running")?;
    let after = fds(&phoenix);
    assert!(
        after <= before + 4,
        "{after} descriptors open in phoenix after the flood, {before} before{}",
        phoenix.context()
    );
    Ok(())
}
