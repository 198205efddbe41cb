//! Tests of fork and exec.
use super::*;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use crate::process_spec::EnvironmentFileSpec;
use crate::sys::spawn::program::resolve_program;

#[test]
fn resolves_like_execvp() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("tool");
    std::fs::write(&plain, "").unwrap();
    let search = OsString::from(format!("/nonexistent:{}", dir.path().display()));
    // Found but not executable: returned, so exec fails with EACCES.
    assert_eq!(resolve_program("tool", &search), Some(plain.clone()));
    std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(resolve_program("tool", &search), Some(plain));
    assert_eq!(resolve_program("missing-tool", &search), None);
    assert_eq!(resolve_program("", &search), None);
    assert_eq!(resolve_program("./x", &search), Some(PathBuf::from("./x")));
}

#[test]
fn a_program_found_once_is_remembered_until_forgotten() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("a");
    let second = dir.path().join("b");
    for bin in [&first, &second] {
        std::fs::create_dir(bin).unwrap();
    }
    let tool = "phoenix-remembered-tool";
    let late = second.join(tool);
    std::fs::write(&late, "").unwrap();
    std::fs::set_permissions(&late, std::fs::Permissions::from_mode(0o755)).unwrap();
    let search = OsString::from(format!("{}:{}", first.display(), second.display()));
    assert_eq!(resolve_remembered(tool, &search), Some(late.clone()));
    // One earlier on the path now: still the remembered one, no directory is read again…
    let early = first.join(tool);
    std::fs::write(&early, "").unwrap();
    std::fs::set_permissions(&early, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(resolve_remembered(tool, &search), Some(late));
    // …until a reload or a failed exec forgets it.
    forget_programs();
    assert_eq!(resolve_remembered(tool, &search), Some(early));
}

/// Waits for this test's own child only: other tests run in parallel threads.
fn wait_for(pid: Pid) -> i32 {
    let mut status = 0;
    loop {
        // SAFETY: `status` is a valid out-pointer; `pid` is our own child.
        let result = unsafe { libc::waitpid(pid, &mut status, 0) };
        if result == pid {
            return status;
        }
        assert_eq!(Errno::last(), Errno::EINTR, "waitpid {pid}");
    }
}

fn spawn_spec(spec: &ProcessSpec) -> Result<Pid, SpawnError> {
    start(spec).map(|started| started.pid)
}

fn start(spec: &ProcessSpec) -> Result<Started, SpawnError> {
    let signals = crate::sys::signals::ChildSignals {
        original_mask: *nix::sys::signal::SigSet::empty().as_ref(),
        empty_mask: *nix::sys::signal::SigSet::empty().as_ref(),
        ignored: vec![libc::SIGPIPE],
        changed_by_phoenix: vec![libc::SIGPIPE],
    };
    spawn(spec, &signals, &mut crate::sys::pipes::NoPipes)
}

#[test]
fn runs_as_the_user_with_umask_stdin_and_environment_file() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: changing credentials needs root");
        return;
    }
    // Under /tmp rather than $TMPDIR, which may sit in a directory nobody cannot enter.
    let dir = tempfile::Builder::new().tempdir_in("/tmp").unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let env_file = dir.path().join("env");
    std::fs::write(&env_file, "# settings\nexport FROM_FILE='from the file'\n").unwrap();
    let script = "id -u > out; id -g >> out; id -G >> out; umask >> out; \
                  echo \"$FROM_FILE\" >> out; echo \"$USER $HOME\" >> out; \
                  readlink /proc/self/fd/0 >> out; cat > stdin-copy";
    let argv = ["/bin/sh", "-c", script].map(String::from).to_vec();
    let mut spec = ProcessSpec::command("as-nobody", argv, Placement::NewSession);
    spec.user = Some("nobody".into());
    spec.umask = Some(0o027);
    spec.stdin_null = true;
    spec.working_directory = Some(dir.path().to_path_buf());
    spec.environment_files = vec![
        EnvironmentFileSpec {
            path: env_file,
            optional: false,
        },
        EnvironmentFileSpec {
            path: dir.path().join("missing"),
            optional: true,
        },
    ];

    let pid = spawn_spec(&spec).unwrap();
    let status = wait_for(pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{status:#x}"
    );

    let groups = resolve_credentials(Some("nobody"), None)
        .unwrap()
        .groups
        .unwrap();
    let groups = groups
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(" ");
    let out = std::fs::read_to_string(dir.path().join("out")).unwrap();
    let expected =
        format!("65534\n65534\n{groups}\n0027\nfrom the file\nnobody /nonexistent\n/dev/null\n");
    assert_eq!(out, expected);
    let copy = std::fs::metadata(dir.path().join("stdin-copy")).unwrap();
    assert_eq!(copy.len(), 0);
    assert_eq!(copy.permissions().mode() & 0o777, 0o640);
    assert_eq!(std::os::unix::fs::MetadataExt::uid(&copy), 65534);
    assert_eq!(std::os::unix::fs::MetadataExt::gid(&copy), 65534);
}

#[test]
fn a_missing_working_directory_fails_at_chdir() {
    let argv = vec!["/bin/true".to_string()];
    let mut spec = ProcessSpec::command("no-dir", argv, Placement::NewSession);
    spec.working_directory = Some(PathBuf::from("/nonexistent/phoenix-dir"));
    let error = spawn_spec(&spec).unwrap_err();
    assert!(error.message.starts_with("chdir"), "{}", error.message);
    assert_eq!(
        error.message,
        "chdir /nonexistent/phoenix-dir: No such file or directory"
    );
    assert_eq!(error.errno, libc::ENOENT);
    let pid = error.pid.unwrap();
    let status = wait_for(pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 127,
        "{status:#x}"
    );
}

#[test]
fn an_unknown_user_fails_before_the_fork() {
    let mut spec = ProcessSpec::command("x", vec!["/bin/true".into()], Placement::NewSession);
    spec.user = Some("phoenix-no-such-user".into());
    let error = spawn_spec(&spec).unwrap_err();
    assert_eq!(error.pid, None);
    assert_eq!(error.message, "unknown user 'phoenix-no-such-user'");
}

#[test]
fn a_missing_required_environment_file_fails_before_the_fork() {
    let mut spec = ProcessSpec::command("x", vec!["/bin/true".into()], Placement::NewSession);
    spec.environment_files = vec![EnvironmentFileSpec {
        path: PathBuf::from("/nonexistent/phoenix-env"),
        optional: false,
    }];
    let error = spawn_spec(&spec).unwrap_err();
    assert_eq!(error.pid, None);
    assert_eq!(error.errno, libc::ENOENT);
}

#[test]
fn a_failed_credential_step_is_named_with_its_id() {
    let mut spec = ProcessSpec::command("x", vec!["/bin/true".into()], Placement::NewSession);
    spec.user = Some("nobody".into());
    let prepared = prepare(&spec).unwrap();
    let error = child_failed(1, Step::Setuid as i32, libc::EPERM, &spec, &prepared);
    assert_eq!(error.message, "setuid 65534: Operation not permitted");
    let error = child_failed(1, Step::Setgid as i32, libc::EPERM, &spec, &prepared);
    assert_eq!(error.message, "setgid 65534: Operation not permitted");
    let error = child_failed(1, Step::Setgroups as i32, libc::EPERM, &spec, &prepared);
    assert!(
        error.message.starts_with("setgroups [65534"),
        "{}",
        error.message
    );
}

#[test]
fn every_step_survives_the_pipe() {
    for step in Step::ALL {
        assert_eq!(Step::from_code(step as i32), Some(step));
    }
    assert_eq!(Step::from_code(0), None);
}

#[test]
fn the_watchdog_variables_name_the_service_and_its_own_pid() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let script = format!("echo $WATCHDOG_PID $$ $WATCHDOG_USEC > {}", out.display());
    let argv = ["/bin/sh", "-c", &script].map(String::from).to_vec();
    let mut spec = ProcessSpec::command("watched", argv, Placement::NewSession);
    spec.watchdog_usec = Some(30_000_000);
    // Stale values inherited from the spec (or Phoenix's own supervisor) are replaced.
    spec.environment = vec![
        ("WATCHDOG_PID".into(), Some("1".into())),
        ("WATCHDOG_USEC".into(), Some("5".into())),
    ];
    let pid = spawn_spec(&spec).unwrap();
    let status = wait_for(pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{status:#x}"
    );
    let line = std::fs::read_to_string(&out).unwrap();
    assert_eq!(line, format!("{pid} {pid} 30000000\n"));
}

#[test]
fn without_a_watchdog_no_pid_variable_is_added() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let script = format!("echo \"${{WATCHDOG_PID-unset}}\" > {}", out.display());
    let argv = ["/bin/sh", "-c", &script].map(String::from).to_vec();
    let spec = ProcessSpec::command("plain", argv, Placement::NewSession);
    let pid = spawn_spec(&spec).unwrap();
    wait_for(pid);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "unset\n");
}

/// The inode of a pipe, as `/proc/PID/fd/N` links name it: `pipe:[INODE]`.
fn pipe_name(fd: &OwnedFd) -> String {
    let metadata = nix::sys::stat::fstat(fd).unwrap();
    format!("pipe:[{}]", metadata.st_ino)
}

#[test]
fn the_readiness_pipe_reaches_the_service_only_as_its_descriptor() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    // Every descriptor the service holds, with what it refers to; then the line.
    let script = format!(
        "for fd in /proc/self/fd/*; do echo \"${{fd##*/}} $(readlink $fd)\"; done > {}; echo >&7",
        out.display()
    );
    let argv = ["/bin/sh", "-c", &script].map(String::from).to_vec();
    let mut spec = ProcessSpec::command("fd", argv, Placement::NewSession);
    spec.readiness_fd = Some(7);
    let started = start(&spec).unwrap();
    let read_end = started.readiness.unwrap();
    let name = pipe_name(&read_end);
    let status = wait_for(started.pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{status:#x}"
    );
    let listing = std::fs::read_to_string(&out).unwrap();
    let holding: Vec<&str> = listing
        .lines()
        .filter(|line| line.ends_with(&name))
        .collect();
    assert_eq!(holding, [format!("7 {name}")], "{listing}");
    let mut line = [0u8; 8];
    assert_eq!(nix::unistd::read(&read_end, &mut line).unwrap(), 1);
    assert_eq!(line[0], b'\n');
    assert_eq!(
        nix::unistd::read(&read_end, &mut line).unwrap(),
        0,
        "Phoenix holds no write end"
    );
    // Phoenix's end does not block and does not reach the next child.
    let flags = nix::fcntl::fcntl(&read_end, nix::fcntl::FcntlArg::F_GETFL).unwrap();
    assert_ne!(flags & libc::O_NONBLOCK, 0);
    let flags = nix::fcntl::fcntl(&read_end, nix::fcntl::FcntlArg::F_GETFD).unwrap();
    assert_ne!(flags & libc::FD_CLOEXEC, 0);
}

#[test]
fn a_readiness_descriptor_below_three_is_refused_before_the_fork() {
    let mut spec = ProcessSpec::command("x", vec!["/bin/true".into()], Placement::NewSession);
    spec.readiness_fd = Some(1);
    let error = start(&spec).unwrap_err();
    assert_eq!(error.pid, None);
    assert_eq!(error.message, "readiness descriptor 1: expected 3 or more");
}

#[test]
fn a_readiness_descriptor_beyond_the_limit_fails_in_the_child() {
    let mut spec = ProcessSpec::command("x", vec!["/bin/true".into()], Placement::NewSession);
    spec.readiness_fd = Some(i32::MAX);
    let error = start(&spec).unwrap_err();
    assert_eq!(
        error.message,
        format!("readiness descriptor {}: Bad file descriptor", i32::MAX)
    );
    wait_for(error.pid.unwrap());
}

#[test]
fn what_the_child_changes_before_exec_stays_its_own() {
    // The child runs in Phoenix's memory until exec: its umask, directory, credentials
    // and OOM score must still be its own, never Phoenix's (here: the test process's).
    let status_line = |key: &str| {
        std::fs::read_to_string("/proc/self/status")
            .unwrap()
            .lines()
            .find(|line| line.starts_with(key))
            .unwrap()
            .to_string()
    };
    let oom = || std::fs::read_to_string("/proc/self/oom_score_adj").unwrap();
    let (umask, uid, dir, score) = (
        status_line("Umask:"),
        status_line("Uid:"),
        std::env::current_dir().unwrap(),
        oom(),
    );
    let mut spec = ProcessSpec::command("x", vec!["/bin/true".into()], Placement::NewSession);
    spec.umask = Some(0o077);
    spec.working_directory = Some(PathBuf::from("/"));
    spec.limits.oom_score_adjust = Some(500);
    if nix::unistd::geteuid().is_root() {
        spec.user = Some("nobody".into());
    }
    let pid = spawn_spec(&spec).unwrap();
    let status = wait_for(pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{status:#x}"
    );
    assert_eq!(status_line("Umask:"), umask);
    assert_eq!(status_line("Uid:"), uid);
    assert_eq!(std::env::current_dir().unwrap(), dir);
    assert_eq!(oom(), score);
}
