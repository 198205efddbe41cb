//! The dependency rule of DESIGN.md §2, checked: the pure core — units, services, the
//! supervisor, the protocol, tini mode's core and their vocabulary — imports neither the
//! OS crates nor `std::process`, and never reads the clock. Test files may (they need a
//! clock to make instants), so files named `tests.rs` or under a `tests/` folder are skipped.

use std::path::{Path, PathBuf};

const PURE: &[&str] = &[
    "src/unit",
    "src/power.rs",
    "src/boot/cmdline.rs",
    "src/boot/hostname.rs",
    "src/boot/mount_table.rs",
    "src/alerts",
    "src/service",
    "src/supervisor",
    "src/control/protocol.rs",
    "src/control/render.rs",
    "src/control/ctl_cli.rs",
    "src/control/check.rs",
    "src/core.rs",
    "src/disk_check.rs",
    "src/init.rs",
    "src/shutdown.rs",
    "src/cli.rs",
    "src/mode.rs",
    "src/health",
    "src/recovery",
    "src/exit_status.rs",
    "src/process_spec.rs",
    "src/envfile.rs",
    "src/timers.rs",
    "src/probe_target.rs",
    "src/notify.rs",
    "src/metrics",
    "src/output",
    "src/http/request.rs",
    "src/http/response.rs",
];

const FORBIDDEN: &[&str] = &[
    "nix::",
    "libc::",
    "mio::",
    "std::process",
    "std::net",
    "Instant::now",
    "SystemTime::now",
];

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            let entry = entry.unwrap().path();
            if entry.file_name() != Some("tests".as_ref()) {
                rust_files(&entry, out);
            }
        }
    } else if path.extension() == Some("rs".as_ref())
        && path.file_name() != Some("tests.rs".as_ref())
    {
        out.push(path.to_path_buf());
    }
}

#[test]
fn the_pure_core_stays_free_of_the_operating_system_and_the_clock() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for path in PURE {
        rust_files(&root.join(path), &mut files);
    }
    assert!(files.len() > 20, "found only {files:?}");
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        for word in FORBIDDEN {
            // `std::os::unix::fs` is fine; only a path that starts with the word counts.
            let uses = text.match_indices(word).any(|(at, _)| {
                let before = text[..at].chars().next_back();
                !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
            });
            assert!(!uses, "{} uses {word}", path.display());
        }
    }
}
