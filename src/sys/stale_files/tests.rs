//! Tests of the stale-file checks, on real files, processes and locks.

use std::fs;
use std::os::unix::process::CommandExt;

use super::*;

fn removed(path: &Path, reason: &str) -> StaleFile {
    StaleFile::Removed {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

fn kept(path: &Path, reason: &str) -> StaleFile {
    StaleFile::Kept {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// The pid of a process that has exited and been waited for.
fn dead_pid() -> Pid {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    child.wait().unwrap();
    child.id() as Pid
}

#[test]
fn a_missing_file_gives_nothing() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(remove_stale_files(&[dir.path().join("web.pid")]), []);
}

#[test]
fn a_pid_file_of_a_dead_process_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("web.pid");
    let pid = dead_pid();
    fs::write(&path, format!("{pid}\n")).unwrap();
    let reason = format!("removed stale file {} (pid {pid} is gone)", path.display());
    assert_eq!(
        remove_stale_files(std::slice::from_ref(&path)),
        [removed(&path, &reason)]
    );
    assert!(!path.exists());
}

#[test]
fn a_pid_file_of_a_live_process_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("web.pid");
    let pid = std::process::id();
    fs::write(&path, format!(" {pid} \nsecond line\n")).unwrap();
    assert_eq!(
        remove_stale_files(std::slice::from_ref(&path)),
        [kept(&path, &format!("pid {pid} is alive"))]
    );
    assert!(path.exists());
}

#[test]
fn a_lock_nobody_holds_is_removed_and_a_held_one_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let free = dir.path().join("FREE");
    let held = dir.path().join("LOCK");
    fs::write(&free, "").unwrap();
    fs::write(&held, "not a pid\n").unwrap();
    // A lock belongs to an open file description: this one blocks the check's own open.
    let holder = Flock::lock(File::open(&held).unwrap(), FlockArg::LockExclusive).unwrap();
    let reason = format!("removed stale lock {} (nobody held it)", free.display());
    assert_eq!(
        remove_stale_files(&[free.clone(), held.clone()]),
        [
            removed(&free, &reason),
            kept(&held, "a process holds its lock")
        ]
    );
    assert!(!free.exists());
    assert!(held.exists());
    drop(holder);
    assert!(matches!(
        remove_stale_files(std::slice::from_ref(&held)).as_slice(),
        [StaleFile::Removed { .. }]
    ));
}

#[test]
fn a_lock_held_by_another_process_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("LOCK");
    let started = dir.path().join("started");
    fs::write(&path, "").unwrap();
    let script = format!("touch {}; exec sleep 30", started.display());
    let Ok(mut holder) = std::process::Command::new("flock")
        .arg(&path)
        .args(["sh", "-c", &script])
        .process_group(0)
        .spawn()
    else {
        eprintln!("skipped: no flock(1)");
        return;
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !started.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let found = remove_stale_files(std::slice::from_ref(&path));
    // The group: flock(1) and the sleep that inherited its locked descriptor.
    nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(holder.id() as Pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    holder.wait().unwrap();
    assert_eq!(found, [kept(&path, "a process holds its lock")]);
    assert!(path.exists());
}

/// A POSIX record lock (LevelDB's, RocksDB's, s6's) counts as held, though flock(2) does
/// not see it.
#[test]
fn a_record_lock_held_by_another_process_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("LOCK");
    let started = dir.path().join("started");
    fs::write(&path, "").unwrap();
    let script = "import fcntl, sys, time\nf = open(sys.argv[1], 'r+')\nfcntl.lockf(f, fcntl.LOCK_EX)\nopen(sys.argv[2], 'w').close()\ntime.sleep(30)";
    let mut holder = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&path)
        .arg(&started)
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !started.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let found = remove_stale_files(std::slice::from_ref(&path));
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert_eq!(found, [kept(&path, "a process holds a record lock on it")]);
    assert!(path.exists());
}

/// A link in a pid file's place is never followed (it could lead to a device node).
#[test]
fn a_symbolic_link_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target");
    fs::write(&target, "").unwrap();
    let link = dir.path().join("web.pid");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let found = remove_stale_files(std::slice::from_ref(&link));
    assert!(
        matches!(found.as_slice(), [StaleFile::LeftAlone { .. }]),
        "{found:?}"
    );
    assert!(link.exists() && target.exists());
}

#[test]
fn a_pid_of_zero_or_garbage_makes_it_a_lock_file() {
    let dir = tempfile::tempdir().unwrap();
    let zero = dir.path().join("zero");
    let negative = dir.path().join("negative");
    fs::write(&zero, "0\n").unwrap();
    fs::write(&negative, "-1\n").unwrap();
    let found = remove_stale_files(&[zero.clone(), negative.clone()]);
    assert!(
        matches!(
            found.as_slice(),
            [StaleFile::Removed { reason: a, .. }, StaleFile::Removed { reason: b, .. }]
                if a.contains("(nobody held it)") && b.contains("(nobody held it)")
        ),
        "{found:?}"
    );
}

#[test]
fn a_directory_or_a_fifo_is_left_alone_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let directory = dir.path().join("web.pid");
    fs::create_dir(&directory).unwrap();
    fs::write(directory.join("inside"), "1\n").unwrap();
    let fifo = dir.path().join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let found = remove_stale_files(&[directory.clone(), fifo.clone()]);
    assert_eq!(
        found,
        [
            StaleFile::LeftAlone {
                path: directory.clone(),
                warning: format!(
                    "stale file {} is a directory; left alone",
                    directory.display()
                ),
            },
            StaleFile::LeftAlone {
                path: fifo.clone(),
                warning: format!(
                    "stale file {} is not a regular file; left alone",
                    fifo.display()
                ),
            },
        ]
    );
    assert!(directory.join("inside").exists());
    assert!(fifo.exists());
}

#[test]
fn an_unreadable_file_is_left_alone_with_a_warning() {
    if nix::unistd::geteuid().is_root() {
        eprintln!("skipped: root reads every file");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("web.pid");
    fs::write(&path, "1\n").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o000)).unwrap();
    assert_eq!(
        remove_stale_files(std::slice::from_ref(&path)),
        [StaleFile::LeftAlone {
            path: path.clone(),
            warning: format!(
                "stale file {}: Permission denied; left alone",
                path.display()
            ),
        }]
    );
}
