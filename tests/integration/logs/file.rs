//! Log files: rotation keeps exactly `keep` files and never splits a line across two
//! (only a line over 16 KiB is cut, at 16 KiB), bytes that are not UTF-8 pass unchanged,
//! and a file that cannot be opened is one warning while the ring still gets the lines.

use crate::control::ctl::{phoenixctl, start};
use crate::harness::TestResult;
use crate::services::setup::ServicesDir;

const LINE_LENGTH: usize = 100;

#[test]
fn rotation_keeps_exactly_keep_files_and_splits_no_line() -> TestResult {
    let layout = ServicesDir::new()?;
    let log = layout.path("web.log");
    // 3000 lines of 100 bytes (300 KB over 32 KiB files), then one line of 40000 bytes.
    let script = "i=0; while [ $i -lt 3000 ]; do printf 'line %05d %088d\\\\n' $i 0; i=$((i+1)); done; head -c 40000 /dev/zero | tr '\\\\0' L; echo; touch done; exec sleep 1000";
    layout.unit(
        "web",
        &format!(
            "command = \"{script}\"\n[log]\nfile = {:?}\nmax-size = \"32KiB\"\nkeep = 3\n",
            log.display()
        ),
    )?;
    let phoenix = start(layout)?;
    phoenix.wait_for_file("done")?;
    phoenix.eventually("the long line's end is written", || {
        phoenix
            .read("web.log")
            .ends_with(&format!("{}\n", "L".repeat(40000 - 2 * 16384)))
    })?;
    let mut files: Vec<String> = std::fs::read_dir(phoenix.dir())?
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("web.log"))
        .collect();
    files.sort();
    assert_eq!(files, ["web.log", "web.log.1", "web.log.2"]);
    for name in &files {
        let text = phoenix.read(name);
        assert!(text.len() <= 32 * 1024, "{name} is {} bytes", text.len());
        assert!(text.ends_with('\n'), "{name} ends mid-line");
        for line in text.lines() {
            let is_numbered = line.len() == LINE_LENGTH - 1 && line.starts_with("line ");
            let is_long_piece = line.bytes().all(|byte| byte == b'L')
                && (line.len() == 16384 || line.len() == 40000 - 2 * 16384);
            assert!(
                is_numbered || is_long_piece,
                "{name}: a split line: {line:?}"
            );
        }
    }
    Ok(())
}

#[test]
fn invalid_utf8_passes_unchanged_to_the_file() -> TestResult {
    let layout = ServicesDir::new()?;
    let log = layout.path("bin.log");
    layout.unit(
        "bin",
        &format!(
            "command = \"printf 'a\\\\377\\\\376b\\\\300\\\\n'; exec sleep 1000\"\n[log]\nfile = {:?}\n",
            log.display()
        ),
    )?;
    let phoenix = start(layout)?;
    phoenix.eventually("the bytes are in the file", || {
        std::fs::read(phoenix.path("bin.log")).is_ok_and(|bytes| bytes == b"a\xff\xfeb\xc0\n")
    })?;
    Ok(())
}

#[test]
fn an_unwritable_file_is_one_warning_and_the_ring_still_has_the_lines() -> TestResult {
    let layout = ServicesDir::new()?;
    let log = layout.path("missing/dir/web.log");
    layout.unit(
        "web",
        &format!(
            "command = \"for i in 1 2 3; do echo ring line $i; done; exec sleep 1000\"\n[log]\nfile = {:?}\n",
            log.display()
        ),
    )?;
    let phoenix = start(layout)?;
    phoenix.eventually("logs has the lines", || {
        phoenixctl(&phoenix, &["logs", "web"])
            .is_ok_and(|outcome| outcome.stdout.contains("ring line 3"))
    })?;
    let warnings = phoenix.stderr().matches("opening").count();
    assert_eq!(warnings, 1, "{}", phoenix.context());
    Ok(())
}
