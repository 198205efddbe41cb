//! The root filesystem of a test container, built from the host: Debian's static busybox
//! with relative applet links, the built `phoenix` and `phoenixctl` in `/sbin`, and the
//! shared libraries `ldd` names for them (the dynamic loader included) at the same paths.
//! It only builds files; it never starts anything but `ldd`.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::TestResult;

/// Debian's busybox-static; the dynamic `busybox` package would need its own libraries.
const BUSYBOX: &str = "/bin/busybox";

/// The applets the tests' scripts use (`trap` is a shell builtin).
const APPLETS: &[&str] = &[
    "sh", "sleep", "cat", "echo", "ps", "kill", "touch", "ls", "test", "[", "mkdir", "rm", "grep",
    "date", "wc", "mv",
];

/// What an image has before anything runs in it; mount points are among them so a
/// read-only root needs nothing created at start.
const DIRECTORIES: &[&str] = &["bin", "sbin", "etc", "dev", "proc", "sys", "tmp", "run"];

/// The binaries under test and where the container finds them.
fn binaries() -> [(&'static str, &'static str); 2] {
    [
        (env!("CARGO_BIN_EXE_phoenix"), "sbin/phoenix"),
        (env!("CARGO_BIN_EXE_phoenixctl"), "sbin/phoenixctl"),
    ]
}

/// Fills `rootfs` (an empty directory) with everything the tests run.
pub fn build(rootfs: &Path) -> TestResult {
    for directory in DIRECTORIES {
        fs::create_dir_all(rootfs.join(directory))?;
    }
    fs::set_permissions(rootfs.join("tmp"), fs::Permissions::from_mode(0o1777))?;
    install_busybox(rootfs)?;
    for (host, inside) in binaries() {
        link_or_copy(Path::new(host), &rootfs.join(inside))?;
        for library in shared_libraries(Path::new(host))? {
            let target = inside_rootfs(rootfs, &library);
            if !target.exists() {
                copy_file(&library, &target)?;
            }
        }
    }
    Ok(())
}

/// `DIR/rest` for an absolute path `/rest` inside the container.
pub fn inside_rootfs(rootfs: &Path, path: &Path) -> PathBuf {
    rootfs.join(path.strip_prefix("/").unwrap_or(path))
}

/// busybox and its applets as relative links: `busybox --install -s` would write
/// absolute links to the host's `/bin/busybox`, which means nothing inside the container.
fn install_busybox(rootfs: &Path) -> TestResult {
    if !Path::new(BUSYBOX).is_file() {
        return Err(format!("{BUSYBOX} is missing: install busybox-static (.ci/run does)").into());
    }
    copy_file(Path::new(BUSYBOX), &rootfs.join("bin/busybox"))?;
    for applet in APPLETS {
        symlink("busybox", rootfs.join("bin").join(applet))?;
    }
    Ok(())
}

/// The libraries `ldd` resolves for `binary`: `name => /path (addr)` lines and the
/// loader's own `/path (addr)` line; the vDSO has no file and is left out.
fn shared_libraries(binary: &Path) -> TestResult<Vec<PathBuf>> {
    let output = Command::new("ldd")
        .arg(binary)
        .output()
        .map_err(|error| format!("unable to run ldd (libc-bin) on {binary:?}: {error}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "ldd {binary:?} failed ({}): {text}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    let mut libraries = Vec::new();
    for line in text.lines() {
        if line.contains("not found") {
            return Err(format!("ldd {binary:?}: a library is missing: {line}").into());
        }
        let resolved = line.split_once("=>").map_or(line, |(_, path)| path);
        if let Some(path) = resolved.split_whitespace().next() {
            if path.starts_with('/') {
                libraries.push(PathBuf::from(path));
            }
        }
    }
    if libraries.is_empty() {
        return Err(format!("ldd {binary:?} named no library: {text}").into());
    }
    Ok(libraries)
}

/// The binaries are tens of megabytes and every test has a rootfs of its own: a hard link
/// costs nothing when the temporary directory is on the same filesystem as the build.
fn link_or_copy(from: &Path, to: &Path) -> TestResult {
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent)?;
    }
    if fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    copy_file(from, to)
}

/// Copies the file a path names (a link such as `/lib64/ld-linux-x86-64.so.2` is
/// followed), creating the parents.
fn copy_file(from: &Path, to: &Path) -> TestResult {
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::copy(from, to).map_err(|error| format!("unable to copy {from:?} to {to:?}: {error}"))?;
    Ok(())
}
