//! Tests of fork and exec.
use super::*;
use crate::process_spec::EnvironmentFileSpec;

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
