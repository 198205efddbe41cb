//! An s6 service directory: the input's NUL-separated fields become its files (`unit.toml`,
//! `down-signal`, `timeout-kill`, `timeout-finish`, `notification-fd`, `env/VAR`, then
//! `down` and `log/` when present), written to a scratch directory and read back with
//! `read_service_dir`, as Phoenix reads one at start and on reload.
#![no_main]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use libfuzzer_sys::fuzz_target;
use phoenix::unit::s6dir::read_service_dir;

const FILES: [&str; 6] = [
    "unit.toml",
    "down-signal",
    "timeout-kill",
    "timeout-finish",
    "notification-fd",
    "env/VAR",
];

fn scratch() -> PathBuf {
    let base = Path::new("/dev/shm");
    let base = if base.is_dir() {
        base.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    base.join(format!("phoenix-fuzz-s6-{}", std::process::id()))
}

fn write_run(path: &Path) {
    let _ = fs::write(path, "#!/bin/sh\nexec sleep 1\n");
    let _ = fs::set_permissions(path, fs::Permissions::from_mode(0o755));
}

fuzz_target!(|data: &[u8]| {
    let dir = scratch().join("service");
    let _ = fs::remove_dir_all(&dir);
    if fs::create_dir_all(dir.join("env")).is_err() {
        return;
    }
    write_run(&dir.join("run"));
    let fields: Vec<&[u8]> = data.split(|&byte| byte == 0).collect();
    for (file, content) in FILES.iter().zip(&fields) {
        if !content.is_empty() || *file == "env/VAR" {
            let _ = fs::write(dir.join(file), content);
        }
    }
    if fields.len() > FILES.len() {
        let _ = fs::write(dir.join("down"), "");
    }
    if fields.len() > FILES.len() + 1 {
        let _ = fs::create_dir(dir.join("log"));
        write_run(&dir.join("log/run"));
    }
    match read_service_dir("service", &dir) {
        Ok(service) => {
            let _ = format!("{service:?}");
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
});
