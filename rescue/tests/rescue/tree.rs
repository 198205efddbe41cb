//! The rescue crate depends on nothing, not even for its tests: `cargo tree` is one line.

use std::process::Command;

use crate::harness::TestResult;

#[test]
fn cargo_tree_of_phoenix_rescue_is_one_line() -> TestResult {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let output = Command::new(cargo)
        .args([
            "tree",
            "-p",
            "phoenix-rescue",
            "--offline",
            "--manifest-path",
            manifest,
        ])
        .output()?;
    let stdout = String::from_utf8(output.stdout)?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "cargo tree failed: {stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "phoenix-rescue has dependencies:\n{stdout}");
    assert!(lines[0].starts_with("phoenix-rescue v"), "{stdout}");
    Ok(())
}
